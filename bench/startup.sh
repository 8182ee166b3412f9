#!/usr/bin/env bash
# Start-up of the grit command line beside the JVM's own floor (`java -version`), in one run:
# `grit lint` of the README example, `grit run` of it on a fresh record, the same run again with
# nothing to do, `grit plan` of it against that record, then two commands asking a node (one
# `grit node` on loopback, started outside the timings): `grit plan --server` and `grit list`.
# Each is repeated; the table gives the median wall time and the median CPU time (user + system,
# the process and its children) of the repetitions.
#
#   bench/startup.sh [REPEATS]        (default 7)
#   GRIT=/path/to/other/grit bench/startup.sh     measures another build's launcher
set -euo pipefail
repeats=${1:-7}
here=$(cd "$(dirname "$0")/.." && pwd)
grit=${GRIT:-$here/grit}
example="$here/examples/workflow.toml"
work=$(mktemp -d "${TMPDIR:-/tmp}/grit-bench.XXXXXX")
node=
trap '[ -z "$node" ] || { kill -TERM "$node"; wait "$node"; } 2>/dev/null; rm -rf "$work"' EXIT

# Build (and prepare the launcher's files) outside the timings.
"$grit" --version >/dev/null

# measure NAME CMD...: runs CMD $repeats times, prints NAME, median wall s, median CPU s.
measure() {
  local name=$1
  shift
  local walls=() cpus=()
  for ((i = 0; i < repeats; i++)); do
    if [ -n "${before:-}" ]; then eval "$before"; fi
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/err" || {
      cat "$work/err" >&2
      exit 1
    }
    read -r wall user sys <"$work/time"
    walls+=("$wall")
    cpus+=("$(echo "$user + $sys" | bc -l)")
  done
  printf '%-40s %8.2f %8.2f\n' "$name" "$(median "${walls[@]}")" "$(median "${cpus[@]}")"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

printf '%-40s %8s %8s\n' "command ($(nproc) cores, median of $repeats)" "wall s" "CPU s"
measure "java -version (the JVM's floor)" java -version
measure "grit lint" "$grit" lint "$example"
before='rm -rf "$work/fresh"' measure "grit run, fresh record" "$grit" run "$example" --db "$work/fresh" --quiet
"$grit" run "$example" --db "$work/again" --quiet >/dev/null
measure "grit run again, nothing to do" "$grit" run "$example" --db "$work/again" --quiet
measure "grit plan (local record)" "$grit" plan "$example" --db "$work/again"

base=$((20000 + RANDOM % 20000))
server="http://127.0.0.1:$((base + 1))"
"$grit" node --id n1 --peers "n1=127.0.0.1:$base" --http "127.0.0.1:$((base + 1))" \
  --data "$work/node" >"$work/node.log" 2>&1 &
node=$!
until curl -sf "$server/readyz" >/dev/null; do
  kill -0 "$node" 2>/dev/null || { cat "$work/node.log" >&2; exit 1; }
  sleep 0.2
done
measure "grit plan --server (asks a node)" "$grit" plan "$example" --server "$server"
measure "grit list --server (asks a node)" "$grit" list --server "$server"
