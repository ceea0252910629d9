#!/usr/bin/env python3
"""Takeover time with the sessions in Redis (issue 12), driven by scripts/bench/redis.sh.

  setup:    on relay 1 (its control socket), allocate N sessions (offer + answer: alloc, update),
            each with a client on gate A behind NAT (it sends from another port than its SDP says)
            and a client on gate B; each client sends one packet, so the relay latches A's NAT
            source (and B's); checks that each packet crossed; then waits until Redis holds an A
            latch line (`L SW ID CREATED a 0 ADDR:PORT`) for every session (housekeeping writes
            latches about once a second). Writes the sessions to WORK/sessions.
  takeover: (relay 1 SIGKILLed by the caller) starts relay 2 itself, so that the clock starts at its
            exec, and at once keeps sending from every B client to its session's port on gate B,
            one packet per session and round, until each A client (at its NAT source: only the
            restored latch sends there) has received one. Prints one JSON line: ms from the exec to
            the first session's packet, to all N, and to relay 2's "running" log line.

    redis_takeover.py setup WORK N CONTROL REDIS_PORT REDIS_DB KEY
    redis_takeover.py takeover WORK N LOG -- DAEMON ARGS...
"""
import json
import os
import select
import socket
import subprocess
import sys
import time

SWITCHBOARD = "redis"
GATE_A, GATE_B = "127.0.5.1", "127.0.5.2"
CLIENT_A, CLIENT_B = "127.0.5.10", "127.0.5.20"
A_SDP, A_NAT, B_SDP = 30000, 34000, 36000  # A's SDP ports 30000+2i, its NAT source 34000+i; B 36000+2i


def die(msg):
    sys.exit("redis_takeover: " + msg)


class Control:
    def __init__(self, path, seconds=10.0):
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.s.close()
                if time.monotonic() > deadline:
                    die(f"control socket {path} not reachable within {seconds} s")
                time.sleep(0.05)
        self.s.settimeout(5)
        self.f = self.s.makefile("rwb")
        self.n = 0
        self.f.readline()  # greeting

    def req(self, cmd):
        self.n += 1
        self.f.write(f"iptrtp/2 {self.n} {cmd}\n".encode())
        self.f.flush()
        r = self.f.readline().decode().rstrip("\n").split(" ", 3)
        return r[2], (r[3] if len(r) > 3 else "")


def udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.setblocking(False)
    return s


def collect(socks, want, seconds, what):
    """Waits until every socket in `socks` (index -> socket) has received one packet; returns them."""
    ep = select.epoll()
    by_fd = {}
    for i, s in socks.items():
        ep.register(s.fileno(), select.EPOLLIN)
        by_fd[s.fileno()] = i
    got = {}
    deadline = time.monotonic() + seconds
    while len(got) < len(socks) and time.monotonic() < deadline:
        for fd, _ in ep.poll(0.05):
            i = by_fd[fd]
            try:
                data, src = socks[i].recvfrom(2048)
            except BlockingIOError:
                continue
            got.setdefault(i, (data, src))
    ep.close()
    bad = [i for i in socks if i not in got or got[i][0] != want(i)]
    if bad:
        die(f"{what}: {len(bad)} of {len(socks)} sessions got nothing or the wrong packet (first: session {bad[0]})")
    return got


def a_latches(redis_port, db, key):
    out = subprocess.run(["redis-cli", "-p", str(redis_port), "-n", str(db), "--raw", "hgetall", key],
                         capture_output=True, text=True, timeout=10).stdout
    return sum(1 for line in out.splitlines() if line.startswith("L ") and " a 0 " in line)


def setup(work, n, control, redis_port, db, key):
    c = Control(control)
    sessions = []
    for i in range(n):
        st, payload = c.req(f"alloc {SWITCHBOARD} a.always-learn=0 a.rtp={CLIENT_A}:{A_SDP + 2 * i} "
                            f"a.rtcp={CLIENT_A}:{A_SDP + 2 * i + 1}")
        if st != "ok":
            die(f"alloc {i} on relay 1: {st} {payload}")
        sid, pa, pb = payload.split()
        st, payload = c.req(f"update {SWITCHBOARD} {sid} b.always-learn=0 b.rtp={CLIENT_B}:{B_SDP + 2 * i} "
                            f"b.rtcp={CLIENT_B}:{B_SDP + 2 * i + 1}")
        if st != "ok":
            die(f"update {i} on relay 1: {st} {payload}")
        sessions.append((sid, int(pa), int(pb)))
    a = {i: udp(CLIENT_A, A_NAT + i) for i in range(n)}
    b = {i: udp(CLIENT_B, B_SDP + 2 * i) for i in range(n)}
    for i, (_, pa, _) in enumerate(sessions):
        a[i].sendto(b"A%d" % i, (GATE_A, pa))
    collect(b, lambda i: b"A%d" % i, 10, "relay 1: A's packet to B")
    for i, (_, _, pb) in enumerate(sessions):
        b[i].sendto(b"B%d" % i, (GATE_B, pb))
    collect(a, lambda i: b"B%d" % i, 10, "relay 1: B's packet to A's NAT source")
    t = time.monotonic()
    deadline = t + 30
    while (have := a_latches(redis_port, db, key)) < n:
        if time.monotonic() > deadline:
            die(f"Redis holds {have} of {n} A latches after 30 s")
        time.sleep(0.05)
    print(f"redis_takeover: relay 1: {n} sessions latched both ways; Redis held all {n} A latches "
          f"{(time.monotonic() - t) * 1000:.0f} ms after the last latch packet", flush=True)
    with open(os.path.join(work, "sessions"), "w") as f:
        for sid, pa, pb in sessions:
            f.write(f"{sid} {pa} {pb}\n")


def takeover(work, n, log, argv):
    sessions = [line.split() for line in open(os.path.join(work, "sessions"))]
    pbs = [int(s[2]) for s in sessions]
    pas = [int(s[1]) for s in sessions]
    a = {i: udp(CLIENT_A, A_NAT + i) for i in range(n)}
    b = [udp(CLIENT_B, B_SDP + 2 * i) for i in range(n)]
    ep = select.epoll()
    by_fd = {}
    for i, s in a.items():
        ep.register(s.fileno(), select.EPOLLIN)
        by_fd[s.fileno()] = i
    logf = open(log, "ab")
    t0 = time.monotonic()
    relay = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    with open(os.path.join(work, "relay2.pid"), "w") as f:
        f.write(str(relay.pid))
    first = {}
    running = None
    pending = set(range(n))
    rounds = 0
    deadline = t0 + 60
    while (pending or running is None) and time.monotonic() < deadline:
        rounds += 1
        for i in pending:
            try:
                b[i].sendto(b"M%d" % i, (GATE_B, pbs[i]))
            except OSError:
                pass
        for fd, _ in ep.poll(0.001):
            i = by_fd[fd]
            while True:
                try:
                    data, src = a[i].recvfrom(2048)
                except BlockingIOError:
                    break
                if data == b"M%d" % i and src == (GATE_A, pas[i]) and i not in first:
                    first[i] = time.monotonic()
                    pending.discard(i)
        if running is None:
            with open(log, "rb") as f:
                text = f.read()
            if b" running" in text and b"iptrtpproxyd " in text:
                running = time.monotonic()
        if relay.poll() is not None:
            die(f"relay 2 exited ({relay.returncode}); see {log}")
    if pending:
        die(f"relay 2: {len(pending)} of {n} sessions forwarded nothing to A's latched source within 60 s")
    ms = lambda t: round((t - t0) * 1000, 1)
    print(json.dumps({"sessions": n, "first_ms": ms(min(first.values())), "all_ms": ms(max(first.values())),
                      "running_ms": ms(running), "rounds": rounds}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 8 and sys.argv[1] == "setup":
        setup(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    elif len(sys.argv) >= 6 and sys.argv[1] == "takeover" and sys.argv[5] == "--":
        takeover(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[6:])
    else:
        die(__doc__)
