#!/usr/bin/env bash
# End to end: build/iptrtpproxyd with its journal on a file system that fills up (a 64 KiB tmpfs
# in a mount namespace of the daemon's own). The journal's records are copied into a mapping of
# the file; a page of a sparse file that the disk cannot hold would kill the relay with SIGBUS, so
# the file is grown by written zeros and a full disk is an error the relay logs. Checks: every
# request answered, the relay alive, the error logged. Prints what it checks; exits 0 when all pass.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-journal-full unshare mount
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
[ "$(id -u)" -eq 0 ] || { e2e_log "needs root (a mount namespace with a tmpfs)"; exit 1; }
WORK=$E2E_DIR
mkdir -p "$WORK/full"

BASE=$(e2e_free_ports 20000 32000 100 --addr 127.0.36.1 --addr 127.0.36.2) || { e2e_log "no free ports"; exit 1; }
e2e_log "ports $BASE-$((BASE + 99)) on 127.0.36.1/.2"
cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.36.1
addr-b = 127.0.36.2
port-a = $BASE
port-b = $BASE
max-sess = 50
expires-timeout = 60
resurrection-timeout = 0
CFG

rm -f "$WORK/control.sock"
# unshare and sh exec: the daemon keeps this process id. The tmpfs is seen by the daemon alone and
# goes with it.
unshare -m --propagation private sh -c \
  "mount -t tmpfs -o size=64k,mode=0700 ipt-e2e-full '$WORK/full' && exec '$DAEMON' --config '$WORK/iptrtpproxy.cfg' \
   --control 'unix:$WORK/control.sock' --journal '$WORK/full/journal' --workers 1 --no-notify" 2>>"$WORK/daemon.log" &
PID=$!
e2e_track "$PID"
e2e_check_within 10 "iptrtpproxyd starts with its journal on a 64 KiB tmpfs" test -S "$WORK/control.sock" || { cat "$WORK/daemon.log"; e2e_finish; }

e2e_checks_from "the journal's file system fills up" \
  python3 Tests/e2e/lib/journal_full.py "$WORK/control.sock" e2e "/proc/$PID/root$WORK/full/journal"
e2e_check "the daemon is alive (no SIGBUS)" e2e_running "$PID"
e2e_check "it logged that the journal could not be written" grep -q "session store .*journal.*No space left on device" "$WORK/daemon.log"
e2e_check "at a bounded rate, not once per request ($(grep -c 'session store .*No space' "$WORK/daemon.log") lines)" \
  [ "$(grep -c 'session store .*No space' "$WORK/daemon.log")" -le 3 ]
e2e_check "it stops cleanly" e2e_stop "$PID"
e2e_finish
