#!/usr/bin/env bash
# Ingest and replication of one large output (default 1 GiB), beside what this machine can do
# with the same bytes, measured in the same run: Java SHA-256 of the file (grit's chunked hashing),
# and a sequential write + fsync of the same size. Also the Raft commit throughput of the command
# path (small commands, 64 in flight) on one member and on three, the three also with mutual TLS.
#
#   bench/ingest.sh [MiB]        (default 1024)
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
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
rate() { echo "$mib * 1.048576 / $1" | bc -l; }

head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/big"
limits=$(java -cp "$cp" dev.grit.node.bench.MachineLimits "$work/big" "$work")
hash_mb_s=$(echo "$limits" | awk '/hash_mb_s/ {print $2}')
write_mb_s=$(echo "$limits" | awk '/write_fsync_mb_s/ {print $2}')

cat >"$work/big.toml" <<TOML
name = "bench-ingest"

[[step]]
name = "big"
env = { BIG = "$work/big" }
script = 'cat "\$BIG" > "\$OUTPUT_DIR/big"'
TOML

t0=$(now)
"$here/grit" run "$work/big.toml" --db "$work/embedded" --quiet
embedded_s=$(secs "$t0" "$(now)")

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
"$here/grit" submit "$work/big.toml" --server "$servers" --wait >/dev/null
cluster_s=$(secs "$t0" "$(now)")
hash=$("$here/grit" export big --server "$servers" | cut -f1)
t0=$(now)
for k in 1 2 3; do
  curl -sf "http://127.0.0.1:$((base + 10 + k))/v1/objects/$hash" -o /dev/null
done
read_s=$(secs "$t0" "$(now)")

printf '%-52s %10s\n' "$mib MiB, one machine, $(nproc) cores" "MB/s"
printf '%-52s %10.0f\n' "machine: SHA-256 (whole + 4 MiB chunks), Java" "$hash_mb_s"
printf '%-52s %10.0f\n' "machine: sequential write + fsync" "$write_mb_s"
printf '%-52s %10.0f\n' "grit run, embedded: script output to stored object" "$(rate "$embedded_s")"
printf '%-52s %10.0f\n' "grit, 3 node JVMs: output stored on all three" "$(rate "$cluster_s")"
printf '%-52s %10.0f\n' "grit, 3 node JVMs: object read back from each node" "$(rate "$(echo "$read_s / 3" | bc -l)")"

java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.CommitThroughput 1 20000 64 "$work"
java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.CommitThroughput 3 20000 64 "$work"
java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.CommitThroughput 3 20000 64 "$work" tls
