#!/usr/bin/env bash
# Starts a local three-node grit cluster on loopback and stops it on Ctrl-C.
#
#   scripts/cluster.sh [DATA_DIR]        (default: ./cluster-data)
#
# Raft on 127.0.0.1:9871-9873, HTTP API on 127.0.0.1:8081-8083.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-./cluster-data}
peers="n1=127.0.0.1:9871,n2=127.0.0.1:9872,n3=127.0.0.1:9873"

"$here/grit" --version >/dev/null   # builds once if needed

pids=()
stopped=
stop() {
  [ -n "$stopped" ] && return
  stopped=1
  echo "stopping the cluster ..." >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

for i in 1 2 3; do
  mkdir -p "$data/n$i"
  "$here/grit" node --id "n$i" --peers "$peers" --http "127.0.0.1:808$i" --data "$data/n$i" \
    >"$data/n$i.log" 2>&1 &
  pids+=($!)
done
echo "grit cluster: http://127.0.0.1:8081 http://127.0.0.1:8082 http://127.0.0.1:8083 (logs in $data/n*.log)" >&2
echo "try: GRIT_ADDR=http://127.0.0.1:8082 ./grit submit examples/workflow.toml --watch" >&2
wait "${pids[@]}"
