#!/usr/bin/env bash
# Sessions per host (issue 15 item 3): starts build/iptrtpproxyd in a network namespace this script
# creates and removes, with 4 switchboards on 8 gate addresses (127.0.53.1-8, ports from 4000: one
# address holds at most ~30,000 sessions), allocates SESSIONS sessions over one control connection
# (pipelined, fewer replies in flight than the relay's unread-replies limit) spread over the
# switchboards, and reports the live count, the relay's RSS and descriptors before and after,
# bytes and descriptors per session, allocations per second and relay CPU per allocation.
#
#   scripts/shared-sockets-sessions.sh                    # 100,000 sessions, --shared-sockets (root)
#   SESSIONS=20000 MODE=per-port scripts/shared-sockets-sessions.sh   # today's socket per port
#
# Needs root (network namespace; shared mode: CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW) and `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${SESSIONS:-100000}
MODE=${MODE:-shared}
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
export IPTRTPPROXY_BPF_DIR=${IPTRTPPROXY_BPF_DIR:-build/bpf}
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespace)" >&2; exit 1; }
[ -x "$DAEMON" ] || { echo "$DAEMON is missing (make build)" >&2; exit 1; }
PER_SWITCHBOARD=$(( (SESSIONS + 3) / 4 ))
[ "$PER_SWITCHBOARD" -le 30000 ] || { echo "at most 120000 sessions (4 switchboards x 30000)" >&2; exit 1; }

NS=iptscale$$
work=$(mktemp -d /tmp/ipt-sessions.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  ip netns delete "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up

for i in 0 1 2 3; do
  cat >> "$work/iptrtpproxy.cfg" <<CFG
[switchboard:s$i]
addr-a = 127.0.53.$((2 * i + 1))
addr-b = 127.0.53.$((2 * i + 2))
port-a = 4000
max-sess = $PER_SWITCHBOARD
expires-timeout = 3600
CFG
done
args=(--config "$work/iptrtpproxy.cfg" --control "unix:$work/control.sock" --workers 2 --no-notify)
[ "$MODE" = shared ] && args+=(--shared-sockets)
(exec ip netns exec "$NS" "$DAEMON" "${args[@]}" 2>"$work/daemon.log") &
pid=$!
for _ in $(seq 200); do grep -q "iptrtpproxyd .* running" "$work/daemon.log" 2>/dev/null && break; kill -0 "$pid" || break; sleep 0.05; done
grep -q "iptrtpproxyd .* running" "$work/daemon.log" || { cat "$work/daemon.log"; exit 1; }
grep -E "shared sockets" "$work/daemon.log" || true

ip netns exec "$NS" python3 - "$work/control.sock" "$SESSIONS" "$pid" "$MODE" <<'PY'
import json, os, socket, sys, time
path, total, pid, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
HZ = os.sysconf("SC_CLK_TCK")
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) * 1024
def fds(): return len(os.listdir(f"/proc/{pid}/fd"))
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(30)
r = s.makefile("rb")
r.readline()  # greeting
def request(line):
    s.sendall(f"iptrtp/2 x {line}\n".encode()); return r.readline().decode().split(" ", 3)
before = json.loads(request("stats")[3])["sessions"]["active"]
rss0, fds0, cpu0 = rss(), fds(), cpu()
# At most WINDOW requests in flight: far below what the relay lets a connection leave unread.
WINDOW = 256
sent = done = failed = 0
t0 = time.monotonic()
first_error = None
while done < total:
    burst = []
    while sent < total and sent - done < WINDOW:
        sw = sent % 4
        c = 10 + sent % 200
        burst.append(f"iptrtp/2 {sent} alloc s{sw} a.rtp=10.1.{sw}.{c}:{2000 + 2 * (sent % 20000)} b.rtp=10.2.{sw}.{c}:{2000 + 2 * (sent % 20000)}\n")
        sent += 1
    if burst: s.sendall("".join(burst).encode())
    line = r.readline().decode()
    if not line: sys.exit("relay closed the connection")
    parts = line.split(" ", 3)
    done += 1
    if parts[2] != "ok":
        failed += 1
        first_error = first_error or line.strip()
elapsed = time.monotonic() - t0
cpu1 = cpu()
time.sleep(0.2)
stats = json.loads(request("stats")[3])
live = stats["sessions"]["active"]
rss1, fds1 = rss(), fds()
print(f"mode {mode}: {live} live sessions ({total} allocs, {failed} failed{': ' + first_error if first_error else ''})")
print(f"  RSS {rss0 / 2**20:.1f} MiB -> {rss1 / 2**20:.1f} MiB: {(rss1 - rss0) / max(1, live - before):.0f} B per session added, {rss1 / max(1, live):.0f} B per session in all")
print(f"  descriptors {fds0} -> {fds1}: {(fds1 - fds0) / max(1, live - before):.2f} per session")
print(f"  allocs {total / elapsed:.0f}/s over one connection (client-bound: Python); relay CPU {1e6 * (cpu1 - cpu0) / total:.1f} us per alloc")
PY
