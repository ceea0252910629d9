#!/usr/bin/env bash
# make bench, control part: alloc / update / delete throughput over ONE control connection to
# build/iptrtpproxyd (Unix socket), with 1 and more requests in flight, and the relay's CPU per
# operation; without a journal and with --journal (an fdatasync per change, grouped per read).
# iptrtpproxy-bench control does the work and prints one table per relay run.
#
# Environment: CONTROL_SESSIONS=4000 (over 4 switchboards of 127.0.0.5N; 4 sockets each: capped by the
# open-files limit), CONTROL_WINDOWS=1,16,64, CONTROL_ROUNDS=3 (alloc-update-delete cycles per window),
# CONTROL_SERIAL_SESSIONS=1000 (window 1 runs on at most this many), CONTROL_JOURNAL="off on",
# CONTROL_WORKERS=2, IPTRTPPROXYD / BENCH_TOOL (binaries), BENCH_KEEP=1 keeps the work folder;
# CONTROL_SHARED_SESSIONS=20000 (as root, a last run with --shared-sockets: no sockets per session,
# so no open-files cap; 0 skips it); CONTROL_RELAY_ARGS: more iptrtpproxyd arguments for the per-port
# runs (e.g. "--keep-sockets 0" for sockets opened and closed with every session).
set -euo pipefail
cd "$(dirname "$0")/../.."

IPTRTPPROXYD=${IPTRTPPROXYD:-build/iptrtpproxyd}
BENCH_TOOL=${BENCH_TOOL:-build/iptrtpproxy-bench}
SESSIONS=${CONTROL_SESSIONS:-4000}
ROUNDS=${CONTROL_ROUNDS:-3}
WINDOWS=${CONTROL_WINDOWS:-1,16,64}
SERIAL=${CONTROL_SERIAL_SESSIONS:-1000}
JOURNAL_MODES=${CONTROL_JOURNAL:-off on}
WORKERS=${CONTROL_WORKERS:-2}
SWITCHBOARDS=4
for f in "$IPTRTPPROXYD" "$BENCH_TOOL"; do
  [ -x "$f" ] || { echo "control bench: $f missing (make build)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/iptrtpproxy-control.XXXXXX)
RELAY_PID=""
cleanup() {
  if [ -n "$RELAY_PID" ]; then kill "$RELAY_PID" 2>/dev/null || true; wait "$RELAY_PID" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "control bench: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Four sockets per session: room for them, as far as the hard limit allows.
ulimit -n $(( SESSIONS * 4 + 1024 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ $(( SESSIONS * 4 + 256 )) -gt "$(ulimit -n)" ]; then
  SESSIONS=$(( ($(ulimit -n) - 256) / 4 ))
  echo "control bench: open-files limit $(ulimit -n): $SESSIONS sessions"
fi

# write_config FILE SESSIONS: four switchboards sharing SESSIONS.
write_config() {
per_board=$(( ($2 + SWITCHBOARDS - 1) / SWITCHBOARDS ))
names=""
: >"$1"
for n in $(seq 1 $SWITCHBOARDS); do
  cat >>"$1" <<CFG
[switchboard:ctl$n]
addr-a = 127.0.0.5$n
addr-b = 127.0.0.6$n
port-a = 20000
port-b = 20000
max-sess = $per_board
expires-timeout = 600
resurrection-timeout = 0

CFG
  names=${names:+$names,}ctl$n
done
}
write_config "$WORK/relay.cfg" "$SESSIONS"

# Waits (up to 10 s) until the relay answers on its control socket.
wait_ready() {
  local deadline=$(( $(date +%s) + 10 ))
  until "$BENCH_TOOL" control --control "unix:$WORK/control.sock" --switchboard ctl1 --sessions 1 --window 2 --rounds 1 >/dev/null 2>&1; do
    kill -0 "$RELAY_PID" 2>/dev/null || { echo "control bench: the relay died:" >&2; cat "$WORK/relay.log" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "control bench: the relay did not answer within 10 s" >&2; return 1; }
    sleep 0.1
  done
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
for mode in $JOURNAL_MODES; do
  # shellcheck disable=SC2206
  args=(${CONTROL_RELAY_ARGS:-})
  [ "$mode" = on ] && args+=(--journal "$WORK/journal")
  rm -f "$WORK/journal" "$WORK/control.sock"
  "$IPTRTPPROXYD" --config "$WORK/relay.cfg" --control "unix:$WORK/control.sock" --workers "$WORKERS" \
    ${args[@]+"${args[@]}"} >"$WORK/relay.log" 2>&1 &
  RELAY_PID=$!
  wait_ready
  echo
  echo "journal: $mode${CONTROL_RELAY_ARGS:+, relay arguments: $CONTROL_RELAY_ARGS}$([ "$mode" = on ] && echo " (fdatasync per change; $(df -T "$WORK" | awk 'NR == 2 { print $2 }') in $WORK)")"
  "$BENCH_TOOL" control --control "unix:$WORK/control.sock" --switchboard "$names" --sessions "$SESSIONS" \
    --serial-sessions "$SERIAL" --window "$WINDOWS" --rounds "$ROUNDS" --pid "$RELAY_PID"
  kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
  RELAY_PID=""
done

# Shared sockets (root): allocating binds nothing, so the same connection on many more sessions.
SHARED=${CONTROL_SHARED_SESSIONS:-20000}
if [ "$(id -u)" -eq 0 ] && [ "$SHARED" != 0 ]; then
  write_config "$WORK/relay-shared.cfg" "$SHARED"
  rm -f "$WORK/control.sock"
  "$IPTRTPPROXYD" --config "$WORK/relay-shared.cfg" --control "unix:$WORK/control.sock" --workers "$WORKERS" \
    --shared-sockets >"$WORK/relay.log" 2>&1 &
  RELAY_PID=$!
  wait_ready
  if grep -q "sk_lookup steers" "$WORK/relay.log"; then
    echo
    echo "journal: off, --shared-sockets ($SHARED sessions)"
    "$BENCH_TOOL" control --control "unix:$WORK/control.sock" --switchboard "$names" --sessions "$SHARED" \
      --serial-sessions "$SERIAL" --window "$WINDOWS" --rounds "$ROUNDS" --pid "$RELAY_PID"
  else
    echo "control bench: --shared-sockets fell back to a socket per port; skipped: $(tail -2 "$WORK/relay.log")"
  fi
  kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
  RELAY_PID=""
fi
