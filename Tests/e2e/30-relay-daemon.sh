#!/usr/bin/env bash
# End to end: build/iptrtpproxyd as a real daemon, driven over its control socket (Unix and TCP
# with a secret), relaying real UDP on 127.0.30.0/24, stopped with SIGTERM and restarted with its
# journal while a call is up. Prints what it checks; exits 0 when all pass.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-daemon ss
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
WORK=$E2E_DIR

# One block of ports free (UDP and TCP) on every address the test binds:
#   +0..+31 gate A (16 sessions) on .1, +40..+71 gate B on .2,
#   +80/+81 A's client as its SDP says (.10), +82 A's client behind NAT (.10) and the attacker (.66),
#   +84/+85 B's client (.20), +90 metrics and +91 control TCP on .1.
BASE=$(e2e_free_ports 20000 32000 100 --tcp \
  --addr 127.0.30.1 --addr 127.0.30.2 --addr 127.0.30.10 --addr 127.0.30.20 --addr 127.0.30.66) ||
  { e2e_log "no free ports"; exit 1; }
e2e_log "ports $BASE-$((BASE + 99)) on 127.0.30.1/.2/.10/.20/.66"

cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.30.1
addr-b = 127.0.30.2
port-a = $BASE
port-b = $((BASE + 40))
max-sess = 16
expires-timeout = 60
CFG
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" > "$WORK/secret"

STARTS=0
# The daemon logs "running" once its engine (sessions restored), control listeners and metrics
# endpoint are all up.
daemon_running() { [ "$(grep -c "iptrtpproxyd .* running" "$WORK/daemon.log")" -ge "$STARTS" ]; }
daemon_up_or_gone() { daemon_running || ! e2e_running "$PID"; }

start_daemon() {
  STARTS=$((STARTS + 1))
  "$DAEMON" --config "$WORK/iptrtpproxy.cfg" --switchboard-param 'name=e2e;learning-timeout-a=5' \
    --control "unix:$WORK/control.sock" --control-tcp "127.0.30.1:$((BASE + 91))" --secret-file "$WORK/secret" \
    --journal "$WORK/journal" --metrics "127.0.30.1:$((BASE + 90))" --workers 2 2>>"$WORK/daemon.log" &
  PID=$!
  e2e_track "$PID"
  wait_for 10 "iptrtpproxyd to log that it is running (start $STARTS)" daemon_up_or_gone
  e2e_check "iptrtpproxyd starts (start $STARTS)" daemon_running || { cat "$WORK/daemon.log"; e2e_finish; }
}

stop_daemon() {
  kill -TERM "$PID"
  e2e_check_within 5 "SIGTERM stops the daemon" e2e_exited "$PID" || e2e_finish
  wait "$PID"
  local rc=$?
  e2e_untrack "$PID"
  e2e_check "it exits with status 0 (exit $rc)" [ "$rc" -eq 0 ] || cat "$WORK/daemon.log"
  e2e_check "it removes its control socket" [ ! -e "$WORK/control.sock" ]
}

start_daemon
e2e_check "control socket mode 0660" [ "$(stat -c %a "$WORK/control.sock")" = 660 ]

# The Python blocks print "ok WHAT" / "FAIL WHAT" per check; a reply that does not come within
# its socket's timeout is a failed check, not a hang.
cat > "$WORK/common.py" <<'PY'
import hashlib, hmac, json, os, socket, sys
work, base = sys.argv[1], int(sys.argv[2])
failures = []
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)
    return cond

class Control:
    def __init__(self, family, addr):
        self.s = socket.socket(family, socket.SOCK_STREAM); self.s.settimeout(3); self.s.connect(addr)
        self.f = self.s.makefile("rwb"); self.n = 0
        self.greeting = self.f.readline().decode().rstrip("\n").split(" ")
    def raw(self, line):
        self.f.write(line + b"\n"); self.f.flush(); return self.f.readline().decode().rstrip("\n")
    def req(self, cmd):
        self.n += 1
        r = self.raw(("iptrtp/2 %d %s" % (self.n, cmd)).encode()).split(" ", 3)
        return r[2], (r[3] if len(r) > 3 else "")

def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(2); return s

def recv(sock):
    """(data, source) of the next datagram, or (None, None) when none comes within 2 s."""
    try:
        return sock.recvfrom(2048)
    except socket.timeout:
        return None, None
PY

phase1() {
python3 - "$WORK" "$BASE" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *
import urllib.request

c = Control(socket.AF_UNIX, work + "/control.sock")
check(c.req("ping") == ("ok", "pong"), "ping answers pong")
status, text = c.raw(b"this is not a request").split(" ", 3)[2:4]
check(status == "error", "a malformed line gets an error reply")
check(c.req("alloc e2e a.rtp=1.2.3:4")[0] == "error", "a bad address gets an error reply")
check(c.req("ping") == ("ok", "pong"), "the connection still works after errors")

a_sdp, a_nat, b_sdp = base + 80, base + 82, base + 84
st, payload = c.req("alloc e2e a.always-learn=0 a.rtp=127.0.30.10:%d a.rtcp=127.0.30.10:%d" % (a_sdp, a_sdp + 1))
if not check(st == "ok", "alloc succeeds: " + payload): sys.exit(1)
sid, pa, pb = payload.split()
pa, pb = int(pa), int(pb)
st, _ = c.req("update e2e %s b.always-learn=0 b.rtp=127.0.30.20:%d b.rtcp=127.0.30.20:%d" % (sid, b_sdp, b_sdp + 1))
check(st == "ok", "update with the answer succeeds")

alice = udp("127.0.30.10", a_nat)    # behind NAT: not the SDP port
bob = udp("127.0.30.20", b_sdp)
alice_rtcp = udp("127.0.30.10", a_sdp + 1); bob_rtcp = udp("127.0.30.20", b_sdp + 1)
alice.sendto(b"A" * 172, ("127.0.30.1", pa))
data, src = recv(bob)
check(data == b"A" * 172 and src == ("127.0.30.2", pb), "RTP from A's side leaves gate B towards B's client")
bob.sendto(b"B" * 172, ("127.0.30.2", pb))
data, src = recv(alice)
check(data == b"B" * 172 and src == ("127.0.30.1", pa), "RTP from B's side reaches A's latched NAT source")
alice_rtcp.sendto(b"rtcp", ("127.0.30.1", pa + 1))
check(recv(bob_rtcp)[0] == b"rtcp", "RTCP is relayed on port+1")

ls = json.loads(c.req("list")[1])
check(len(ls["sessions"]) == 1 and ls["sessions"][0]["sides"][0]["streams"][0]["latched"] == "127.0.30.10:%d" % a_nat,
      "list shows the session and the latched NAT source")
stats = json.loads(c.req("stats")[1])
check(stats["counters"]["packets"] == 3, "stats count 3 forwarded packets")

t = Control(socket.AF_INET, ("127.0.30.1", base + 91))
check(t.greeting[:3] == ["iptrtp/2", "-", "hello"] and t.greeting[4] == "auth=required", "TCP greets with a challenge")
check(t.req("ping") == ("error", "authenticate first"), "TCP without the proof is refused")
secret = open(work + "/secret").read().strip().encode()
def proof(who, server, client):
    return hmac.new(secret, ("iptrtp/2 %s %s %s tcp" % (who, server, client)).encode(), hashlib.sha256).hexdigest()
nonce = os.urandom(32).hex()
status, relay_proof = t.req("auth %s %s" % (nonce, proof("client", t.greeting[3], nonce)))
check(status == "ok", "TCP with the secret's proof is accepted")
check(hmac.compare_digest(relay_proof, proof("relay", t.greeting[3], nonce)), "the relay proves it holds the secret too")
check(t.req("ping") == ("ok", "pong"), "TCP ping after auth")

metrics = urllib.request.urlopen("http://127.0.30.1:%d/metrics" % (base + 90), timeout=3).read().decode()
check("iptrtpproxy_packets_total{switchboard=\"e2e\"} 3" in metrics, "metrics endpoint counts the packets")

open(work + "/session", "w").write("%s %d %d" % (sid, pa, pb))
sys.exit(1 if failures else 0)
PY
}

phase2() {
python3 - "$WORK" "$BASE" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *

sid, pa, pb = open(work + "/session").read().split(); pa, pb = int(pa), int(pb)
a_nat, b_sdp = base + 82, base + 84
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3); s.connect(work + "/control.sock")
f = s.makefile("rwb")
check(f.readline().decode().startswith("iptrtp/2 - hello "), "the restarted relay greets")
def req(cmd):
    f.write(("iptrtp/2 9 " + cmd + "\n").encode()); f.flush(); r = f.readline().decode().rstrip("\n").split(" ", 3)
    return r[2], (r[3] if len(r) > 3 else "")
ls = json.loads(req("list")[1])["sessions"]
check([("%d/%d" % (x["id"], x["created"]), x["port-a"], x["port-b"]) for x in ls] == [(sid, pa, pb)],
      "after a restart the session is back with the same id/created and ports")
alice = udp("127.0.30.10", a_nat)
bob = udp("127.0.30.20", b_sdp)
attacker = udp("127.0.30.66", a_nat)
# The restored session's sockets are bound before the control socket appears: no wait needed.
bob.sendto(b"after-restart", ("127.0.30.2", pb))
check(recv(alice)[0] == b"after-restart", "the call keeps flowing to A's latched source after the restart")
for _ in range(10): attacker.sendto(b"evil", ("127.0.30.1", pa))
alice.sendto(b"legit", ("127.0.30.1", pa))
got = recv(bob)[0]
check(got == b"legit", "attacker packets are not forwarded (%r)" % got)
side = json.loads(req("list")[1])["sessions"][0]["sides"][0]
check(side["counters"]["drops"]["unknown-source"] == 10, "the 10 attacker packets are counted as unknown-source drops")
check(req("delete e2e %s" % sid)[0] == "ok", "delete succeeds")
check(json.loads(req("list")[1])["sessions"] == [], "no session left")
sys.exit(1 if failures else 0)
PY
}

e2e_checks_from "control, relaying, TCP and metrics" phase1 || e2e_finish

# A second relay given the same journal (another control socket, nothing else shared) must not
# start: two would overwrite each other's records. It names the running one.
"$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/second.sock" \
  --journal "$WORK/journal" --workers 1 2>"$WORK/second.log" &
SECOND=$!
e2e_track "$SECOND"
e2e_check_within 10 "a second relay on the same journal stops" e2e_exited "$SECOND"
wait "$SECOND"; rc=$?
e2e_untrack "$SECOND"
e2e_check "it exits with status 1 (exit $rc)" [ "$rc" -eq 1 ]
e2e_check "it says the journal is in use by the running relay (pid $PID)" \
  grep -q "session journal $WORK/journal is in use by another relay (pid $PID)" "$WORK/second.log" ||
  cat "$WORK/second.log"
e2e_check "the running relay still answers" python3 - "$WORK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3); s.connect(sys.argv[1] + "/control.sock")
f = s.makefile("rwb"); f.readline()
f.write(b"iptrtp/2 1 ping\n"); f.flush()
sys.exit(0 if f.readline().decode().split(" ")[2] == "ok" else 1)
PY

stop_daemon
start_daemon
# Killed, the relay leaves its lock to the kernel, which drops it: a relay started at once (not
# waiting for the death to be reaped) takes the journal and restores the call.
kill -KILL "$PID"
start_daemon
e2e_check "the relay started after a SIGKILL took the journal (no 'in use')" \
  test "$(grep -c "is in use by another relay" "$WORK/daemon.log")" -eq 0
e2e_checks_from "the session after a restart" phase2
stop_daemon
e2e_finish
