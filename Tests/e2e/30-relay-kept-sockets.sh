#!/usr/bin/env bash
# End to end: build/iptrtpproxyd keeps an ended session's sockets bound for the next session on its
# ports (--keep-sockets), within its file limit. Run under a file limit of 160 descriptors
# (prlimit), so that sessions run out of descriptors before slots: the ended sessions' kept sockets
# must then be closed for new sessions rather than the relay refusing calls. Then --keep-sockets 0:
# a deleted session's ports are free at once. And a relay killed (SIGKILL) while it keeps ended
# sessions' sockets: none of their ports stays bound, and the relay started again on its journal
# allocates as many sessions as before. Prints what it checks; exits 0 when all pass.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-kept-sockets prlimit
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
WORK=$E2E_DIR

# 100 sessions per gate: ports +0..+199 on .1 (A) and .2 (B).
BASE=$(e2e_free_ports 20000 32000 200 --addr 127.0.35.1 --addr 127.0.35.2) || { e2e_log "no free ports"; exit 1; }
e2e_log "ports $BASE-$((BASE + 199)) on 127.0.35.1/.2"
cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.35.1
addr-b = 127.0.35.2
port-a = $BASE
port-b = $BASE
max-sess = 100
expires-timeout = 60
resurrection-timeout = 60
CFG

run_daemon() {  # label [daemon arguments]
  local label=$1; shift
  rm -f "$WORK/control.sock"
  prlimit --nofile=160:160 "$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/control.sock" \
    --workers 1 --no-notify "$@" 2>>"$WORK/daemon-$label.log" &
  PID=$!
  e2e_track "$PID"
  e2e_check_within 10 "iptrtpproxyd starts ($label)" test -S "$WORK/control.sock" || { cat "$WORK/daemon-$label.log"; e2e_finish; }
}

run_daemon kept
e2e_checks_from "descriptors short: kept sockets give way" \
  python3 Tests/e2e/lib/kept_sockets.py "$WORK/control.sock" e2e 127.0.35.1 "$BASE" 127.0.35.2 "$BASE" fill
e2e_check "the daemon is alive" e2e_running "$PID"
e2e_check "it stops cleanly" e2e_stop "$PID"

# SIGKILL of a relay that keeps ended sessions' sockets: the kernel closes them with it, and a relay
# started again on the same journal (the ended slots rest there) allocates as before.
KEPT_IDS="$WORK/kept-ids" run_daemon killed --journal "$WORK/journal"
KEPT_IDS="$WORK/kept-ids" e2e_checks_from "ended sessions kept, then the relay killed" \
  python3 Tests/e2e/lib/kept_sockets.py "$WORK/control.sock" e2e 127.0.35.1 "$BASE" 127.0.35.2 "$BASE" killed-before
kill -KILL "$PID"
e2e_check_within 5 "SIGKILL ends the relay" bash -c "! kill -0 $PID 2>/dev/null || ps -o stat= -p $PID | grep -q Z"
wait "$PID" 2>/dev/null
run_daemon restarted --journal "$WORK/journal"
KEPT_IDS="$WORK/kept-ids" e2e_checks_from "the relay started again on its journal" \
  python3 Tests/e2e/lib/kept_sockets.py "$WORK/control.sock" e2e 127.0.35.1 "$BASE" 127.0.35.2 "$BASE" killed-after
e2e_check "it stops cleanly" e2e_stop "$PID"

run_daemon none --keep-sockets 0
e2e_checks_from "--keep-sockets 0" \
  python3 Tests/e2e/lib/kept_sockets.py "$WORK/control.sock" e2e 127.0.35.1 "$BASE" 127.0.35.2 "$BASE" none
e2e_check "it stops cleanly" e2e_stop "$PID"
e2e_finish
