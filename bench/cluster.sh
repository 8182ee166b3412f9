#!/usr/bin/env bash
# The trivial pipeline (a start step writing N files, a step upper-casing each: N + 1 tasks) on
# the embedded node and on a three-node cluster of `grit node` JVMs on this machine, against the
# same N `sh -c` invocations through `xargs -P <cores>`. Prints the three side by side.
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

cat >"$work/trivial.toml" <<TOML
name = "bench-trivial"

[[step]]
name = "make"
script = '''
i=1
while [ \$i -le $n ]; do
  echo "item \$i" > "\$OUTPUT_DIR/item_\$i"
  i=\$((i + 1))
done
'''

[[step]]
name = "upper"
inputs = ["item_*"]
script = "tr a-z A-Z < \"\$INPUT_FILE\" > \"\$OUTPUT_DIR/upper\""
TOML

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

base=$((20000 + RANDOM % 20000))
peers="n1=127.0.0.1:$base,n2=127.0.0.1:$((base + 1)),n3=127.0.0.1:$((base + 2))"
for k in 1 2 3; do
  "$grit" node --id "n$k" --peers "$peers" --http "127.0.0.1:$((base + 10 + k))" \
    --data "$work/n$k" --slots "$cores" >"$work/n$k.log" 2>&1 &
  pids+=($!)
done
servers="http://127.0.0.1:$((base + 11)),http://127.0.0.1:$((base + 12)),http://127.0.0.1:$((base + 13))"
for k in 1 2 3; do
  until curl -sf "http://127.0.0.1:$((base + 10 + k))/readyz" >/dev/null; do sleep 0.2; done
done
t0=$(now)
"$grit" submit "$work/trivial.toml" --server "$servers" --wait >/dev/null
cluster_s=$(secs "$t0" "$(now)")

tasks=$((n + 1))
printf '%-34s %10s %10s %8s\n' "runner (one machine, $cores cores)" "seconds" "tasks/s" "ratio"
printf '%-34s %10.2f %10.0f %8s\n' "xargs -P $cores (N sh -c)" "$xargs_s" "$(echo "$n / $xargs_s" | bc -l)" "1.00"
printf '%-34s %10.2f %10.0f %8.2f\n' "grit run, embedded (N+1 tasks)" "$embedded_s" "$(echo "$tasks / $embedded_s" | bc -l)" "$(echo "$embedded_s / $xargs_s" | bc -l)"
printf '%-34s %10.2f %10.0f %8.2f\n' "grit, 3 node JVMs (N+1 tasks)" "$cluster_s" "$(echo "$tasks / $cluster_s" | bc -l)" "$(echo "$cluster_s / $xargs_s" | bc -l)"
