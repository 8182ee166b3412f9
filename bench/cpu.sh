# Sourced by the benchmarks (bash 5): CPU time of a command, beside its wall time.
#
#   timed OUT CMD...   runs CMD and writes "WALL_S CPU_S OWN_S" to OUT: CPU_S is the CPU time of
#                      CMD and of every process it started (as time(1) counts it), OWN_S that of
#                      CMD's own process alone (a launcher that execs java: the JVM's threads).
#   cpu_of PID         the CPU seconds process PID has used so far, "OWN CHILDREN" (children are
#                      counted once reaped).
#
# Between its two readings of the CPU time, timed starts no process but CMD (a sleep or an awk
# per poll would count as CMD's CPU): it polls with builtins only.
clk_tck=$(getconf CLK_TCK)
cpu_sh_times=$(mktemp "${TMPDIR:-/tmp}/grit-times.XXXXXX")
exec {cpu_sh_never}<> <(:)

# Sets cpu_sh_ms to the CPU milliseconds of this shell's reaped children, from the times builtin
# ("0m1.234s"). Not in a subshell: a subshell's times counts only its own children.
children_ms() {
  times >"$cpu_sh_times"
  local self children
  { read -r self; read -r children; } <"$cpu_sh_times"
  local user=${children%% *} sys=${children##* } total=0 v
  for v in "$user" "$sys"; do
    v=${v%s}
    local min=${v%%m*} sec=${v#*m}
    local whole=${sec%.*} frac=${sec#*.}
    total=$((total + min * 60000 + 10#$whole * 1000 + 10#${frac:0:3}))
  done
  cpu_sh_ms=$total
}

# The stat(5) fields utime stime cutime cstime of process $1, in clock ticks.
stat_ticks() {
  local stat
  read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
  stat=${stat##*) } # after the command name, which may hold spaces
  local -a f
  read -ra f <<<"$stat" # f[0] is field 3: utime is f[11]
  echo "${f[11]} ${f[12]} ${f[13]} ${f[14]}"
}

cpu_of() {
  local u s cu cs
  read -r u s cu cs < <(stat_ticks "$1")
  awk -v o="$((u + s))" -v c="$((cu + cs))" -v hz="$clk_tck" 'BEGIN {printf "%.2f %.2f\n", o / hz, c / hz}'
}

timed() {
  local out=$1
  shift
  local c0 t0 pid own=0 status=0 stat
  children_ms
  c0=$cpu_sh_ms
  t0=$EPOCHREALTIME
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if read -r stat <"/proc/$pid/stat" 2>/dev/null; then
      stat=${stat##*) }
      local -a f
      read -ra f <<<"$stat"
      own=$((f[11] + f[12]))
    fi
    read -rt 0.1 -u "$cpu_sh_never" || true
  done
  wait "$pid" || status=$?
  local t1=$EPOCHREALTIME c1
  children_ms
  c1=$cpu_sh_ms
  awk -v t0="$t0" -v t1="$t1" -v c="$((c1 - c0))" -v o="$own" -v hz="$clk_tck" \
    'BEGIN {printf "%.3f %.3f %.3f\n", t1 - t0, c / 1000, o / hz}' >"$out"
  return "$status"
}
