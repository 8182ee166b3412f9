#!/usr/bin/env bash
# Does a long history slow grit down? The trivial pipeline (N+1 tasks) run embedded on a fresh
# record and on a record that already holds FINISHED finished tasks (built quickly through the
# apply rules, see BigRecord), alternately, twice each. Prints both and their ratio.
#
#   bench/history.sh [FINISHED] [N]        (defaults: 1000000 and 10000)
#   GRIT_BENCH_REPEAT=1 bench/history.sh    (each run once instead of twice)
#   GRIT_BENCH_RECORD=DIR bench/history.sh  (the long record in DIR, built there if absent, kept)
set -euo pipefail
finished=${1:-1000000}
n=${2:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-history.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$here/grit" --version >/dev/null
cp="$here/node/target/grit-node.jar:$here/node/target/lib/*"
width=1000
history=${GRIT_BENCH_RECORD:-$work/history}
if [ ! -d "$history" ]; then
  java -cp "$cp" -Dorg.slf4j.simpleLogger.defaultLogLevel=error dev.grit.node.bench.BigRecord \
    "$history" "$(( (finished + width) / (width + 1) ))" "$width"
fi

. "$here/bench/trivial-manifest.sh"
trivial_manifest "$n" >"$work/trivial.toml"

now() { date +%s.%N; }
run() { # $1: a data directory to start from, or "" for a fresh one; prints the seconds taken
  rm -rf "$work/db"
  if [ -n "$1" ]; then cp -r "$1" "$work/db"; fi
  local t0
  t0=$(now)
  "$here/grit" run "$work/trivial.toml" --db "$work/db" --quiet
  echo "$(now) - $t0" | bc -l
}

repeat=${GRIT_BENCH_REPEAT:-2}
fresh=0
long=0
for k in $(seq "$repeat"); do
  fresh=$(echo "$fresh + $(run "")" | bc -l)
  long=$(echo "$long + $(run "$history")" | bc -l)
done
printf '%-46s %10s\n' "trivial pipeline, $((n + 1)) tasks, embedded" "seconds"
printf '%-46s %10.2f\n' "fresh record (mean of $repeat)" "$(echo "$fresh / $repeat" | bc -l)"
printf '%-46s %10.2f\n' "record holding $finished finished tasks (mean of $repeat)" "$(echo "$long / $repeat" | bc -l)"
printf 'ratio long history / fresh: %.2f (record %s)\n' "$(echo "$long / $fresh" | bc -l)" \
  "$(du -sh "$history" | cut -f1)"
