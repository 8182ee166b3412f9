#!/usr/bin/env bash
# The trivial pipeline (a start step writing N files, a step upper-casing each: N + 1 tasks) on
# the embedded node and on a three-node cluster of `grit node` JVMs on this machine, in plain text
# and with mutual TLS and HTTPS with tokens (certificates from grit tls init; each cluster twice,
# in the order plain, TLS, TLS, plain), against the same N `sh -c` invocations through
# `xargs -P <cores>`. Prints them side by side, and the node JVMs' CPU per task.
#
#   bench/cluster.sh [N]        (default N = 10000)
#   GRIT=/path/to/other/grit bench/cluster.sh     measures another build's launcher
set -euo pipefail
n=${1:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
grit=${GRIT:-$here/grit}
cores=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-bench.XXXXXX")
pids=()
cleanup() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$grit" --version >/dev/null

. "$here/bench/trivial-manifest.sh"
trivial_manifest "$n" >"$work/trivial.toml"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }

mkdir -p "$work/in" "$work/out"
i=1
while [ $i -le "$n" ]; do echo "item $i" > "$work/in/item_$i"; i=$((i + 1)); done
t0=$(now)
(cd "$work/in" && ls | xargs -P "$cores" -I{} sh -c 'tr a-z A-Z < "$1" > "../out/$1"' _ {})
xargs_s=$(secs "$t0" "$(now)")

t0=$(now)
"$grit" run "$work/trivial.toml" --db "$work/embedded" --quiet
embedded_s=$(secs "$t0" "$(now)")

# CPU time (user + system, clock ticks) the given processes have used so far.
cpu_ticks() {
  local total=0 p
  for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$total"
}

# One three-node cluster run: plain (loopback, no credentials) or tls; sets cluster_s and
# cluster_cpu_s, the CPU time the three node JVMs used during the run (steadier than wall time on
# a busy machine).
run_cluster() {
  local mode=$1 base scheme curl_tls=() node_tls=() client_env=()
  base=$((20000 + RANDOM % 20000))
  peers="n1=127.0.0.1:$base,n2=127.0.0.1:$((base + 1)),n3=127.0.0.1:$((base + 2))"
  scheme=http
  if [ "$mode" = tls ]; then
    rm -rf "$work/tls"
    "$grit" tls init "$work/tls" --ids n1,n2,n3 2>/dev/null
    token=$("$grit" token new --role submit --append "$work/tls/nodes/tokens" 2>/dev/null)
    scheme=https
    node_tls=(--tls "$work/tls/nodes")
    curl_tls=(--cacert "$work/tls/ca.crt")
    client_env=(GRIT_CACERT="$work/tls/ca.crt" GRIT_TOKEN="$token")
  fi
  pids=()
  for k in 1 2 3; do
    "$grit" node --id "n$k" --peers "$peers" --http "127.0.0.1:$((base + 10 + k))" \
      --data "$work/$mode-n$k" --slots "$cores" "${node_tls[@]}" >"$work/$mode-n$k.log" 2>&1 &
    pids+=($!)
  done
  servers="$scheme://127.0.0.1:$((base + 11)),$scheme://127.0.0.1:$((base + 12)),$scheme://127.0.0.1:$((base + 13))"
  for k in 1 2 3; do
    until curl -sf "${curl_tls[@]}" "$scheme://127.0.0.1:$((base + 10 + k))/readyz" >/dev/null; do sleep 0.2; done
  done
  t0=$(now)
  c0=$(cpu_ticks "${pids[@]}")
  env "${client_env[@]}" "$grit" submit "$work/trivial.toml" --server "$servers" --wait >/dev/null
  cluster_s=$(secs "$t0" "$(now)")
  cluster_cpu_s=$(echo "($(cpu_ticks "${pids[@]}") - $c0) / $(getconf CLK_TCK)" | bc -l)
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}

# Plain, TLS, TLS, plain: whatever drifts during the run (a cold first cluster, other load on
# the machine) weighs on both alike. Each figure is the mean of its two runs.
plain_s=0 plain_cpu_s=0 tls_s=0 tls_cpu_s=0
for mode in plain tls tls plain; do
  run_cluster "$mode"
  if [ "$mode" = plain ]; then
    plain_s=$(echo "$plain_s + $cluster_s / 2" | bc -l)
    plain_cpu_s=$(echo "$plain_cpu_s + $cluster_cpu_s / 2" | bc -l)
  else
    tls_s=$(echo "$tls_s + $cluster_s / 2" | bc -l)
    tls_cpu_s=$(echo "$tls_cpu_s + $cluster_cpu_s / 2" | bc -l)
  fi
  rm -rf "$work/$mode"-n?
done

tasks=$((n + 1))
printf '%-34s %10s %10s %8s\n' "runner (one machine, $cores cores)" "seconds" "tasks/s" "ratio"
printf '%-34s %10.2f %10.0f %8s\n' "xargs -P $cores (N sh -c)" "$xargs_s" "$(echo "$n / $xargs_s" | bc -l)" "1.00"
printf '%-34s %10.2f %10.0f %8.2f\n' "grit run, embedded (N+1 tasks)" "$embedded_s" "$(echo "$tasks / $embedded_s" | bc -l)" "$(echo "$embedded_s / $xargs_s" | bc -l)"
printf '%-34s %10.2f %10.0f %8.2f\n' "grit, 3 node JVMs, plain (N+1)" "$plain_s" "$(echo "$tasks / $plain_s" | bc -l)" "$(echo "$plain_s / $xargs_s" | bc -l)"
printf '%-34s %10.2f %10.0f %8.2f\n' "grit, 3 node JVMs, TLS (N+1)" "$tls_s" "$(echo "$tasks / $tls_s" | bc -l)" "$(echo "$tls_s / $xargs_s" | bc -l)"
printf 'node JVMs CPU per task: plain %.2f ms, TLS %.2f ms; TLS/plain: wall time %.2fx, CPU %.2fx\n' \
  "$(echo "1000 * $plain_cpu_s / $tasks" | bc -l)" "$(echo "1000 * $tls_cpu_s / $tasks" | bc -l)" \
  "$(echo "$tls_s / $plain_s" | bc -l)" "$(echo "$tls_cpu_s / $plain_cpu_s" | bc -l)"
