#!/usr/bin/env bash
# Kernel forwarding benchmark (issue 5), in three network namespaces this script creates and always
# removes: caller 203.0.113.2 — relay (media address 192.0.2.10 on lo, routing) — callee 198.51.100.2.
# A C sender (sendmmsg, 172-byte packets, flat-out, pinned to CPU 0) sends from the caller for
# BENCH_KERNEL_SECONDS; a C sink (recvmmsg, CPU 1) counts at the callee. Kernel paths forward in
# softirq on the sender's core, so "pps" is what one core sends, forwards and delivers per second.
# Scenarios, interleaved for BENCH_KERNEL_ROUNDS rounds (each column's median is printed):
#   plain routing       caller → callee address, relay only routes (no nft table): the ceiling
#   kernel offload      caller → relay port, our nf_tables table (ipt-nft-probe: netdev ingress,
#                       one map lookup, rewrite, fwd to the next hop) relays it
#   kernel, 8000 more   the same with 8 000 other streams in the maps
#   userspace relay     caller → relay port, build/iptrtpproxyd forwards (when it is built; the
#                       relay on CPU 1 with the sink)
# Prints rows "kernel | scenario | pps | loss | CPU µs/pkt" (CPU: the sender's core, which does the
# kernel's forwarding, plus the userspace relay's own) and the ratio kernel offload / plain routing.
# Fair by construction: every scenario sends the same packets from the same pinned sender over the
# same veths through the relay namespace to the same pinned sink; plain routing is that namespace
# with no nft table at all (so no netfilter hook runs), the kernel offload adds only our table.
# Needs root. Knobs: BENCH_KERNEL_SECONDS=3, BENCH_KERNEL_ROUNDS=3, BENCH_KERNEL_FILL=8000.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECS=${BENCH_KERNEL_SECONDS:-3}
ROUNDS=${BENCH_KERNEL_ROUNDS:-3}
FILL=${BENCH_KERNEL_FILL:-8000}
if [ "$(id -u)" -ne 0 ]; then echo "kernel bench: needs root (network namespaces); skipped"; exit 0; fi
probe=${IPT_NFT_PROBE:-}
if [ -z "$probe" ]; then
  bin=$(swift build -c release --show-bin-path 2>/dev/null)
  [ -x "$bin/ipt-nft-probe" ] || swift build -c release --product ipt-nft-probe >/dev/null
  probe=$bin/ipt-nft-probe
fi
relayd=${IPTRTPPROXYD:-build/iptrtpproxyd}

tag=iptb$$
caller=${tag}c relay=${tag}r callee=${tag}e
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns exec "$relay" "$probe" stop 2>/dev/null || true
  for n in "$caller" "$relay" "$callee"; do ip netns del "$n" 2>/dev/null || true; done
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sender and sink ---------------------------------------------------------------------------
cat > "$work/udpblast.c" <<'C'
// udpblast SRC_IP SRC_PORT DST_IP DST_PORT SECONDS: sends 172-byte datagrams flat-out; prints the
// count and the CPU seconds it used. Without IRQ time accounting the softirq work done on its core
// on its behalf (forwarding, delivery) is charged to it, so CPU / packets is the path's cost.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    if (argc != 6) return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) }, dst = src;
    inet_pton(AF_INET, argv[1], &src.sin_addr);
    dst.sin_port = htons(atoi(argv[4])); inet_pton(AF_INET, argv[3], &dst.sin_addr);
    if (bind(fd, (void *)&src, sizeof src) || connect(fd, (void *)&dst, sizeof dst)) { perror("udpblast"); return 1; }
    enum { BATCH = 64 };
    static char payload[172];
    payload[0] = (char)0x80;
    struct iovec iov[BATCH]; struct mmsghdr m[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) { iov[i].iov_base = payload; iov[i].iov_len = sizeof payload; m[i].msg_hdr.msg_iov = &iov[i]; m[i].msg_hdr.msg_iovlen = 1; }
    unsigned long long sent = 0;
    double end = now() + atof(argv[5]);
    while (now() < end) { int n = sendmmsg(fd, m, BATCH, 0); if (n > 0) sent += n; }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%llu %.3f\n", sent, ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    return 0;
}
C
cat > "$work/udpsink.c" <<'C'
// udpsink IP PORT: counts datagrams until none came for 0.5 s after the first; prints "ready", then the count.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    inet_pton(AF_INET, argv[1], &a.sin_addr);
    if (bind(fd, (void *)&a, sizeof a)) { perror("udpsink"); return 1; }
    struct timeval tv = { 0, 200000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    enum { BATCH = 64 };
    static char buf[BATCH][2048];
    struct iovec iov[BATCH]; struct mmsghdr m[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) { iov[i].iov_base = buf[i]; iov[i].iov_len = sizeof buf[i]; m[i].msg_hdr.msg_iov = &iov[i]; m[i].msg_hdr.msg_iovlen = 1; }
    printf("ready\n"); fflush(stdout);
    unsigned long long got = 0;
    double deadline = now() + 30, idle_since = 0;
    // Counts until nothing has arrived for 0.5 s after the first packet (or 30 s without any).
    for (;;) {
        int n = recvmmsg(fd, m, BATCH, 0, NULL);
        double t = now();
        if (n > 0) { got += n; idle_since = 0; continue; }
        if (got == 0 && t > deadline) break;
        if (got > 0) { if (idle_since == 0) idle_since = t; else if (t - idle_since > 0.5) break; }
    }
    printf("%llu\n", got);
    return 0;
}
C
cc -O2 -o "$work/udpblast" "$work/udpblast.c"
cc -O2 -o "$work/udpsink" "$work/udpsink.c"

# --- topology ----------------------------------------------------------------------------------
source Tests/e2e/lib/three-hosts.sh
three_hosts_create || { echo "kernel: cannot create the namespaces" >&2; exit 1; }
# Let the first packets find their neighbours before anything is measured.
ip netns exec "$caller" ping -c1 -W1 198.51.100.2 >/dev/null 2>&1 || true

R=192.0.2.10
stream="$R:30000 203.0.113.2:4000 $R:30002 198.51.100.2:6000"

# measure DST_IP DST_PORT [RELAY_PID] -> "forwarded_pps loss_pct cpu_us_per_packet": CPU per packet delivered, the
# sender's (which includes the kernel's forwarding on its core) plus the relay process's, if given.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
measure() {
  local out=$work/sink.out relay_before=0 relay_after=0
  ip netns exec "$callee" taskset -c 1 "$work/udpsink" 198.51.100.2 6000 >"$out" & local sink=$!
  pids+=("$sink")
  for _ in $(seq 200); do grep -q ready "$out" 2>/dev/null && break; sleep 0.01; done
  [ -n "${3:-}" ] && relay_before=$(ticks "$3")
  local sent cpu
  read -r sent cpu < <(ip netns exec "$caller" taskset -c 0 "$work/udpblast" 203.0.113.2 4000 "$1" "$2" "$SECS")
  [ -n "${3:-}" ] && relay_after=$(ticks "$3")
  wait "$sink" || true
  local got; got=$(tail -1 "$out")
  awk -v s="$sent" -v g="$got" -v d="$SECS" -v c="$cpu" -v r=$((relay_after - relay_before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%d %.3f %.2f\n", g / d, (s > 0 ? 100 * (s - g) / s : 100), (g > 0 ? 1e6 * (c + r / hz) / g : 0) }'
}

declare -A results
run_plain() { ip netns exec "$relay" "$probe" stop; results[plain]+="$(measure 198.51.100.2 6000);"; }
run_kernel() {
  ip netns exec "$relay" "$probe" start
  ip netns exec "$relay" "$probe" install $stream
  results[kernel]+="$(measure $R 30000);"
}
# The userspace relay: build/iptrtpproxyd in the relay namespace (one forwarding thread on CPU 1,
# flood throttle off) with one call set up over its control socket; the caller sends to gate A.
cat > "$work/relay.cfg" <<CFG
[switchboard:bench]
addr-a = 192.0.2.10
addr-b = 192.0.2.10
port-a = 30000
port-b = 31000
max-sess = 4
CFG
run_userspace() {
  ip netns exec "$relay" "$probe" stop
  rm -f "$work/control.sock" "$work/call"
  ip netns exec "$relay" taskset -c 1 "$relayd" --config "$work/relay.cfg" --control "unix:$work/control.sock" \
    --workers 1 --max-stream-pps 100000000 --max-stream-burst 1000000 --log-level warning 2>>"$work/relay.log" &
  local relay_pid=$!; pids+=("$relay_pid")
  for _ in $(seq 100); do [ -S "$work/control.sock" ] && break; sleep 0.05; done
  python3 - "$work/control.sock" >"$work/call" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3); s.connect(sys.argv[1]); f = s.makefile("rwb")
f.readline()  # the relay's greeting
def req(n, cmd):
    f.write(("iptrtp/2 %d %s\n" % (n, cmd)).encode()); f.flush(); return f.readline().decode().split()
r = req(1, "alloc bench a.rtp=203.0.113.2:4000 a.rtcp=203.0.113.2:4001")
req(2, "update bench %s b.rtp=198.51.100.2:6000 b.rtcp=198.51.100.2:6001" % r[3])
print(r[4])
PY
  results[user]+="$(measure $R "$(cat "$work/call")" "$relay_pid");"
  kill -TERM "$relay_pid"; wait "$relay_pid" 2>/dev/null || true
}

run_kernel_full() {
  ip netns exec "$relay" "$probe" start
  ip netns exec "$relay" "$probe" fill "$FILL" 192.0.2.10:32000 198.51.100.99:10000
  ip netns exec "$relay" "$probe" install $stream
  results[full]+="$(measure $R 30000);"
}

have_relay=0
if [ -x "$relayd" ]; then have_relay=1; fi
for round in $(seq "$ROUNDS"); do
  run_plain
  run_kernel
  run_kernel_full
  if [ "$have_relay" = 1 ]; then run_userspace; fi
done
ip netns exec "$relay" "$probe" stop

# column N of "pps loss cpu;" entries: the median over the rounds
median() {
  echo "$1" | tr ';' '\n' | awk -v c="$2" 'NF { print $c }' | sort -g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}
row() { printf 'kernel | %s | %s | %s %% | %s\n' "$1" "$(median "$2" 1)" "$(median "$2" 2)" "$(median "$2" 3)"; }

echo "kernel | scenario | pps | loss | CPU µs/pkt"
row "plain routing (ceiling)" "${results[plain]}"
row "kernel offload (nf_tables netdev + fwd)" "${results[kernel]}"
row "kernel offload, $FILL more streams in the maps" "${results[full]}"
if [ "$have_relay" = 1 ]; then row "userspace relay (iptrtpproxyd, 1 thread)" "${results[user]}"
else echo "kernel | userspace relay | not measured ($relayd not built) | - | -"; fi
plain=$(median "${results[plain]}" 1) kernel=$(median "${results[kernel]}" 1)
plain_cpu=$(median "${results[plain]}" 3) kernel_cpu=$(median "${results[kernel]}" 3)
awk -v k="$kernel" -v p="$plain" -v kc="$kernel_cpu" -v pc="$plain_cpu" -v n="$ROUNDS" \
  'BEGIN { printf "kernel offload / plain routing = %.2f by pps, %.2f by CPU per packet (%.2f / %.2f µs); medians of %d rounds\n", (p > 0 ? k / p : 0), (kc > 0 ? pc / kc : 0), pc, kc, n }'
