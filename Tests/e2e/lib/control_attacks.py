#!/usr/bin/env python3
"""The attacker (and the legitimate clients) of Tests/e2e/31-control-attacks.sh.

    control_attacks.py PHASE --tcp HOST:PORT --unix PATH --secret-file FILE [options]
    control_attacks.py get FILE KEY[.KEY...]      # prints one value of a phase's JSON result

Each phase plays one part of issue 11's "How it is tested" against a running iptrtpproxyd that
speaks control protocol version 2 (docs/control-protocol.md) and prints one JSON object (its
measurements) as the last line of standard output. It decides nothing: the shell script checks
the numbers, so a phase that crashes leaves no result and every check on it fails.

While an attack runs, a prober serves as the legitimate clients: every PROBE_PERIOD it opens a
new TCP connection from its own address (greeting, auth, ping) and a new Unix-socket connection
(greeting, ping), and records how long each took or why it failed.

Every wait has a deadline (socket timeouts, bounded loops); only 127.0.0.x is ever contacted."""
import argparse
import errno
import hashlib
import hmac
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time

V = "iptrtp/2"
GREETING = re.compile(r"^iptrtp/2 - hello ([0-9a-f]{64}) auth=(required|none)$")
PROBE_PERIOD = 0.25
LEGIT_SRC = "127.0.0.2"          # the legitimate TCP client
WRONG_SRC = "127.0.0.3"          # the guesser
REPLAY_SRC = "127.0.0.4"         # the replayer
GARBAGE_SRC = "127.0.0.5"        # garbage and long lines
ONE_ADDR_SRC = "127.0.0.6"       # many idle connections from one address
NOREAD_SRC = "127.0.0.7"         # authenticated clients that never read
IDLE_NET = "127.0.0.%d"          # idle connections from .100 up


def now():
    return time.monotonic()


def proof(secret, who, server_nonce, client_nonce, binding="tcp"):
    msg = "%s %s %s %s %s" % (V, who, server_nonce, client_nonce, binding)
    return hmac.new(secret, msg.encode(), hashlib.sha256).hexdigest()


class Closed(Exception):
    """The relay closed (or reset) the connection."""


class Conn:
    """One control connection: lines out, lines in, every read and write bounded by `timeout`."""

    def __init__(self, kind, addr, src=None, timeout=3.0):
        if kind == "unix":
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if src:
                self.s.bind((src, 0))
        self.s.settimeout(timeout)
        try:
            self.s.connect(addr)
        except BaseException:
            self.s.close()
            raise
        self.buf = b""
        self.sent = []
        self.n = 0
        self.server_nonce = None

    def close(self):
        self.s.close()

    def linger0(self):
        """Close with a reset: no TIME_WAIT left on this side by the thousands of tries."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def readline(self, limit=1 << 20):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(str(e))
            if not d:
                raise Closed("eof")
            self.buf += d
            if len(self.buf) > limit:
                raise ValueError("a line longer than %d bytes from the relay" % limit)
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("ascii", "replace")

    def send_raw(self, data):
        try:
            self.s.sendall(data)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(str(e))

    def send(self, line):
        self.sent.append(line)
        self.send_raw(line.encode() + b"\n")

    def greet(self):
        line = self.readline()
        m = GREETING.match(line)
        if not m:
            raise ValueError("not a version 2 greeting: %r" % line[:200])
        self.server_nonce = m.group(1)
        return m.group(1), m.group(2), line

    def req(self, cmd):
        """(status, payload) of one request; the reply's id must be the request's."""
        self.n += 1
        rid = "r%d" % self.n
        self.send("%s %s %s" % (V, rid, cmd))
        return self.reply(rid)

    def reply(self, rid):
        line = self.readline()
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[0] != V or parts[1] != rid:
            raise ValueError("unexpected reply to %s: %r" % (rid, line[:200]))
        return parts[2], (parts[3] if len(parts) > 3 else "")

    def authenticate(self, secret):
        """The v2 challenge; True when the relay's proof is right too. Raises when refused."""
        if self.server_nonce is None:
            self.greet()
        client_nonce = os.urandom(32).hex()
        self.send("%s a1 auth %s %s" % (V, client_nonce, proof(secret, "client", self.server_nonce, client_nonce)))
        status, payload = self.reply("a1")
        if status != "ok":
            raise ValueError("auth refused: %s %s" % (status, payload))
        return payload == proof(secret, "relay", self.server_nonce, client_nonce)


def parse_hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


class Target:
    def __init__(self, args):
        self.tcp = parse_hostport(args.tcp)
        self.unix = args.unix
        self.secret = open(args.secret_file, "rb").read().split(b"\n")[0]
        self.pid = args.pid
        self.auth_timeout = args.auth_timeout

    def tcp_conn(self, src, timeout=3.0):
        return Conn("tcp", self.tcp, src=src, timeout=timeout)

    def unix_conn(self, timeout=3.0):
        c = Conn("unix", self.unix, timeout=timeout)
        c.greet()
        return c

    def legit_tcp(self, timeout=3.0):
        c = self.tcp_conn(LEGIT_SRC, timeout)
        if not c.authenticate(self.secret):
            c.close()
            raise ValueError("the relay's proof is wrong")
        return c

    def stats(self):
        c = self.unix_conn()
        try:
            status, payload = c.req("stats")
            if status != "ok":
                raise ValueError("stats: %s %s" % (status, payload))
            return json.loads(payload)
        finally:
            c.close()

    def rss_kb(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise ValueError("no VmRSS")


class Prober(threading.Thread):
    """The legitimate clients while an attack runs: a fresh TCP client (handshake + ping) and a
    fresh Unix client (ping) every PROBE_PERIOD; each records (seconds taken, error or None)."""

    def __init__(self, target):
        super().__init__(daemon=True)
        self.t = target
        self.stop_event = threading.Event()
        self.tcp, self.unix = [], []

    def one(self, kind):
        t0 = now()
        c = None
        try:
            c = self.t.legit_tcp(timeout=4) if kind == "tcp" else self.t.unix_conn(timeout=4)
            r = c.req("ping")
            err = None if r == ("ok", "pong") else "ping: %r" % (r,)
        except Exception as e:  # a refusal, a reset or a timeout: all are failures to serve
            err = "%s: %s" % (type(e).__name__, e)
        finally:
            if c:
                c.close()
        return round(now() - t0, 3), err

    def run(self):
        while not self.stop_event.is_set():
            self.tcp.append(self.one("tcp"))
            self.unix.append(self.one("unix"))
            self.stop_event.wait(PROBE_PERIOD)

    def finish(self):
        self.stop_event.set()
        self.join(30)

    def summary(self):
        def one(records):
            errors = [e for _, e in records if e]
            return {"n": len(records), "failed": len(errors), "max": max([s for s, _ in records], default=None),
                    "first_error": errors[0] if errors else None}
        return {"tcp": one(self.tcp), "unix": one(self.unix)}


def with_prober(target, body):
    p = Prober(target)
    p.start()
    try:
        out = body()
    finally:
        p.finish()
    out["probes"] = p.summary()
    return out


def attempt(label, fn, out):
    """Runs fn() and stores its value (or the error's text) under out[label]."""
    try:
        out[label] = fn()
    except Exception as e:
        out[label] = "EXC %s: %s" % (type(e).__name__, e)
    return out[label]


# ---------------------------------------------------------------------------------------------
# 1. The legitimate client over TCP (v2 challenge) and the Unix socket (auth=none).

def phase_legit(t, args):
    out = {}

    def unix():
        c = Conn("unix", t.unix)
        try:
            nonce, auth, _ = c.greet()
            out["unix_auth"] = auth
            return " ".join(c.req("ping"))
        finally:
            c.close()
    attempt("unix_ping", unix, out)

    def before_auth():
        c = t.tcp_conn(LEGIT_SRC)
        try:
            nonce, auth, _ = c.greet()
            out["tcp_auth"] = auth
            return " ".join(c.req("ping"))
        except Closed:
            return "closed"
        finally:
            c.close()
    attempt("tcp_before_auth", before_auth, out)

    def session():
        c = t.tcp_conn(LEGIT_SRC)
        try:
            out["relay_proof_ok"] = c.authenticate(t.secret)
            out["ping"] = " ".join(c.req("ping"))
            st, payload = c.req("info")
            out["info_protocol"] = json.loads(payload).get("protocol") if st == "ok" else st + " " + payload
            allocated = t.stats()["sessions"]["allocated"]
            st, payload = c.req("alloc e2e a.always-learn=0 a.rtp=127.0.0.31:4000")
            out["alloc"] = st + " " + payload
            out["alloc_counted"] = t.stats()["sessions"]["allocated"] - allocated
            if st == "ok":
                out["delete"] = " ".join(c.req("delete e2e " + payload.split()[0])).strip()
            # Pipelined: three requests in one write, three replies in order.
            c.send_raw(("%s p1 ping\n%s p2 stats\n%s p3 ping\n" % (V, V, V)).encode())
            got = [c.reply(r)[0] for r in ("p1", "p2", "p3")]
            out["pipelined"] = " ".join(got)
            return True
        finally:
            c.close()
    attempt("session", session, out)

    def nonces():
        seen = []
        for _ in range(10):
            c = t.tcp_conn(LEGIT_SRC)
            try:
                seen.append(c.greet()[0])
            finally:
                c.close()
        return len(set(seen))
    attempt("distinct_nonces_of_10", nonces, out)
    return out


# ---------------------------------------------------------------------------------------------
# 2. One legitimate exchange to capture, and what the capture holds.

def phase_exchange(t, args):
    out = {}

    def run():
        c = t.tcp_conn(LEGIT_SRC)
        try:
            out["relay_proof_ok"] = c.authenticate(t.secret)
            out["ping"] = " ".join(c.req("ping"))
            st, payload = c.req("alloc e2e a.always-learn=0 a.rtp=127.0.0.31:4000")
            out["alloc"] = st + " " + payload
            if st == "ok":
                out["delete"] = " ".join(c.req("delete e2e " + payload.split()[0])).strip()
            out["sent"] = c.sent
            return True
        finally:
            c.close()
    attempt("ok", run, out)
    return out


def phase_analyze(t, args):
    """Reads the capture with tshark: the two directions of the one captured connection."""
    out = {}
    raw = open(args.capture, "rb").read()
    secret_hex = t.secret.decode().strip()
    secret_raw = bytes.fromhex(secret_hex)
    fields = subprocess.run(
        ["tshark", "-r", args.capture, "-Y", "tcp.len > 0", "-T", "fields",
         "-e", "tcp.stream", "-e", "tcp.dstport", "-e", "tcp.payload"],
        capture_output=True, text=True, timeout=60).stdout
    streams = {}
    for line in fields.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[2]:
            continue
        to_relay = int(parts[1]) == t.tcp[1]
        key = (parts[0], "to_relay" if to_relay else "from_relay")
        streams[key] = streams.get(key, b"") + bytes.fromhex(parts[2].replace(":", ""))
    ids = sorted({k[0] for k in streams})
    out["connections"] = len(ids)
    # The exchange is the connection whose client sent an auth line (the first one, if several).
    exchange = [i for i in ids if b" auth " in streams.get((i, "to_relay"), b"")][:1] or ids[:1]
    to_relay = b"".join(streams.get((i, "to_relay"), b"") for i in exchange)
    from_relay = b"".join(streams.get((i, "from_relay"), b"") for i in exchange)
    everything = [raw] + list(streams.values())
    out["bytes_to_relay"], out["bytes_from_relay"] = len(to_relay), len(from_relay)
    needles = [secret_hex.lower().encode(), secret_hex.upper().encode(), secret_raw]
    out["secret_seen"] = any(n in blob for n in needles for blob in everything)
    client_lines = to_relay.decode("ascii", "replace").splitlines()
    server_lines = from_relay.decode("ascii", "replace").splitlines()
    out["client_lines"] = client_lines
    greeting = GREETING.match(server_lines[0]) if server_lines else None
    out["greeting_captured"] = bool(greeting)
    auth = [l for l in client_lines if l.split(" ")[2:3] == ["auth"]]
    out["auth_captured"] = bool(auth)
    if greeting and auth:
        # The captured proof is genuine for the captured nonce: worth replaying.
        _, _, _, client_nonce, client_proof = auth[0].split(" ")
        out["captured_proof_valid"] = client_proof == proof(t.secret, "client", greeting.group(1), client_nonce)
        out["captured_nonce"] = greeting.group(1)
    return out


# ---------------------------------------------------------------------------------------------
# 3. Replay the captured lines on new connections.

def phase_replay(t, args):
    captured = json.loads(open(args.captured).read().strip().splitlines()[-1])
    lines = captured["client_lines"]
    out = {}
    before = t.stats()["sessions"]["allocated"]
    out["allocated_before"] = before

    def one_by_one():
        c = t.tcp_conn(REPLAY_SRC)
        replies = []
        try:
            nonce = c.greet()[0]
            out["new_nonce_differs"] = nonce != captured.get("captured_nonce")
            for line in lines:
                c.send(line)
                replies.append(c.readline())
        except Closed:
            replies.append("closed")
        except socket.timeout:
            replies.append("timeout")
        finally:
            c.close()
        return replies
    attempt("replies", one_by_one, out)

    def all_at_once():
        c = t.tcp_conn(REPLAY_SRC)
        replies = []
        try:
            c.greet()
            c.send_raw(("\n".join(lines) + "\n").encode())
            for _ in lines:
                replies.append(c.readline())
        except Closed:
            replies.append("closed")
        except socket.timeout:
            replies.append("timeout")
        finally:
            c.close()
        return replies
    attempt("replies_pipelined", all_at_once, out)
    everything = [r for k in ("replies", "replies_pipelined") if isinstance(out[k], list) for r in out[k]]
    # Refused: the auth line got "error wrong secret" or a closed connection, and nothing after it
    # was answered "ok".
    out["first_reply"] = everything[0] if everything else None
    out["any_ok"] = any(r.split(" ")[2:3] == ["ok"] for r in everything)
    out["allocated_after"] = t.stats()["sessions"]["allocated"]
    return out


# ---------------------------------------------------------------------------------------------
# 4. Wrong secrets at full speed from several connections of one address.

def phase_wrong(t, args):
    counts = {"wrong": 0, "throttled": 0, "closed": 0, "timeout": 0, "refused": 0, "other": 0, "ok": 0}
    others, throttled_example = [], []
    lock = threading.Lock()
    deadline = now() + args.duration

    def guesser():
        while now() < deadline:
            kind = None
            c = None
            try:
                c = t.tcp_conn(WRONG_SRC, timeout=3)
                c.linger0()
                line = c.readline()
                if GREETING.match(line):
                    client_nonce = os.urandom(32).hex()
                    c.send("%s g auth %s %s" % (V, client_nonce, os.urandom(32).hex()))
                    line = c.readline()
                # A throttled guesser may be told so before or after its greeting.
                if line.endswith(" error wrong secret"):
                    kind = "wrong"
                elif " error too many failed attempts" in line:  # the spec's message, maybe with more
                    kind = "throttled"
                    if not throttled_example:
                        throttled_example.append(line[:200])
                elif line.split(" ")[2:3] == ["ok"]:
                    kind = "ok"
                else:
                    kind = "other"
                    others.append(line[:200])
            except Closed:
                kind = "closed"
            except ConnectionRefusedError:
                kind = "refused"
            except socket.timeout:
                kind = "timeout"
            except ValueError as e:
                kind = "other"
                others.append(str(e)[:200])
            except OSError as e:
                kind = "closed" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "other"
                if kind == "other":
                    others.append(str(e)[:200])
            finally:
                if c:
                    c.close()
            with lock:
                counts[kind] += 1

    def body():
        t0 = now()
        threads = [threading.Thread(target=guesser, daemon=True) for _ in range(args.threads)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(args.duration + 15)
        elapsed = now() - t0
        out = dict(counts)
        out["tries"] = sum(counts.values())
        out["elapsed"] = round(elapsed, 3)
        out["checked_per_s"] = round(counts["wrong"] / elapsed, 1)
        out["tries_per_s"] = round(out["tries"] / elapsed, 1)
        out["others"] = others[:5]
        out["throttled_example"] = throttled_example[:1]
        return out
    return with_prober(t, body)


# ---------------------------------------------------------------------------------------------
# 5. Garbage: random bytes, a binary line, bytes without a newline, 10 MB lines.

def outcome(c, deadline):
    """The first line the relay sends, 'closed', or 'timeout' at the deadline."""
    try:
        c.s.settimeout(max(0.1, deadline - now()))
        while True:
            line = c.readline()
            if not line.startswith("iptrtp/2 - hello"):
                return line[:200]
    except Closed:
        return "closed"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "closed" if e.errno in (errno.ECONNRESET, errno.EPIPE) else "EXC " + str(e)


def refused(result):
    """An error reply or a closed connection (what the spec allows for bad input)."""
    return result == "closed" or (result.startswith(V + " ") and result.split(" ")[2:3] == ["error"])


def send_in_thread(c, data):
    def run():
        try:
            c.s.sendall(data)
        except OSError:
            pass  # the relay closed on us: that is one of the allowed outcomes
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def phase_garbage(t, args):
    big = b"x" * (10 * 1024 * 1024) + b"\n"
    out = {}
    cases = {}

    ends = {}  # a line over 4096 bytes: does the connection end after the error (the spec says so)?

    def ended(c):
        """'closed' when the relay ends the connection within 3 s (nothing more is sent), else 'open'."""
        r = "closed"
        while r not in ("closed", "timeout") and not r.startswith("EXC"):
            r = outcome(c, now() + 3)
        return "closed" if r == "closed" else "open"

    def unauth(data, wait, follow=None):
        c = t.tcp_conn(GARBAGE_SRC, timeout=3)
        try:
            th = send_in_thread(c, data)
            r = outcome(c, now() + wait)
            if follow:
                ends[follow] = r if r == "closed" else ended(c)
            th.join(5)
            return r
        finally:
            c.close()

    def authed(data):
        c = t.tcp_conn(GARBAGE_SRC, timeout=3)
        try:
            c.authenticate(t.secret)
            th = send_in_thread(c, data)
            r = outcome(c, now() + 5)
            th.join(5)
            after = None
            if r != "closed":
                try:
                    after = " ".join(c.req("ping"))
                except (Closed, OSError):
                    after = "closed"
            return r, after
        finally:
            c.close()

    def unix(data, follow=None):
        c = t.unix_conn()
        try:
            th = send_in_thread(c, data)
            r = outcome(c, now() + 5)
            if follow:
                ends[follow] = r if r == "closed" else ended(c)
            th.join(5)
            return r
        finally:
            c.close()

    def body():
        # Bytes without a newline: only the auth deadline ends this one; run it alongside.
        silent = {}
        th = threading.Thread(target=lambda: attempt(
            "no_newline", lambda: unauth(b"GARBAGE" * 10, t.auth_timeout + 3), silent), daemon=True)
        t_silent = now()
        th.start()
        attempt("random_bytes", lambda: unauth(os.urandom(4000), 5), cases)
        attempt("binary_line", lambda: unauth(bytes(range(256)) * 4 + b"\n", 5), cases)
        attempt("line_10mb", lambda: unauth(big, 10, "tcp"), cases)
        attempt("authed_binary_line", lambda: authed(b"iptrtp/2 b1 \x00\xff\x01\x80 ping\n"), cases)
        attempt("authed_random_bytes", lambda: authed(os.urandom(3000).replace(b"\n", b".") + b"\n"), cases)
        attempt("authed_line_10mb", lambda: authed(big), cases)
        attempt("unix_line_10mb", lambda: unix(big, "unix"), cases)
        attempt("unix_binary_line", lambda: unix(bytes(range(1, 256)) + b"\n"), cases)
        th.join(t.auth_timeout + 10)
        cases["no_newline"] = silent.get("no_newline", "EXC not finished")
        out["no_newline_seconds"] = round(now() - t_silent, 2)
        out["cases"] = cases
        a = cases.get("authed_line_10mb")
        ends["tcp_authenticated"] = "closed" if isinstance(a, (list, tuple)) and "closed" in a else "open"
        out["long_line_ends"] = ends
        bad = []
        for name, r in cases.items():
            first = r[0] if isinstance(r, (list, tuple)) else r
            if not isinstance(first, str) or not refused(first):
                bad.append("%s: %r" % (name, r))
        # A malformed request on an authenticated connection leaves it usable (an error reply,
        # then ping answers); a closed connection is allowed too, never an "ok".
        for name in ("authed_binary_line", "authed_random_bytes"):
            r = cases.get(name)
            if isinstance(r, (list, tuple)) and r[0] != "closed" and r[1] != "ok pong":
                bad.append("%s: not usable after the error: %r" % (name, r))
        out["not_refused"] = bad
        return out
    return with_prober(t, body)


# ---------------------------------------------------------------------------------------------
# 6. Idle connections: 500 from many addresses, 20 from one; they say nothing.

def phase_idle(t, args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    opened, closed, greeted = {}, {}, {}
    group = {}
    connecting = {}

    def open_one(src, g):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.setblocking(False)
        err = s.connect_ex(t.tcp)
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return
        group[s] = g
        connecting[s] = now()
        sel.register(s, selectors.EVENT_WRITE)

    def pump(until):
        while now() < until:
            for key, ev in sel.select(timeout=max(0.0, min(0.05, until - now()))):
                s = key.fileobj
                if s in connecting:
                    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    del connecting[s]
                    if e:
                        sel.unregister(s)
                        s.close()
                        continue
                    opened[s] = now()
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                try:
                    d = s.recv(65536)  # the greeting: the relay has accepted this one
                except OSError:
                    d = b""
                if d and s not in greeted:
                    greeted[s] = now()
                if not d:
                    closed[s] = now()
                    sel.unregister(s)
            if not sel.get_map():
                return

    def open_count(g):
        """Connections of group g the relay holds: accepted (greeted) and not closed."""
        return sum(1 for s in greeted if group[s] == g and s not in closed)

    def settled(batch):
        return all(s in greeted or s in closed or (s not in opened and s not in connecting) for s in batch)

    def body():
        out = {}
        t0 = now()
        # The crowd first, then the 20 from one address: those are the newest, so only the limit
        # per address (not the listener's cap, which makes room from the oldest) closes them.
        # In batches of 32, each taken (greeted or closed) before the next, within 1 s: a burst
        # of hundreds overflows the listen backlog, and connections the kernel has answered but
        # the relay never accepted would be the kernel's idle connections, not the relay's.
        plan = [(IDLE_NET % (100 + i // 4), "many") for i in range(args.idle)] + [(ONE_ADDR_SRC, "one")] * 20
        if args.burst:
            plan = plan[:args.idle]
        size = len(plan) if args.burst else 32
        for k in range(0, len(plan), size):
            before = set(group)
            for src, g in plan[k:k + size]:
                open_one(src, g)
            batch = [s for s in group if s not in before]
            until = now() + 1
            while now() < until and not settled(batch):
                pump(min(until, now() + 0.02))
        # Connects still pending after 3 s more are given up (the relay did not take them).
        until = now() + 3
        while connecting and now() < until:
            pump(now() + 0.1)
        out["open_seconds"] = round(now() - t0, 2)
        out["connect_pending_given_up"] = len(connecting)
        for s in list(connecting):
            sel.unregister(s)
            s.close()
        connecting.clear()
        out["opened_one"] = sum(1 for s in opened if group[s] == "one")
        out["opened_many"] = sum(1 for s in opened if group[s] == "many")
        t_opened = now()
        # Hold them (the prober runs meanwhile) for 2 s, well inside the auth deadline.
        pump(t_opened + 2.0)
        out["open_one_after_2s"] = open_count("one")
        out["open_many_after_2s"] = open_count("many")
        out["open_now_seconds"] = round(now() - t0, 2)
        return out

    p = Prober(t)
    p.start()
    try:
        out = body()
    finally:
        p.finish()
    out["probes"] = p.summary()
    if args.burst:
        # All at once, as an attacker would: only how the legitimate clients fared counts; what
        # the listen backlog dropped is the kernel's to retry, so the connections are just closed.
        out["greeted"] = len(greeted)
        for s in list(group):
            s.close()
        return out
    # Then wait for the relay to close what is left: by the auth deadline (+ 3 s of slack).
    last_open = max(opened.values(), default=now())
    pump(last_open + t.auth_timeout + 3)
    still = [s for s in opened if s not in closed]
    out["still_open_after_deadline"] = len(still)
    out["greeted"] = len(greeted)
    out["never_greeted"] = sum(1 for s in opened if s not in greeted)
    delays = [closed[s] - greeted.get(s, opened[s]) for s in closed]
    out["closed_by_relay"] = len(closed)
    out["max_close_delay"] = round(max(delays, default=0), 2)
    out["closed_within_1s"] = sum(1 for d in delays if d < 1)
    for s in list(opened):
        s.close()
    return out


# ---------------------------------------------------------------------------------------------
# 7. Authenticated clients that send list/stats as fast as they can and never read.

def phase_noread(t, args):
    out = {}
    u = t.unix_conn()
    sessions = []
    try:
        # Sessions make list replies long, so that an unbounded relay grows fast.
        for i in range(args.sessions):
            st, payload = u.req("alloc e2e a.always-learn=0 a.rtp=127.0.0.31:%d a.rtcp=127.0.0.31:%d"
                                % (5000 + 2 * i, 5001 + 2 * i))
            if st == "ok":
                sessions.append(payload.split()[0])
    finally:
        u.close()
    out["sessions"] = len(sessions)
    clients = []
    for i in range(args.clients):
        c = t.tcp_conn(NOREAD_SRC, timeout=3)
        c.authenticate(t.secret)
        c.s.setblocking(False)
        clients.append(c)
    chunk = b"".join(("%s n%d %s\n" % (V, i, "list" if i % 2 else "stats")).encode() for i in range(200))
    sent = [0] * len(clients)
    pending = [chunk] * len(clients)  # whole lines only: a partial send goes on where it stopped
    closed_at = [None] * len(clients)
    rss = []
    base = t.rss_kb()
    out["rss_base_kb"] = base
    import select as sel
    poller = sel.poll()
    for i, c in enumerate(clients):
        poller.register(c.s.fileno(), sel.POLLOUT | sel.POLLERR | sel.POLLHUP | sel.POLLRDHUP)
    by_fd = {c.s.fileno(): i for i, c in enumerate(clients)}

    def body():
        t0 = now()
        next_sample = t0
        deadline = t0 + args.max_seconds
        while now() < deadline and any(x is None for x in closed_at):
            if now() >= next_sample:
                try:
                    rss.append(t.rss_kb())
                except (OSError, ValueError):
                    rss.append(None)
                next_sample += 0.2
            for fd, ev in poller.poll(50):
                i = by_fd[fd]
                if closed_at[i] is not None:
                    continue
                if ev & (sel.POLLERR | sel.POLLHUP | sel.POLLRDHUP):
                    closed_at[i] = now() - t0
                    poller.unregister(fd)
                    continue
                if ev & sel.POLLOUT:
                    try:
                        k = clients[i].s.send(pending[i])
                        sent[i] += k
                        pending[i] = pending[i][k:] or chunk
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed_at[i] = now() - t0
                        poller.unregister(fd)
        out["seconds"] = round(now() - t0, 2)
        return out
    with_prober(t, body)
    for c in clients:
        c.close()
    samples = [r for r in rss if r is not None]
    out["rss_samples"] = len(samples)
    out["rss_max_kb"] = max(samples, default=None)
    out["rss_growth_mb"] = round((max(samples) - base) / 1024, 1) if samples else None
    out["closed_at"] = [round(x, 2) if x is not None else None for x in closed_at]
    out["closed"] = sum(1 for x in closed_at if x is not None)
    out["max_closed_at"] = max((x for x in closed_at if x is not None), default=None)
    out["min_sent_kb"] = min(sent) // 1024
    out["sent_kb"] = [x // 1024 for x in sent]
    # The prober's numbers are in out["probes"] (with_prober added them to this dict).

    def delete():
        u = t.unix_conn()
        try:
            return sum(1 for sid in sessions if u.req("delete e2e " + sid)[0] == "ok")
        finally:
            u.close()
    attempt("deleted", delete, out)
    return out


# ---------------------------------------------------------------------------------------------
# 8. At the end: stats over both listeners.

def phase_final(t, args):
    out = {}
    attempt("unix_stats_allocated", lambda: t.stats()["sessions"]["allocated"], out)
    attempt("unix_stats_active", lambda: t.stats()["sessions"]["active"], out)

    def tcp():
        c = t.legit_tcp()
        try:
            st, payload = c.req("stats")
            return st
        finally:
            c.close()
    attempt("tcp_stats", tcp, out)
    return out


PHASES = {"legit": phase_legit, "exchange": phase_exchange, "analyze": phase_analyze,
          "replay": phase_replay, "wrong": phase_wrong, "garbage": phase_garbage,
          "idle": phase_idle, "noread": phase_noread, "final": phase_final}


def get(path, key):
    lines = [l for l in open(path).read().splitlines() if l.startswith("{")]
    if not lines:
        return ""
    v = json.loads(lines[-1])
    for k in key.split("."):
        if isinstance(v, dict) and k in v:
            v = v[k]
        elif isinstance(v, list) and k.isdigit() and int(k) < len(v):
            v = v[int(k)]
        else:
            return ""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else json.dumps(v)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "get":
        print(get(sys.argv[2], sys.argv[3]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=sorted(PHASES))
    ap.add_argument("--tcp", required=True)
    ap.add_argument("--unix", required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--auth-timeout", type=float, default=5)
    ap.add_argument("--capture")
    ap.add_argument("--captured")
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--idle", type=int, default=500)
    ap.add_argument("--burst", action="store_true", help="idle: open them all at once, only probe")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--sessions", type=int, default=24)
    ap.add_argument("--max-seconds", type=float, default=20)
    args = ap.parse_args()
    out = PHASES[args.phase](Target(args), args)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
