# What every end-to-end script under Tests/e2e/ shares (sourced, not run): a temp dir, a cleanup
# that stops every process the script started (also when a check fails or the run is
# interrupted), checks counted into one verdict, waits on a condition with a deadline instead of
# fixed sleeps, and free ports. Tests/e2e/sipp/harness.sh adds Kamailio and sipp on top.
#
#   source "$(dirname "$0")/lib/harness.sh"
#   e2e_init NAME [TOOL...]          # E2E_DIR (temp), E2E_ROOT (the repository), the trap; TOOLs must exist
#   e2e_track PID [--group]          # stopped at cleanup (--group: with its whole session/process group)
#   e2e_untrack PID [--group]        # no longer (it was stopped and waited for)
#   e2e_check "what" CMD...          # runs CMD; counts and prints a pass or a failure
#   e2e_check_within SECS "what" CMD...   # passes as soon as CMD succeeds, fails at the deadline
#   wait_for SECS "what" CMD...      # polls CMD every 50 ms; false, with a message, at the deadline
#   e2e_checks_from "what" CMD...    # CMD (a Python block) prints "ok WHAT" / "FAIL WHAT" lines: each counts
#   e2e_stop PID [SECS]              # SIGTERM, wait for the exit, SIGKILL at the deadline; returns its status
#   e2e_free_ports LO HI COUNT [--not P...] [--addr A]... [--tcp]   # first of COUNT free ports, reserved
#   e2e_finish                       # prints the verdict and exits 0 (every check passed) or 1
#
# E2E_KEEP=1 keeps the temp dir (it is always kept when a check failed).

set -u
E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_LIB/../../.." && pwd)
E2E_PIDS=()
E2E_GROUPS=()
E2E_CLEANUP_HOOKS=()
E2E_PASSED=0
E2E_FAILED=0
E2E_NAME=${E2E_NAME:-e2e}
E2E_DIR=""

e2e_log() { echo "[$E2E_NAME] $*"; }

e2e_init() {
  E2E_NAME=$1; shift
  local tool
  for tool in python3 "$@"; do
    command -v "$tool" >/dev/null || { e2e_log "$tool is not installed (make deps)"; exit 1; }
  done
  E2E_DIR=$(mktemp -d "/tmp/ipt-e2e-$E2E_NAME.XXXXXX")
  trap e2e_cleanup EXIT
  trap 'e2e_log "interrupted"; E2E_FAILED=$((E2E_FAILED + 1)); exit 1' INT TERM
}

# e2e_track PID [--group]: stop PID at cleanup; with --group also kill what is left of its
# session or process group (a process started with setsid, whose children must not outlive it).
e2e_track() {
  E2E_PIDS+=("$1")
  [ "${2:-}" != --group ] || E2E_GROUPS+=("$1")
}

# True while PID runs (a zombie not yet reaped by this shell counts as gone).
e2e_running() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

e2e_cleanup() {
  local hook pid
  for hook in "${E2E_CLEANUP_HOOKS[@]}"; do "$hook"; done
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${E2E_PIDS[@]}"; do
    wait_for 5 "process $pid to exit after SIGTERM" e2e_exited "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in "${E2E_GROUPS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  e2e_release_ports
  [ -n "$E2E_DIR" ] || return 0
  if [ "${E2E_KEEP:-0}" = 1 ] || [ "$E2E_FAILED" -ne 0 ]; then
    e2e_log "logs kept in $E2E_DIR"
  else
    rm -rf "$E2E_DIR"
  fi
}

# Microseconds since the epoch.
e2e_now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$((10#$t))"; }

# Seconds (as in 2 or 0.5) to microseconds.
e2e_us() {
  local int=${1%%.*} frac=""
  [[ $1 == *.* ]] && frac=${1#*.}
  frac="${frac}000000"
  echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

# wait_for SECS "what" CMD...: runs CMD every 50 ms until it succeeds (true) or SECS have passed
# (false, and a line naming what did not happen). CMD runs at least once.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(e2e_now_us) + $(e2e_us "$secs") ))
  while :; do
    "$@" && return 0
    [ "$(e2e_now_us)" -lt "$deadline" ] || break
    sleep 0.05
  done
  e2e_log "timed out after ${secs}s waiting for: $what"
  return 1
}

e2e_pass() { E2E_PASSED=$((E2E_PASSED + 1)); echo "  ok   $*"; }
e2e_fail() { E2E_FAILED=$((E2E_FAILED + 1)); echo "  FAIL $*"; }

# e2e_check "what" CMD...: runs CMD, counts and prints the result; returns CMD's truth.
e2e_check() {
  local what=$1; shift
  if "$@"; then e2e_pass "$what"; return 0; fi
  e2e_fail "$what"; return 1
}

# e2e_check_within SECS "what" CMD...: a check on a condition that becomes true on its own.
e2e_check_within() {
  local secs=$1 what=$2; shift 2
  e2e_check "$what" wait_for "$secs" "$what" "$@"
}

# e2e_checks_from "what" CMD...: CMD prints "ok WHAT" and "FAIL WHAT" lines (one per check it
# makes); each counts as a check, other lines are shown indented. CMD failing without a FAIL
# line (a crash) counts as a failure of "what". True when the block had no failure.
E2E_BLOCKS=0
e2e_checks_from() {
  local what=$1; shift
  E2E_BLOCKS=$((E2E_BLOCKS + 1))
  local out="$E2E_DIR/checks-$E2E_BLOCKS.log" failed_before=$E2E_FAILED line rc
  "$@" >"$out" 2>&1
  rc=$?
  while IFS= read -r line; do
    case $line in
      "ok "*) e2e_pass "${line#ok }" ;;
      "FAIL "*) e2e_fail "${line#FAIL }" ;;
      *) echo "       $line" ;;
    esac
  done <"$out"
  if [ "$rc" -ne 0 ] && [ "$E2E_FAILED" -eq "$failed_before" ]; then e2e_fail "$what (exit $rc)"; fi
  [ "$E2E_FAILED" -eq "$failed_before" ]
}

# e2e_stop PID [SECS]: SIGTERM, then wait up to SECS (default 5) for the exit; SIGKILL after.
# Returns the process's exit status (as `wait` gives it; 137 after SIGKILL). The cleanup forgets
# PID (its number may be reused), but not its process group.
e2e_stop() {
  local pid=$1 secs=${2:-5} rc
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for "$secs" "process $pid to exit after SIGTERM" e2e_exited "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  e2e_untrack "$pid"
  return "$rc"
}

# e2e_untrack PID [--group]: the cleanup no longer signals PID (it ended and was waited for);
# with --group, nor its process group.
e2e_untrack() {
  local kept=() p
  for p in "${E2E_PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  E2E_PIDS=("${kept[@]}")
  [ "${2:-}" = --group ] || return 0
  kept=()
  for p in "${E2E_GROUPS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  E2E_GROUPS=("${kept[@]}")
}

# True once PID has ended (for a child of this shell: also once only its zombie is left).
e2e_exited() { ! e2e_running "$1"; }

# Reserved for this script until its cleanup, so that scripts running side by side (also other
# people's) never pick the same ports, even those bound only now and then (see free-ports.py).
e2e_free_ports() { python3 "$E2E_LIB/free-ports.py" "$@" --hold "$$"; }

# Drops this script's port reservations.
e2e_release_ports() { rm -f "${IPT_E2E_PORTS_DIR:-/tmp/ipt-e2e-ports}/$$-"*; }

# Prints the verdict and exits: 0 when every check passed, 1 otherwise or when no check ran.
e2e_finish() {
  if [ $((E2E_PASSED + E2E_FAILED)) -eq 0 ]; then e2e_fail "no check ran"; fi
  echo "[$E2E_NAME] $E2E_PASSED passed, $E2E_FAILED failed"
  [ "$E2E_FAILED" -eq 0 ] && exit 0
  exit 1
}
