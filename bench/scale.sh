#!/usr/bin/env bash
# Does grit scale linearly to 100,000 tasks? The trivial pipeline with N1 and N2 items run
# embedded, with the wall time and the node's peak RSS of each, and the ratio of the times.
#
#   bench/scale.sh [N1] [N2]        (defaults: 10000 and 100000)
set -euo pipefail
n1=${1:-10000}
n2=${2:-100000}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$here/grit" --version >/dev/null

. "$here/bench/trivial-manifest.sh"

run() { # $1: items; prints "seconds rss_mib"
  trivial_manifest "$1" >"$work/t$1.toml"
  rm -rf "$work/db"
  /usr/bin/time -f '%e %M' -o "$work/time" "$here/grit" run "$work/t$1.toml" --db "$work/db" --quiet
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$work/time"
}

read -r s1 r1 < <(run "$n1")
read -r s2 r2 < <(run "$n2")
printf '%-30s %10s %12s\n' "trivial pipeline, embedded" "seconds" "peak RSS MiB"
printf '%-30s %10.2f %12s\n' "$((n1 + 1)) tasks" "$s1" "$r1"
printf '%-30s %10.2f %12s\n' "$((n2 + 1)) tasks" "$s2" "$r2"
printf 'time(%d) / time(%d): %.2f (linear: %.1f)\n' "$n2" "$n1" "$(echo "$s2 / $s1" | bc -l)" \
  "$(echo "$n2 / $n1" | bc -l)"
