#!/usr/bin/env bash
# N trivial tasks through `grit run` (embedded node) against the same N `sh -c` invocations
# through `xargs -P <cores>`. Prints both wall times and their ratio.
#
#   bench/trivial.sh [N]        (default N = 10000)
set -euo pipefail
n=${1:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
cores=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Build once, outside the timings.
"$here/grit" --version >/dev/null

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

# Baseline: the same inputs, the same script, N processes through xargs.
mkdir -p "$work/in" "$work/out"
i=1
while [ $i -le "$n" ]; do echo "item $i" > "$work/in/item_$i"; i=$((i + 1)); done
t0=$(now)
(cd "$work/in" && ls | xargs -P "$cores" -I{} sh -c 'tr a-z A-Z < "$1" > "../out/$1"' _ {})
t1=$(now)
xargs_s=$(echo "$t1 - $t0" | bc -l)

t0=$(now)
"$here/grit" run "$work/trivial.toml" --db "$work/db" --quiet
t1=$(now)
grit_s=$(echo "$t1 - $t0" | bc -l)

tasks=$(( n + 1 ))
printf '%-28s %10s %12s\n' "runner ($cores cores)" "seconds" "tasks/s"
printf '%-28s %10.2f %12.0f\n' "xargs -P $cores (N sh -c)" "$xargs_s" "$(echo "$n / $xargs_s" | bc -l)"
printf '%-28s %10.2f %12.0f\n' "grit run (N+1 tasks)" "$grit_s" "$(echo "$tasks / $grit_s" | bc -l)"
printf 'ratio grit / xargs: %.2f\n' "$(echo "$grit_s / $xargs_s" | bc -l)"
