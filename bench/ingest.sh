#!/usr/bin/env bash
# Ingest and replication of one large output (default 1 GiB), beside what this machine can do
# with the same bytes, measured in the same run: Java SHA-256 of the file (grit's chunked hashing),
# a sequential write + fsync of the same size (dd), and the log path alone (ChunkThroughput: the
# chunks proposed, verified, stored and committed with no script and no start-up). Each grit run
# is timed against the same run with an empty output, so start-up and shutdown are left out of the
# rate; peak RSS is reported for every JVM. Then the Raft commit throughput of the command path
# (small commands, 64 in flight) on one member and on three, the three also with mutual TLS.
#
#   bench/ingest.sh [MiB]        (default 1024)
#   GRIT_BENCH_HEAP=256m bench/ingest.sh 4096    (every grit JVM with -Xmx256m)
#   GRIT_BENCH_COMMITS=no ...    (leave out the commit throughput)
set -euo pipefail
mib=${1:-1024}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-ingest.XXXXXX")
pids=()
cleanup() {
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$here/grit" --version >/dev/null
cp="$here/node/target/grit-node.jar:$here/node/target/lib/*"
base_opts="-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djdk.lang.Process.launchMechanism=VFORK"
opts=$base_opts
if [ -n "${GRIT_BENCH_HEAP:-}" ]; then
  opts="$opts -Xmx$GRIT_BENCH_HEAP"
fi
export GRIT_JAVA_OPTS="$opts"
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
rate() { echo "$mib * 1.048576 / $1" | bc -l; }

head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/big"
limits=$(java -cp "$cp" dev.grit.node.bench.MachineLimits "$work/big" "$work")
hash_mb_s=$(echo "$limits" | awk '/hash_mb_s/ {print $2}')
dd_mb_s=$(echo "$mib * 1.048576 / $(dd if=/dev/zero of="$work/dd" bs=1M count="$mib" conv=fsync 2>&1 | awk '/copied/ {print $(NF-3)}')" | bc -l)
rm -f "$work/dd"
log_path() { # $1: members; the log path's MB/s, or 0 for a build without ChunkThroughput
  if unzip -l "$here/node/target/grit-node.jar" | grep -q bench/ChunkThroughput; then
    # Its members share one JVM: the default heap, whatever GRIT_BENCH_HEAP gives the others.
    java -cp "$cp" $base_opts -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
      dev.grit.node.bench.ChunkThroughput "$1" "$mib" 4 "$work" 2>/dev/null | awk '/chunks_mb_s/ {print $2}'
  else
    echo 0
  fi
}
log1=$(log_path 1)
log3=$(log_path 3)

manifest() { # $1: the file the step copies to its output
  cat <<TOML
name = "bench-ingest"

[[step]]
name = "big"
env = { BIG = "$1" }
script = 'cat "\$BIG" > "\$OUTPUT_DIR/big"'
TOML
}
: >"$work/empty"
manifest "$work/big" >"$work/big.toml"
manifest "$work/empty" >"$work/empty.toml"

embedded() { # $1: output mode, $2: manifest; prints "seconds peak_rss_mib"
  rm -rf "$work/embedded"
  GRIT_OUTPUT=$1 /usr/bin/time -f '%e %M' -o "$work/time" \
    "$here/grit" run "$2" --db "$work/embedded" --quiet
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$work/time"
}
read -r fuse_empty _ < <(embedded fuse "$work/empty.toml")
read -r fuse_s fuse_rss < <(embedded fuse "$work/big.toml")
read -r plain_empty _ < <(embedded plain "$work/empty.toml")
read -r plain_s plain_rss < <(embedded plain "$work/big.toml")

base=$((20000 + RANDOM % 20000))
peers="n1=127.0.0.1:$base,n2=127.0.0.1:$((base + 1)),n3=127.0.0.1:$((base + 2))"
for k in 1 2 3; do
  "$here/grit" node --id "n$k" --peers "$peers" --http "127.0.0.1:$((base + 10 + k))" \
    --data "$work/n$k" >"$work/n$k.log" 2>&1 &
  pids+=($!)
done
for k in 1 2 3; do
  until curl -sf "http://127.0.0.1:$((base + 10 + k))/readyz" >/dev/null; do sleep 0.2; done
done
servers="http://127.0.0.1:$((base + 11)),http://127.0.0.1:$((base + 12)),http://127.0.0.1:$((base + 13))"
t0=$(now)
"$here/grit" submit "$work/empty.toml" --server "$servers" --wait >/dev/null
cluster_empty=$(secs "$t0" "$(now)")
t0=$(now)
"$here/grit" submit "$work/big.toml" --server "$servers" --wait >/dev/null
cluster_s=$(secs "$t0" "$(now)")
hash=$("$here/grit" export big --server "$servers" | head -1 | cut -f1) # the latest "big"
# The run ends when its report is applied where the client asked; wait until every member has
# the object's bytes too (the stored rate counts all three).
for k in 1 2 3; do
  until curl -sf "http://127.0.0.1:$((base + 10 + k))/v1/objects/$hash" -o /dev/null; do sleep 0.1; done
done
stored_s=$(secs "$t0" "$(now)")
t0=$(now)
for k in 1 2 3; do
  curl -sf "http://127.0.0.1:$((base + 10 + k))/v1/objects/$hash" -o /dev/null
done
read_s=$(secs "$t0" "$(now)")
rss=""
for p in "${pids[@]}"; do
  rss="$rss $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$p/status")"
done

printf '%-56s %10s %14s\n' "$mib MiB, one machine, $(nproc) cores${GRIT_BENCH_HEAP:+, -Xmx$GRIT_BENCH_HEAP}" "MB/s" "peak RSS MiB"
printf '%-56s %10.0f\n' "machine: SHA-256 (whole + 4 MiB chunks), Java" "$hash_mb_s"
printf '%-56s %10.0f\n' "machine: sequential write + fsync (dd)" "$dd_mb_s"
printf '%-56s %10.0f\n' "grit log path alone, 1 member (ChunkThroughput)" "$log1"
printf '%-56s %10.0f\n' "grit log path alone, 3 members in one JVM" "$log3"
printf '%-56s %10.0f %14s\n' "grit run, embedded, FUSE: output stored" "$(rate "$(secs "$fuse_empty" "$fuse_s")")" "$fuse_rss"
printf '%-56s %10.0f %14s\n' "grit run, embedded, plain directory: output stored" "$(rate "$(secs "$plain_empty" "$plain_s")")" "$plain_rss"
printf '%-56s %10.0f\n' "grit, 3 node JVMs: run ended (output stored on a majority)" "$(rate "$(secs "$cluster_empty" "$cluster_s")")"
printf '%-56s %10.0f %14s\n' "grit, 3 node JVMs: output stored on all three" "$(rate "$(secs "$cluster_empty" "$stored_s")")" "${rss# }"
printf '%-56s %10.0f\n' "grit, 3 node JVMs: object read back from each node" "$(rate "$(echo "$read_s / 3" | bc -l)")"
printf '(start-up left out: the same runs with an empty output took %.1f s FUSE, %.1f s plain, %.1f s on the cluster)\n' \
  "$fuse_empty" "$plain_empty" "$cluster_empty"
printf '(the node JVMs logged %d ERROR lines)\n' "$(cat "$work"/n*.log | grep -c ' ERROR ' || true)"

if [ "${GRIT_BENCH_COMMITS:-yes}" = yes ]; then
  java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.CommitThroughput 1 20000 64 "$work"
  java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.CommitThroughput 3 20000 64 "$work"
  java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.CommitThroughput 3 20000 64 "$work" tls
fi
