#!/usr/bin/env bash
# Shared-socket mode (issue 15 items 2 and 3): build/iptrtpproxyd --shared-sockets in a network
# namespace this test creates and always removes (the sk_lookup program steers that namespace
# only). Real UDP clients: media both ways and on RTCP, from the right gate endpoints, with
# checksums the receiver accepts (odd and even lengths); learning behind NAT; an ICE-lite answer; an unannounced
# source dropped; a foreign program that binds a relay port gets nothing while the relay keeps
# relaying on it; ephemeral binds avoid the ranges; sessions open no descriptors; the journal
# restores a call; an IPv6 switchboard relays both ways with checksums the receiver accepts;
# without CAP_BPF the relay says so once and binds a socket per port.
source "$(dirname "$0")/lib/harness.sh"
e2e_init shared-sockets ip setpriv
if [ "$(id -u)" -ne 0 ]; then e2e_log "skip: needs root (CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW)"; exit 0; fi
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
BPF_DIR=${IPTRTPPROXY_BPF_DIR:-build/bpf}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build)"; exit 1; }
[ -r "$BPF_DIR/iptrtpproxy_sklookup.o" ] || { e2e_log "$BPF_DIR/iptrtpproxy_sklookup.o is missing (make build)"; exit 1; }
WORK=$E2E_DIR
NS=ipt52ss$$
ip netns add "$NS" || { e2e_log "cannot create a network namespace"; exit 1; }
remove_namespace() { ip netns delete "$NS" 2>/dev/null || true; }
E2E_CLEANUP_HOOKS+=(remove_namespace)
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

# Gate A on .1, gate B on .2, 64 sessions each from port 30000; caller .10, callee .20, NAT'd
# caller port on .10, stranger .66, foreign program .1 itself.
cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:ss]
addr-a = 127.0.52.1
addr-b = 127.0.52.2
port-a = 30000
max-sess = 64

# IPv6 on ::1 (the relay sends to loopback only from a gate on loopback, and IPv6 has one
# loopback address): both gates there, on port ranges of their own.
[switchboard:ss6]
addr-a = ::1
addr-b = ::1
port-a = 31000
port-b = 31100
max-sess = 16
CFG

STARTS=0
daemon_running() { [ "$(grep -c "iptrtpproxyd .* running" "$WORK/daemon.log")" -ge "$STARTS" ]; }
daemon_up_or_gone() { daemon_running || ! e2e_running "$PID"; }
start_daemon() {  # [--no-bpf]: without CAP_BPF and CAP_SYS_ADMIN (the kernel refuses the program)
  STARTS=$((STARTS + 1))
  local drop=()
  [ "${1:-}" = --no-bpf ] && drop=(setpriv --bounding-set -bpf,-sys_admin)
  # exec: $! is the daemon itself (ip netns exec and setpriv exec it), so SIGTERM reaches it.
  (export IPTRTPPROXY_BPF_DIR=$BPF_DIR; exec ip netns exec "$NS" "${drop[@]}" "$DAEMON" --config "$WORK/iptrtpproxy.cfg" \
    --control "unix:$WORK/control.sock" --journal "$WORK/journal" --workers 2 --shared-sockets --no-notify \
    2>>"$WORK/daemon.log") &
  PID=$!
  e2e_track "$PID"
  wait_for 10 "iptrtpproxyd to run (start $STARTS)" daemon_up_or_gone
  e2e_check "iptrtpproxyd starts (start $STARTS)" daemon_running || { cat "$WORK/daemon.log"; e2e_finish; }
}
stop_daemon() {
  e2e_stop "$PID"
  e2e_check "it exits with status 0 (start $STARTS)" [ $? -eq 0 ]
}

cat > "$WORK/calls.py" <<'PY'
import hashlib, hmac, json, os, socket, struct, sys, zlib
work, mode, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
failures = []
def check(cond, what):
    print(("ok " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)
    return cond

c = socket.socket(socket.AF_UNIX); c.settimeout(3); c.connect(f"{work}/control.sock"); f = c.makefile("rwb")
f.readline()
def req(line):
    f.write(f"iptrtp/2 t {line}\n".encode()); f.flush()
    reply = f.readline().decode().rstrip("\n").split(" ", 3)
    if reply[2] != "ok": raise RuntimeError(f"{line}: {reply}")
    return reply[3] if len(reply) > 3 else ""
def fds(): return len(os.listdir(f"/proc/{pid}/fd"))
def udp(addr, port):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port)); s.settimeout(2); return s
def receive(s):
    try: return s.recvfrom(4096)
    except socket.timeout: return (None, None)
def empty(s):
    try: s.recv(4096, socket.MSG_DONTWAIT); return False
    except (BlockingIOError, TimeoutError): return True
GA, GB = "127.0.52.1", "127.0.52.2"

def relays(a, pa, b, pb, what, ga=GA, gb=GB):
    ok = True
    for n in (12, 13, 172, 1):
        a.sendto(b"A" * n, (ga, pa)); data, src = receive(b)
        src = src and src[:2]  # an IPv6 address comes with flow info and scope
        ok &= check(data == b"A" * n and src == (gb, pb), f"{what}: {n} bytes a->b arrive from gate B's port ({src})")
        b.sendto(b"B" * n, (gb, pb)); data, src = receive(a)
        src = src and src[:2]
        ok &= check(data == b"B" * n and src == (ga, pa), f"{what}: {n} bytes b->a arrive from gate A's port ({src})")
    return ok

if mode == "first":
    _, pa, pb = req("alloc ss a.rtp=127.0.52.10:5000 a.rtcp=127.0.52.10:5001 b.rtp=127.0.52.20:6000 b.rtcp=127.0.52.20:6001").split()
    pa, pb = int(pa), int(pb)
    open(f"{work}/ports", "w").write(f"{pa} {pb}")
    a, b = udp("127.0.52.10", 5000), udp("127.0.52.20", 6000)
    relays(a, pa, b, pb, "RTP")
    ar, br = udp("127.0.52.10", 5001), udp("127.0.52.20", 6001)
    relays(ar, pa + 1, br, pb + 1, "RTCP")
    # Learning: a caller behind NAT sends from another port of its SDP host inside the
    # learning window: latched, and answered there.
    _, pa2, pb2 = req("alloc ss a.rtp=127.0.52.10:5200 b.rtp=127.0.52.20:6200").split()
    nat, callee2 = udp("127.0.52.10", 5300), udp("127.0.52.20", 6200)
    nat.sendto(b"from-nat", (GA, int(pa2))); data, _ = receive(callee2)
    callee2.sendto(b"to-nat", (GB, int(pb2))); back, src = receive(nat)
    check(data == b"from-nat" and back == b"to-nat" and src == (GA, int(pa2)), "a NAT'd caller is latched and answered at its port")
    # ICE-lite: the relay answers a connectivity check with the side's password from the gate
    # port it was sent to (through the raw socket), with a valid MESSAGE-INTEGRITY.
    ufrag, pwd = "Ab12Cd34", "passwordpasswordpassword42"
    _, _, pb3 = req(f"alloc ss a.rtp=127.0.52.10:5400 b.rtp=127.0.52.20:6400 b.ice={ufrag}:{pwd}").split()
    COOKIE = 0x2112A442
    def attr(t, v): return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)
    tid = os.urandom(12)
    body = attr(0x0006, f"{ufrag}:peer".encode()) + attr(0x0024, struct.pack("!I", 1853817343))
    head = lambda n: struct.pack("!HHI", 1, n, COOKIE) + tid
    body += attr(0x0008, hmac.new(pwd.encode(), head(len(body) + 24) + body, hashlib.sha1).digest())
    body += attr(0x8028, struct.pack("!I", zlib.crc32(head(len(body) + 8) + body) ^ 0x5354554E))
    checker = udp("127.0.52.20", 6400)
    checker.sendto(head(len(body)) + body, (GB, int(pb3)))
    answer, src = receive(checker)
    ok = answer is not None and struct.unpack("!H", answer[:2])[0] == 0x0101 and answer[8:20] == tid
    if ok:
        attrs, i = {}, 20
        while i < len(answer):
            t, n = struct.unpack("!HH", answer[i:i + 4]); attrs[t] = (i, answer[i + 4:i + 4 + n]); i += 4 + n + (4 - n % 4) % 4
        mi_at, mi = attrs[0x0008]
        covered = struct.pack("!HH", 0x0101, mi_at + 24 - 20) + answer[4:mi_at]
        ok = hmac.new(pwd.encode(), covered, hashlib.sha1).digest() == mi
    check(ok and src == (GB, int(pb3)), f"an ICE check is answered from gate B's port with the side's password ({src})")
    stranger = udp("127.0.52.66", 5000)
    stranger.sendto(b"intruder", (GA, pa))
    a.sendto(b"after", (GA, pa)); data, _ = receive(b)
    check(data == b"after", "the caller's packet after a stranger's arrives, the stranger's does not")
    stats = json.loads(req("stats"))
    check(stats["counters"]["drops"]["unknown-source"] >= 1, "the stranger's packet counts as unknown-source")
    # A foreign program binds the live session's gate A RTP port and a free session's: the binds
    # work (no socket holds them) but the steering keeps every packet for the relay.
    foreign = udp(GA, pa)
    free_port = 30000 + 2 * 63 if pa != 30000 + 2 * 63 else 30000 + 2 * 62
    foreign_free = udp(GA, free_port)
    a.sendto(b"still-relayed", (GA, pa)); data, _ = receive(b)
    check(data == b"still-relayed", "the relay keeps relaying on a port a foreign program bound")
    stranger.sendto(b"to-free", (GA, free_port))
    a.sendto(b"marker", (GA, pa)); receive(b)
    check(empty(foreign) and empty(foreign_free), "the foreign program's sockets on relay ports receive nothing")
    # Ephemeral ports avoid the ranges (ip_local_reserved_ports).
    reserved = open("/proc/sys/net/ipv4/ip_local_reserved_ports").read().strip()
    check("30000-30127" in reserved, f"the gate ranges are reserved against ephemeral binds ({reserved})")
    # Sessions open no descriptors (the journal's is open since the first alloc).
    before = fds()
    for i in range(40):
        req(f"alloc ss a.rtp=127.0.52.10:{7000 + 2 * i} b.rtp=127.0.52.20:{8000 + 2 * i}")
    check(fds() == before, f"43 sessions opened no descriptors ({before} before, {fds()} after)")
    sessions = json.loads(req("stats"))["sessions"]["active"]
    check(sessions == 43, f"stats counts 43 live sessions ({sessions})")
    # IPv6: the same steering and raw sends on an IPv6 switchboard (RTP and RTCP, odd and even
    # lengths); its UDP checksum is mandatory.
    G6 = "::1"
    _, qa, qb = req("alloc ss6 a.rtp=[::1]:5000 a.rtcp=[::1]:5001 b.rtp=[::1]:6000 b.rtcp=[::1]:6001").split()
    qa, qb = int(qa), int(qb)
    a6, b6 = udp(G6, 5000), udp(G6, 6000)
    relays(a6, qa, b6, qb, "IPv6 RTP", G6, G6)
    relays(udp(G6, 5001), qa + 1, udp(G6, 6001), qb + 1, "IPv6 RTCP", G6, G6)
    # Loopback does not verify UDP checksums on delivery: a raw socket sees the datagrams the
    # relay wrote, and their checksums are checked here (odd and even lengths, both ways).
    raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP); raw.settimeout(2)
    def folded(b):
        b += b"\0" * (len(b) % 2)
        t = sum(struct.unpack(f"!{len(b) // 2}H", b))
        while t >> 16: t = (t & 0xffff) + (t >> 16)
        return t
    loop = socket.inet_pton(socket.AF_INET6, G6)
    def relayed_checksum_ok(sport, dport, n):
        for _ in range(20):
            try: d, _ = raw.recvfrom(4096)
            except socket.timeout: return False
            if struct.unpack("!HH", d[:4]) == (sport, dport):
                return len(d) == 8 + n and folded(loop + loop + struct.pack("!I3xB", len(d), 17) + d) == 0xffff
        return False
    for n in (13, 172):
        a6.sendto(b"c" * n, (G6, qa)); receive(b6)
        check(relayed_checksum_ok(qb, 6000, n), f"IPv6: a {n}-byte datagram leaves gate B with a right UDP checksum")
        b6.sendto(b"d" * n, (G6, qb)); receive(a6)
        check(relayed_checksum_ok(qa, 5000, n), f"IPv6: a {n}-byte datagram leaves gate A with a right UDP checksum")
    # Latched by now: another port of the caller's host is a stranger.
    stranger6 = udp(G6, 5999)
    stranger6.sendto(b"intruder", (G6, qa))
    a6.sendto(b"after", (G6, qa)); data, _ = receive(b6)
    check(data == b"after" and empty(b6), "IPv6: the caller's packet arrives, a stranger's does not")
    check(fds() == before, f"the IPv6 session opened no descriptors either ({fds()})")
elif mode == "restored":
    pa, pb = map(int, open(f"{work}/ports").read().split())
    a, b = udp("127.0.52.10", 5000), udp("127.0.52.20", 6000)
    relays(a, pa, b, pb, "after restart from the journal")
elif mode == "fallback":
    pa, pb = map(int, open(f"{work}/ports").read().split())
    a, b = udp("127.0.52.10", 5000), udp("127.0.52.20", 6000)
    relays(a, pa, b, pb, "per-port fallback")
    req("alloc ss a.rtp=127.0.52.10:9000 b.rtp=127.0.52.20:9100")  # the journal's descriptor opens here
    before = fds()
    req("alloc ss a.rtp=127.0.52.10:9002 b.rtp=127.0.52.20:9102")
    check(fds() == before + 4, f"the fallback binds four sockets per session ({before} -> {fds()})")
sys.exit(1 if failures else 0)
PY

start_daemon
e2e_check "the log says the steering runs" grep -q "shared sockets: sk_lookup steers 4 gate port range" "$WORK/daemon.log"
e2e_checks_from "shared mode" in_ns python3 "$WORK/calls.py" "$WORK" first "$PID"
stop_daemon
e2e_check "the reserved ports are given back at stop" bash -c "! ip netns exec $NS cat /proc/sys/net/ipv4/ip_local_reserved_ports | grep -q 30000"

start_daemon
e2e_checks_from "journal restore" in_ns python3 "$WORK/calls.py" "$WORK" restored "$PID"
stop_daemon

start_daemon --no-bpf
e2e_check "without CAP_BPF: one line, then a socket per port" \
  [ "$(grep -c "shared sockets (sk_lookup):.*using a socket per port" "$WORK/daemon.log")" -eq 1 ]
e2e_checks_from "fallback" in_ns python3 "$WORK/calls.py" "$WORK" fallback "$PID"
stop_daemon
e2e_finish
