#!/usr/bin/env bash
# N trivial tasks through `grit run` (embedded node) against the same N `sh -c` invocations
# through `xargs -P <cores>`, in one run. Prints both wall times, their ratio, and CPU time: all of
# it (the runner and every script it started) per task, and the grit JVM's own per task (its
# threads only: scheduling, the record, FUSE, spawning and reaping the scripts).
#
#   bench/trivial.sh [N]        (default N = 10000)
#   GRIT=/path/to/other/grit bench/trivial.sh     measures another build's launcher
set -euo pipefail
n=${1:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
grit=${GRIT:-$here/grit}
cores=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$here/bench/cpu.sh"

# Build once, outside the timings.
"$grit" --version >/dev/null

. "$here/bench/trivial-manifest.sh"
trivial_manifest "$n" >"$work/trivial.toml"

# Baseline: the same inputs, the same script, N processes through xargs.
mkdir -p "$work/in" "$work/out"
i=1
while [ $i -le "$n" ]; do echo "item $i" > "$work/in/item_$i"; i=$((i + 1)); done
timed "$work/xargs" sh -c "cd '$work/in' && ls | xargs -P $cores -I{} sh -c 'tr a-z A-Z < \"\$1\" > \"../out/\$1\"' _ {}"
timed "$work/grit" "$grit" run "$work/trivial.toml" --db "$work/db" --quiet

tasks=$((n + 1))
read -r xargs_s xargs_cpu _ <"$work/xargs"
read -r grit_s grit_cpu grit_own <"$work/grit"
printf '%-30s %9s %9s %7s %14s %14s\n' "runner ($cores cores)" "seconds" "tasks/s" "ratio" "CPU ms/task" "own CPU ms/task"
printf '%-30s %9.2f %9.0f %7s %14.2f %14s\n' "xargs -P $cores (N sh -c)" "$xargs_s" \
  "$(echo "$n / $xargs_s" | bc -l)" "1.00" "$(echo "1000 * $xargs_cpu / $n" | bc -l)" "-"
printf '%-30s %9.2f %9.0f %7.2f %14.2f %14.2f\n' "grit run (N+1 tasks)" "$grit_s" \
  "$(echo "$tasks / $grit_s" | bc -l)" "$(echo "$grit_s / $xargs_s" | bc -l)" \
  "$(echo "1000 * $grit_cpu / $tasks" | bc -l)" "$(echo "1000 * $grit_own / $tasks" | bc -l)"
