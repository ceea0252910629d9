#!/usr/bin/env bash
# End to end: build/iptrtpproxyd as a real daemon, driven over its control socket (Unix and TCP
# with a secret), relaying real UDP on 127.0.30.0/24, stopped with SIGTERM and restarted with its
# journal while a call is up. Prints what it checks; exits 0 when all pass.
set -u
cd "$(dirname "$0")/../.."
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
if [ ! -x "$DAEMON" ]; then echo "FAIL: $DAEMON not built (run make)"; exit 1; fi

WORK=$(mktemp -d /tmp/iptrtpproxy-e2e-relay.XXXXXX)
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; sleep 0.5; kill -KILL "$PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.30.1
addr-b = 127.0.30.2
port-a = 35000
port-b = 36000
max-sess = 16
expires-timeout = 60
CFG
echo "e2e-secret-$$" > "$WORK/secret"

start_daemon() {
  "$DAEMON" --config "$WORK/iptrtpproxy.cfg" --switchboard-param 'name=e2e;learning-timeout-a=5' \
    --control "unix:$WORK/control.sock" --control-tcp 127.0.30.1:39031 --secret-file "$WORK/secret" \
    --journal "$WORK/journal" --metrics 127.0.30.1:39030 --workers 2 2>>"$WORK/daemon.log" &
  PID=$!
  for _ in $(seq 1 100); do [ -S "$WORK/control.sock" ] && return 0; sleep 0.05; done
  echo "FAIL: control socket did not appear"; cat "$WORK/daemon.log"; return 1
}

stop_daemon() {
  kill -TERM "$PID"
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$PID" 2>/dev/null; then echo "FAIL: daemon ignored SIGTERM"; return 1; fi
  wait "$PID"; local rc=$?
  PID=""
  [ "$rc" -eq 0 ] || { echo "FAIL: daemon exited $rc on SIGTERM"; cat "$WORK/daemon.log"; return 1; }
  [ ! -e "$WORK/control.sock" ] || { echo "FAIL: control socket left behind"; return 1; }
  echo "ok: SIGTERM stops the daemon cleanly"
}

start_daemon || exit 1
mode=$(stat -c %a "$WORK/control.sock")
[ "$mode" = 660 ] || { echo "FAIL: control socket mode $mode, expected 660"; exit 1; }
echo "ok: control socket mode 0660"

python3 - "$WORK" phase1 <<'PY' || exit 1
import json, os, socket, sys, urllib.request
work, phase = sys.argv[1], sys.argv[2]
failures = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond: failures.append(what)

class Control:
    def __init__(self, family, addr):
        self.s = socket.socket(family, socket.SOCK_STREAM); self.s.settimeout(3); self.s.connect(addr)
        self.f = self.s.makefile("rwb"); self.n = 0
    def raw(self, line):
        self.f.write(line + b"\n"); self.f.flush(); return self.f.readline().decode().rstrip("\n")
    def req(self, cmd):
        self.n += 1
        r = self.raw(("iptrtp/1 %d %s" % (self.n, cmd)).encode()).split(" ", 3)
        return r[2], (r[3] if len(r) > 3 else "")

def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(2); return s

c = Control(socket.AF_UNIX, work + "/control.sock")
check(c.req("ping") == ("ok", "pong"), "ping answers pong")
status, text = c.raw(b"this is not a request").split(" ", 3)[2:4]
check(status == "error", "a malformed line gets an error reply")
check(c.req("alloc e2e a.rtp=1.2.3:4")[0] == "error", "a bad address gets an error reply")
check(c.req("ping") == ("ok", "pong"), "the connection still works after errors")

st, payload = c.req("alloc e2e a.always-learn=0 a.rtp=127.0.30.10:37000 a.rtcp=127.0.30.10:37001")
check(st == "ok", "alloc succeeds: " + payload)
sid, pa, pb = payload.split()
pa, pb = int(pa), int(pb)
st, _ = c.req("update e2e %s b.always-learn=0 b.rtp=127.0.30.20:38000 b.rtcp=127.0.30.20:38001" % sid)
check(st == "ok", "update with the answer succeeds")

alice = udp("127.0.30.10", 37222)    # behind NAT: not the SDP port
bob = udp("127.0.30.20", 38000)
alice_rtcp = udp("127.0.30.10", 37001); bob_rtcp = udp("127.0.30.20", 38001)
alice.sendto(b"A" * 172, ("127.0.30.1", pa))
data, src = bob.recvfrom(2048)
check(data == b"A" * 172 and src == ("127.0.30.2", pb), "RTP from A's side leaves gate B towards B's client")
bob.sendto(b"B" * 172, ("127.0.30.2", pb))
data, src = alice.recvfrom(2048)
check(data == b"B" * 172 and src == ("127.0.30.1", pa), "RTP from B's side reaches A's latched NAT source")
alice_rtcp.sendto(b"rtcp", ("127.0.30.1", pa + 1))
check(bob_rtcp.recvfrom(2048)[0] == b"rtcp", "RTCP is relayed on port+1")

ls = json.loads(c.req("list")[1])
check(len(ls["sessions"]) == 1 and ls["sessions"][0]["sides"][0]["streams"][0]["latched"] == "127.0.30.10:37222",
      "list shows the session and the latched NAT source")
stats = json.loads(c.req("stats")[1])
check(stats["counters"]["packets"] == 3, "stats count 3 forwarded packets")

t = Control(socket.AF_INET, ("127.0.30.1", 39031))
check(t.req("ping")[0] == "error", "TCP without the secret is refused")
secret = open(work + "/secret").read().strip()
check(t.req("auth " + secret)[0] == "ok", "TCP with the secret is accepted")
check(t.req("ping") == ("ok", "pong"), "TCP ping after auth")

metrics = urllib.request.urlopen("http://127.0.30.1:39030/metrics", timeout=3).read().decode()
check("iptrtpproxy_packets_total{switchboard=\"e2e\"} 3" in metrics, "metrics endpoint counts the packets")

open(work + "/session", "w").write("%s %d %d" % (sid, pa, pb))
sys.exit(1 if failures else 0)
PY

stop_daemon || exit 1
start_daemon || exit 1

python3 - "$WORK" <<'PY' || exit 1
import json, socket, sys
work = sys.argv[1]
sid, pa, pb = open(work + "/session").read().split(); pa, pb = int(pa), int(pb)
failures = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond: failures.append(what)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3); s.connect(work + "/control.sock")
f = s.makefile("rwb")
def req(cmd):
    f.write(("iptrtp/1 9 " + cmd + "\n").encode()); f.flush(); r = f.readline().decode().rstrip("\n").split(" ", 3)
    return r[2], (r[3] if len(r) > 3 else "")
ls = json.loads(req("list")[1])["sessions"]
check([("%d/%d" % (x["id"], x["created"]), x["port-a"], x["port-b"]) for x in ls] == [(sid, pa, pb)],
      "after a restart the session is back with the same id/created and ports")
alice = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); alice.bind(("127.0.30.10", 37222)); alice.settimeout(2)
bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); bob.bind(("127.0.30.20", 38000)); bob.settimeout(2)
attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); attacker.bind(("127.0.30.66", 37222))
import time
time.sleep(0.2)
bob.sendto(b"after-restart", ("127.0.30.2", pb))
check(alice.recvfrom(2048)[0] == b"after-restart", "the call keeps flowing to A's latched source after the restart")
for _ in range(10): attacker.sendto(b"evil", ("127.0.30.1", pa))
alice.sendto(b"legit", ("127.0.30.1", pa))
got = bob.recvfrom(2048)[0]
check(got == b"legit", "attacker packets are not forwarded (%r)" % got)
side = json.loads(req("list")[1])["sessions"][0]["sides"][0]
check(side["counters"]["drops"]["unknown-source"] == 10, "the 10 attacker packets are counted as unknown-source drops")
check(req("delete e2e %s" % sid)[0] == "ok", "delete succeeds")
check(json.loads(req("list")[1])["sessions"] == [], "no session left")
sys.exit(1 if failures else 0)
PY

stop_daemon || exit 1
echo "30-relay-daemon: all checks passed"
