#!/usr/bin/env bash
# End to end: requests a client gave up while the relay was stopped (SIGSTOP). The module closes
# its connection when a reply does not come within relay_timeout; what it had sent still waits in
# the socket and is read once the relay runs again. An alloc read that way is not carried out (it
# would hold a session and its ports that nobody knows of until they expire); a delete sent
# without waiting still frees; a tool that half-closes (socat, nc -N) on the Unix socket and reads
# its replies is served as ever. The same over TCP (a media host's control). Prints what it
# checks; exits 0 when all pass.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-stalled-client
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
WORK=$E2E_DIR

BASE=$(e2e_free_ports 20000 32000 100 --tcp --addr 127.0.37.1 --addr 127.0.37.2) || { e2e_log "no free ports"; exit 1; }
e2e_log "ports $BASE-$((BASE + 99)) on 127.0.37.1/.2"
cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.37.1
addr-b = 127.0.37.2
port-a = $BASE
port-b = $BASE
max-sess = 40
# +90: control over TCP
expires-timeout = 60
CFG

head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" > "$WORK/secret"
"$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/control.sock" --workers 1 --no-notify \
  --control-tcp "127.0.37.1:$((BASE + 90))" --secret-file "$WORK/secret" \
  2>>"$WORK/daemon.log" &
PID=$!
e2e_track "$PID"
# A relay left stopped by a failed check must still take the cleanup's SIGTERM.
continue_relay() { kill -CONT "$PID" 2>/dev/null || true; }
E2E_CLEANUP_HOOKS+=(continue_relay)
e2e_check_within 10 "iptrtpproxyd starts" test -S "$WORK/control.sock" || { cat "$WORK/daemon.log"; e2e_finish; }

stalled() {
python3 - "$WORK/control.sock" "$PID" "127.0.37.1" "$((BASE + 90))" "$WORK/secret" <<'PY'
import hashlib, hmac, json, os, signal, socket, sys, time
path, pid, tcp, secret = sys.argv[1], int(sys.argv[2]), (sys.argv[3], int(sys.argv[4])), open(sys.argv[5], "rb").read().strip()
failures = []
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3); s.connect(path)
    f = s.makefile("rwb")
    assert f.readline().decode().startswith("iptrtp/2 - hello")
    return s, f
def connect_tcp():
    """A TCP control connection, authenticated as the module does (docs/control-protocol.md)."""
    s = socket.create_connection(tcp, timeout=3)
    f = s.makefile("rwb")
    greeting = f.readline().decode().split()
    def proof(who, server, client):
        return hmac.new(secret, ("iptrtp/2 %s %s %s tcp" % (who, server, client)).encode(), hashlib.sha256).hexdigest()
    nonce = os.urandom(32).hex()
    st, _ = req(f, "a", "auth %s %s" % (nonce, proof("client", greeting[3], nonce)))
    assert st == "ok", "auth refused"
    return s, f
def req(f, rid, cmd):
    f.write(("iptrtp/2 %s %s\n" % (rid, cmd)).encode()); f.flush()
    r = f.readline().decode().rstrip("\n").split(" ", 3)
    return r[2], (r[3] if len(r) > 3 else "")
def sessions():
    s, f = connect()
    ids = sorted("%d/%d" % (x["id"], x["created"]) for x in json.loads(req(f, "l", "list")[1])["sessions"])
    s.close()
    return ids
def state(p):
    return open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()[0]
def wait_until(what, cond, seconds=5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond(): return True
        time.sleep(0.02)
    print("timed out waiting for " + what, flush=True)
    return False

ALLOC = "alloc e2e a.always-learn=0 a.rtp=127.0.37.10:4000"
# A session to delete later, made while the relay runs.
s0, f0 = connect()
st, payload = req(f0, "1", ALLOC)
check(st == "ok", "an alloc while the relay runs succeeds")
kept = payload.split(" ")[0]
s0.close()

# Clients greeted before the stall, as the module's workers are.
gave_up, g = connect()
deleter, d = connect()
os.kill(pid, signal.SIGSTOP)
check(wait_until("the relay to stop", lambda: state(pid) == "T"), "the relay is stopped (SIGSTOP)")
# The worker's alloc times out: it closes the connection, its request still queued.
g.write(("iptrtp/2 2 " + ALLOC + "\n").encode()); g.flush()
g.close(); gave_up.close()
# Another worker's BYE: a delete sent without waiting, then the connection ends (the worker exits).
d.write(("iptrtp/2 3 delete e2e " + kept + "\n").encode()); d.flush()
d.close(); deleter.close()
os.kill(pid, signal.SIGCONT)
check(wait_until("the relay to run", lambda: state(pid) != "T"), "the relay runs again (SIGCONT)")

# Both requests have been read once a later request on a new connection is answered.
left = sessions()
check(left == [], "the given-up alloc was not carried out, and the delete sent before the close was (sessions: %s)" % left)

# A tool that sends, half-closes and reads (socat, nc -N) is served.
s, f = connect()
f.write(("iptrtp/2 4 " + ALLOC + "\n").encode()); f.flush()
s.shutdown(socket.SHUT_WR)
line = f.readline().decode()
check(line.startswith("iptrtp/2 4 ok "), "an alloc sent before a half close is answered: %r" % line.strip())
s.close()
check(len(sessions()) == 1, "... and its session exists")
before = sessions()

# The same over TCP: a module talking to a media host gives up an alloc during the host's stall.
gave_up, g = connect_tcp()
os.kill(pid, signal.SIGSTOP)
check(wait_until("the relay to stop", lambda: state(pid) == "T"), "the relay is stopped again")
g.write(("iptrtp/2 5 " + ALLOC + "\n").encode()); g.flush()
g.close(); gave_up.close()
os.kill(pid, signal.SIGCONT)
check(wait_until("the relay to run", lambda: state(pid) != "T"), "the relay runs again")
check(sessions() == before, "TCP: the given-up alloc was not carried out")
# A TCP client that waits gets its alloc as ever.
s, f = connect_tcp()
st, _ = req(f, "6", ALLOC)
check(st == "ok", "TCP: an alloc whose client waits succeeds")
s.close()
sys.exit(1 if failures else 0)
PY
}

e2e_checks_from "requests given up during a stall" stalled
e2e_check "the relay logged the alloc it did not carry out" \
  grep -q "control: alloc 2 on e2e not carried out: its client closed the connection" "$WORK/daemon.log"
e2e_check "... and the one over TCP" \
  grep -q "control: alloc 5 on e2e not carried out: its client closed the connection" "$WORK/daemon.log"
e2e_check "it stops cleanly" e2e_stop "$PID"
e2e_finish
