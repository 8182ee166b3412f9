#!/usr/bin/env bash
# Raft commit throughput of grit's command path (node/.../bench/CommitThroughput.java), one
# member beside three, in one run: small commands, and task changes (a run's tasks assigned and
# reported, 32 to an entry) as entries and task changes per second. With three members,
# leadership moves to another member halfway through each part; every proposal must succeed and
# every member's record must end with every task succeeded.
#
#   bench/commit.sh [COMMANDS] [IN_FLIGHT]        (defaults 20000 and 64)
set -euo pipefail
commands=${1:-20000}
in_flight=${2:-64}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-commit.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$here/grit" --version >/dev/null
cp="$here/node/target/grit-node.jar:$here/node/target/lib/*"
for members in 1 3; do
  # As grit itself logs (node/.../cli/Logging.java): Ratis's client quiet about tries it repeats.
  java -XX:+UseSerialGC -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
    -Dorg.slf4j.simpleLogger.log.org.apache.ratis.client.impl.OrderedAsync=off \
    "-Dgrit.native.dir=$here/node/target/native" \
    dev.grit.node.bench.CommitThroughput "$members" "$commands" "$in_flight" "$work"
done
