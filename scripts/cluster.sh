#!/usr/bin/env bash
# Starts a local three-node grit cluster on loopback and stops it on Ctrl-C.
#
#   scripts/cluster.sh [DATA_DIR]        (default: ./cluster-data)
#
# Raft on 127.0.0.1:9871-9873 (mutual TLS), HTTPS API on 127.0.0.1:8081-8083 (bearer tokens).
# The first start makes a CA and member certificates in DATA_DIR/tls and an admin token in
# DATA_DIR/admin.token, as one would for a real cluster (see deploy/README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-./cluster-data}
peers="n1=127.0.0.1:9871,n2=127.0.0.1:9872,n3=127.0.0.1:9873"

"$here/grit" --version >/dev/null   # builds once if needed

if [ ! -f "$data/tls/ca.crt" ]; then
  "$here/grit" tls init "$data/tls" --ids n1,n2,n3 2>/dev/null
  "$here/grit" token new --role admin --name local --append "$data/tls/nodes/tokens" >"$data/admin.token" 2>/dev/null
  chmod 600 "$data/admin.token"
fi

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
    --tls "$data/tls/nodes" >"$data/n$i.log" 2>&1 &
  pids+=($!)
done
echo "grit cluster: https://127.0.0.1:8081 https://127.0.0.1:8082 https://127.0.0.1:8083 (logs in $data/n*.log)" >&2
echo "try: export GRIT_ADDR=https://127.0.0.1:8082 GRIT_CACERT=$data/tls/ca.crt GRIT_TOKEN=\$(cat $data/admin.token)" >&2
echo "     ./grit submit examples/workflow.toml --watch" >&2
wait "${pids[@]}"
