#!/usr/bin/env bash
# Sessions that survive their media host (issue 12): build/iptrtpproxyd keeps its sessions in a
# real redis-server this test starts. A relay is SIGKILLed mid-call; a second relay with the same
# switchboards file and the same Redis, started cold in another folder (no journal), restores the
# call: RTP flows both ways, the NAT'd caller's latch holds, an attacker stays refused, update and
# delete by the old ids work. Garbage and foreign entries in Redis are skipped with a warning.
# Redis killed: allocations and media go on, stats say so; Redis restarted empty: the relay writes
# its sessions back; after the deletes Redis holds nothing. A bad --redis URL stops the daemon.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-redis-takeover ss redis-server redis-cli
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
WORK=$E2E_DIR

# Ports (UDP and TCP) free on every address: +0..+31 gate A on .1, +40..+71 gate B on .2,
# +80/+81 A's client as its SDP says (.10), +82 A's client behind NAT (.10) and the attacker (.66),
# +84/+85 B's client (.20), +92 Redis on 127.0.0.1.
BASE=$(e2e_free_ports 20000 32000 100 --tcp \
  --addr 127.0.32.1 --addr 127.0.32.2 --addr 127.0.32.10 --addr 127.0.32.20 --addr 127.0.32.66 --addr 127.0.0.1) ||
  { e2e_log "no free ports"; exit 1; }
REDIS_PORT=$((BASE + 92))
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/3"
rcli() { redis-cli -p "$REDIS_PORT" -n 3 "$@"; }
KEY="iptrtpproxy:sessions:A=127.0.32.1:$BASE;B=127.0.32.2:$((BASE + 40))"
e2e_log "ports $BASE-$((BASE + 99)); Redis on 127.0.0.1:$REDIS_PORT, key $KEY"

cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.32.1
addr-b = 127.0.32.2
port-a = $BASE
port-b = $((BASE + 40))
max-sess = 16
expires-timeout = 60
CFG

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  e2e_track "$REDIS_PID"
  wait_for 10 "redis-server to answer" bash -c "redis-cli -p $REDIS_PORT ping 2>/dev/null | grep -q PONG"
}

# start_relay N: relay N in its own folder, with the shared switchboards file and Redis.
start_relay() {
  local n=$1 dir="$WORK/relay$1"
  mkdir -p "$dir"
  cp "$WORK/iptrtpproxy.cfg" "$dir/iptrtpproxy.cfg"
  RELAY_START_US=$(e2e_now_us)
  "$DAEMON" --config "$dir/iptrtpproxy.cfg" --control "unix:$dir/control.sock" --redis "$REDIS_URL" \
    --workers 1 2>>"$dir/daemon.log" &
  RELAY_PID=$!
  e2e_track "$RELAY_PID"
  wait_for 10 "relay $n to run" bash -c "grep -q 'iptrtpproxyd .* running' '$dir/daemon.log' || ! kill -0 $RELAY_PID"
  e2e_check "relay $n starts" grep -q "iptrtpproxyd .* running" "$dir/daemon.log" || { cat "$dir/daemon.log"; e2e_finish; }
}

cat > "$WORK/common.py" <<'PY'
import json, socket, sys, time
work, base = sys.argv[1], int(sys.argv[2])
failures = []
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)
    return cond
class Control:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); self.s.settimeout(3); self.s.connect(path)
        self.f = self.s.makefile("rwb"); self.n = 0; self.f.readline()
    def req(self, cmd):
        self.n += 1
        self.f.write(("iptrtp/2 %d %s\n" % (self.n, cmd)).encode()); self.f.flush()
        r = self.f.readline().decode().rstrip("\n").split(" ", 3)
        return r[2], (r[3] if len(r) > 3 else "")
def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(0.2); return s
def recv(sock, timeout=2.0):
    sock.settimeout(timeout)
    try: return sock.recvfrom(2048)
    except socket.timeout: return None, None
A_SDP, A_NAT, B_SDP = base + 80, base + 82, base + 84
PY

# 1. A call on relay 1: A behind NAT (latched on another port than its SDP says).
call_on_relay1() {
python3 - "$WORK" "$BASE" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *
c = Control(work + "/relay1/control.sock")
st, payload = c.req("alloc e2e a.always-learn=0 a.rtp=127.0.32.10:%d a.rtcp=127.0.32.10:%d" % (A_SDP, A_SDP + 1))
if not check(st == "ok", "alloc on relay 1: " + payload): sys.exit(1)
sid, pa, pb = payload.split(); pa, pb = int(pa), int(pb)
check(c.req("update e2e %s b.always-learn=0 b.rtp=127.0.32.20:%d b.rtcp=127.0.32.20:%d" % (sid, B_SDP, B_SDP + 1))[0] == "ok",
      "update with the answer on relay 1")
alice = udp("127.0.32.10", A_NAT); bob = udp("127.0.32.20", B_SDP)
alice.sendto(b"A1", ("127.0.32.1", pa))
check(recv(bob)[0] == b"A1", "relay 1: A's RTP reaches B")
bob.sendto(b"B1", ("127.0.32.2", pb))
check(recv(alice)[0] == b"B1", "relay 1: B's RTP reaches A's NAT source (latched)")
open(work + "/session", "w").write("%s %d %d" % (sid, pa, pb))
sys.exit(1 if failures else 0)
PY
}

# 2. On relay 2, started cold: the call goes on.
call_on_relay2() {
python3 - "$WORK" "$BASE" "$RELAY_START_US" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *
start = int(sys.argv[3]) / 1e6
sid, pa, pb = open(work + "/session").read().split(); pa, pb = int(pa), int(pb)
alice = udp("127.0.32.10", A_NAT); bob = udp("127.0.32.20", B_SDP); attacker = udp("127.0.32.66", A_NAT)
# B talks until A hears it (the relay restored the session and A's latch); bounded.
got, first = None, None
for _ in range(100):
    bob.sendto(b"B2", ("127.0.32.2", pb))
    got, _ = recv(alice, 0.05)
    if got == b"B2": first = time.time(); break
check(got == b"B2", "relay 2: B's RTP reaches A's latched NAT source")
if first: print("takeover: media from B to A %.0f ms after relay 2 was started" % ((first - start) * 1000), flush=True)
check(first is not None and first - start < 5.0, "relay 2 forwards within seconds of its start")
alice.sendto(b"A2", ("127.0.32.1", pa))
check(recv(bob)[0] == b"A2", "relay 2: A's RTP from its NAT source reaches B")
for _ in range(10): attacker.sendto(b"evil", ("127.0.32.1", pa))
alice.sendto(b"legit", ("127.0.32.1", pa))
check(recv(bob)[0] == b"legit", "relay 2: the attacker's packets are refused")
c = Control(work + "/relay2/control.sock")
ls = json.loads(c.req("list")[1])["sessions"]
check([("%d/%d" % (x["id"], x["created"]), x["port-a"], x["port-b"]) for x in ls] == [(sid, pa, pb)],
      "relay 2 holds the call's session with the same id, stamp and ports (and nothing from the garbage)")
check(c.req("update e2e %s b.rtp=127.0.32.20:%d" % (sid, B_SDP))[0] == "ok", "update by the old id works on relay 2")
sys.exit(1 if failures else 0)
PY
}

start_redis
start_relay 1
e2e_checks_from "a NAT'd call on relay 1" call_on_relay1 || e2e_finish
e2e_check_within 5 "Redis holds the session under the gates' key" bash -c "[ \"\$(redis-cli -p $REDIS_PORT -n 3 hlen '$KEY')\" = 1 ]"
e2e_check_within 5 "Redis holds A's latch" bash -c "redis-cli -p $REDIS_PORT -n 3 hgetall '$KEY' | grep -q '^L e2e .* a 0 127.0.32.10:$((BASE + 82))'"

# Garbage beside the real session (on ids other than its own), and another relay's gates.
REAL=$(cut -d/ -f1 "$WORK/session")
G1=$(((REAL + 1) % 16)) G2=$(((REAL + 2) % 16)) G3=$(((REAL + 3) % 16))
rcli hset "$KEY" abc junk "$G1" "A e2e $(((G1 + 5) % 16)) 4 a.rtp=127.0.32.10:1" "$G2" "not a record" \
  "$G3" "$(printf 'A e2e %d 7\nL e2e %d 7 a 0 1.2.3.4:5' "$G3" "$(((G3 + 1) % 16))")" >/dev/null
rcli hset "iptrtpproxy:sessions:A=10.9.9.9:4000;B=10.9.9.10:4000" 1 "A other 1 1" >/dev/null
rcli set "$KEY:not-a-hash" x >/dev/null

kill -KILL "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null; e2e_untrack "$RELAY_PID"
start_relay 2
e2e_checks_from "the call after relay 1 was killed, on relay 2 (cold, no journal)" call_on_relay2
e2e_check "each garbage entry skipped with one warning" [ "$(grep -c 'skipped:' "$WORK/relay2/daemon.log")" -eq 4 ]
e2e_check "another relay's gates are left alone" [ "$(rcli hlen 'iptrtpproxy:sessions:A=10.9.9.9:4000;B=10.9.9.10:4000')" = 1 ]
e2e_check_within 5 "Redis now holds only the real session" bash -c "[ \"\$(redis-cli -p $REDIS_PORT -n 3 hkeys '$KEY')\" = \"\$(cut -d/ -f1 $WORK/session)\" ]"

# 3. Redis killed: the relay goes on.
kill -KILL "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; e2e_untrack "$REDIS_PID"
CLI=build/iptrtpproxy
store_line() { "$CLI" stats --control "unix:$WORK/relay2/control.sock" 2>&1 | grep '^store:'; }
alloc_while_down() {
  python3 - "$WORK" "$BASE" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *
c = Control(work + "/relay2/control.sock")
st, payload = c.req("alloc e2e a.rtp=127.0.32.10:%d" % (A_SDP + 2))
check(st == "ok", "alloc works while Redis is down: " + payload)
sid = payload.split()[0]
st, _ = c.req("update e2e %s b.rtp=127.0.32.20:%d" % (sid, B_SDP + 2))
check(st == "ok", "update works while Redis is down")
open(work + "/session2", "w").write(payload)
sys.exit(1 if failures else 0)
PY
}
e2e_checks_from "Redis down" alloc_while_down
e2e_check_within 5 "stats say the store is down" bash -c "'$CLI' stats --control 'unix:$WORK/relay2/control.sock' | grep -q '^store: redis://127.0.0.1:$REDIS_PORT/3 DOWN'"
e2e_check "the log says so once" [ "$(grep -c 'is unreachable' "$WORK/relay2/daemon.log")" -eq 1 ]
media_while_down() {
  python3 - "$WORK" "$BASE" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *
sid, pa, pb = open(work + "/session").read().split(); pa, pb = int(pa), int(pb)
alice = udp("127.0.32.10", A_NAT); bob = udp("127.0.32.20", B_SDP)
bob.sendto(b"B3", ("127.0.32.2", pb))
check(recv(alice)[0] == b"B3", "media flows while Redis is down")
sys.exit(1 if failures else 0)
PY
}
e2e_checks_from "media with Redis down" media_while_down

# 4. Redis back, empty: the relay writes its two sessions back.
start_redis
e2e_check_within 10 "the relay refills the empty Redis with its 2 live sessions" \
  bash -c "[ \"\$(redis-cli -p $REDIS_PORT -n 3 hlen '$KEY')\" = 2 ]"
e2e_check_within 5 "stats say the store is up again" bash -c "'$CLI' stats --control 'unix:$WORK/relay2/control.sock' | grep -q '^store: redis://127.0.0.1:$REDIS_PORT/3 up'"

# 5. Deletes empty Redis.
delete_all() {
  python3 - "$WORK" "$BASE" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
from common import *
c = Control(work + "/relay2/control.sock")
for f in ("session", "session2"):
    sid = open(work + "/" + f).read().split()[0]
    check(c.req("delete e2e %s" % sid)[0] == "ok", "delete %s by its id" % sid)
sys.exit(1 if failures else 0)
PY
}
e2e_checks_from "deletes" delete_all
e2e_check_within 5 "after the deletes Redis holds nothing of the relay" bash -c "[ \"\$(redis-cli -p $REDIS_PORT -n 3 dbsize)\" = 0 ]"
kill -TERM "$RELAY_PID"
e2e_check_within 5 "relay 2 stops on SIGTERM" e2e_exited "$RELAY_PID"

# 6. Bad URLs stop the daemon at start, naming the option.
bad_url() {
  local out
  out=$("$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/bad.sock" --redis "$1" 2>&1) && return 1
  grep -q -- "--redis" <<<"$out" || { echo "$out"; return 1; }
}
for url in "http://127.0.0.1:6379" "redis://" "redis://127.0.0.1:99999" "redis://127.0.0.1:6379/x" "redis://host name:1"; do
  e2e_check "--redis '$url' is refused at start" bad_url "$url"
done
e2e_finish
