#!/usr/bin/env bash
# Kernel forwarding benchmark (issues 5 and 15), in three network namespaces this script creates and
# always removes: caller 203.0.113.2 — relay (media address 192.0.2.10 on lo) — callee 198.51.100.2.
# A C sender (sendmmsg, 172-byte packets, flat-out, one stream, pinned to CPU 0) sends from the
# caller for BENCH_KERNEL_SECONDS; a C sink (recvmmsg, CPU 1) counts. Kernel paths forward in softirq
# on the sender's core, so "pps" is what one core sends, forwards and delivers per second.
# Rows, interleaved for BENCH_KERNEL_ROUNDS rounds:
#   no-forwarding limit     the sink in the relay namespace on the relay's address: one veth hop,
#                           nothing forwards (a relay hop that costs nothing)
#   plain routing           caller → callee address, the relay namespace only routes (no nft, no XDP)
#   nftables offload        our daemon, build/iptrtpproxyd --kernel-offload [--kernel-offload-path
#                           nftables], one call, latched in user space, then in its nf_tables table
#   nftables, N more        ipt-nft-probe's table (same rule set) with BENCH_KERNEL_FILL other streams
#   XDP offload (generic)   our daemon, --kernel-offload-path xdp --xdp-mode generic
#   eBPF at tc ingress      the same fast path as a tc classifier, --xdp-mode tc (no generic XDP copy)
#   XDP offload (native)    the same, --xdp-mode native; native redirect into a veth needs NAPI on
#                           the target's peer, so the callee's ke has GRO on for this row only
#   user space              our daemon without offload, its one forwarding thread on CPU 1
# The senders' tx checksum offload is off in every row (full checksums, as from a real NIC).
# Each row: pps, loss, CPU µs/pkt (sender rusage, which includes the softirq forwarding on its core,
# plus the relay process's own CPU), medians over the rounds, and ratios to plain routing and to the
# limit, each the median of per-round ratios. The XDP rows add the program's own run time per packet
# from bpf_stats, taken in one more run of each XDP row after the rounds (kernel.bpf_stats_enabled
# is set for that run only and restored after: the two clock reads per run it adds would otherwise
# weigh on the XDP rows' pps and CPU), then scripts/bench/xdp_prog.sh measures the program alone.
# Table: scripts/bench/kernel_table.py. Needs root.
# Knobs: BENCH_KERNEL_SECONDS=3, BENCH_KERNEL_ROUNDS=5, BENCH_KERNEL_FILL=8000 (0: no fill row),
# BENCH_KERNEL_ROWS="limit plain nftables fill xdp-generic xdp-tc xdp-native user" (which, in this order),
# BENCH_KERNEL_OUT=.build-bench/kernel-results.txt (raw rows), BENCH_KEEP=1 (keep the work folder),
# BENCH_NICE=-10 (priority of the sender, the sink and the relay processes; 0: none).
set -euo pipefail
cd "$(dirname "$0")/../.."

SECS=${BENCH_KERNEL_SECONDS:-3}
ROUNDS=${BENCH_KERNEL_ROUNDS:-5}
FILL=${BENCH_KERNEL_FILL:-8000}
ROWS=${BENCH_KERNEL_ROWS:-limit plain nftables fill xdp-generic xdp-tc xdp-native user}
OUT=${BENCH_KERNEL_OUT:-.build-bench/kernel-results.txt}
if [ "$(id -u)" -ne 0 ]; then echo "kernel bench: needs root (network namespaces); skipped"; exit 0; fi

tag=iptb$$
caller=${tag}c relay=${tag}r callee=${tag}e
work=$(mktemp -d)
pids=()
source Tests/e2e/lib/three-hosts.sh
source scripts/bench/knee_relays.sh
probe=""
cleanup() {
  [ -n "$probe" ] && ip netns exec "$relay" "$probe" stop 2>/dev/null
  ip netns exec "$callee" ethtool -K ke gro off >/dev/null 2>&1
  kr_cleanup
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- which rows can run ------------------------------------------------------------------------
declare -A skip
want() { [[ " $ROWS " == *" $1 "* ]] && [ -z "${skip[$1]:-}" ]; }
for r in nftables xdp-generic xdp-tc xdp-native user; do
  if ! why=$(kr_supports "ours-$r"); then skip[$r]=$why; fi
done
if [ "$FILL" = 0 ]; then skip[fill]="BENCH_KERNEL_FILL=0"; fi
if [[ " $ROWS " == *" fill "* ]] && [ -z "${skip[fill]:-}" ]; then
  probe=${IPT_NFT_PROBE:-}
  if [ -z "$probe" ]; then
    bin=$(swift build -c release --show-bin-path 2>/dev/null)
    [ -x "$bin/ipt-nft-probe" ] || swift build -c release --product ipt-nft-probe >/dev/null 2>&1 || true
    probe=$bin/ipt-nft-probe
  fi
  [ -x "$probe" ] || { skip[fill]="ipt-nft-probe not built"; probe=""; }
fi

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
kr_topology || { echo "kernel: cannot create the namespaces" >&2; exit 1; }

# measure SINK_NS SINK_IP DST_IP DST_PORT [RELAY_PID]: "pps loss_pct cpu_us_per_packet" into
# $work/measured (run in this shell, so that the sink is in $pids for the cleanup): CPU per packet
# delivered, the sender's (which includes the kernel's forwarding on its core) plus the relay
# process's, if given.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
measure() {
  local out=$work/sink.out relay_before=0 relay_after=0 i
  rm -f "$out"
  ip netns exec "$1" "${KR_NICE[@]}" taskset -c 1 "$work/udpsink" "$2" 6000 >"$out" & local sink=$!
  pids+=("$sink")
  for i in $(seq 200); do grep -q ready "$out" 2>/dev/null && break; sleep 0.01; done
  [ -n "${5:-}" ] && relay_before=$(ticks "$5")
  local sent cpu
  read -r sent cpu < <(ip netns exec "$caller" "${KR_NICE[@]}" taskset -c 0 "$work/udpblast" $KR_CALLER $KR_CALLER_BASE "$3" "$4" "$SECS")
  [ -n "${5:-}" ] && relay_after=$(ticks "$5")
  wait "$sink" || true
  local got; got=$(tail -1 "$out")
  awk -v s="$sent" -v g="$got" -v d="$SECS" -v c="$cpu" -v r=$((relay_after - relay_before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%d %.3f %.3f\n", g / d, (s > 0 ? 100 * (s - g) / s : 100), (g > 0 ? 1e6 * (c + r / hz) / g : 0) }' \
    >"$work/measured"
}

mkdir -p "$(dirname "$OUT")"
echo "kernel: $(date -u '+%F %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
: >"$OUT"
# Raw rows: ROUND ROW PPS LOSS CPU XDP_NS KERNEL_PCT ("-" where a column does not apply).
record() { echo "$round $1 $2" >>"$OUT"; }

run_limit() { measure "$relay" $KR_GATE $KR_GATE 6000; record limit "$(cat "$work/measured") - -"; }
run_plain() { measure "$callee" $KR_CALLEE $KR_CALLEE 6000; record plain "$(cat "$work/measured") - -"; }
run_fill() {
  ip netns exec "$relay" "$probe" start
  ip netns exec "$relay" "$probe" fill "$FILL" 192.0.2.10:32000 198.51.100.99:10000
  ip netns exec "$relay" "$probe" install $KR_GATE:30000 $KR_CALLER:$KR_CALLER_BASE $KR_GATE:30002 $KR_CALLEE:$KR_CALLEE_BASE
  measure "$callee" $KR_CALLEE $KR_GATE 30000
  record fill "$(cat "$work/measured") - -"
  ip netns exec "$relay" "$probe" stop
}
# run_daemon ROW: our relay in the relay namespace, its process on CPU 1 with the sink, one call.
# Offload rows also record the share of the delivered packets that never reached the relay's
# sockets (forwarded in the kernel): a path that passes packets to user space shows there.
run_daemon() {
  local row=$1 mode=ours-$1 xdp="-" before after udp_before udp_after share="-"
  [ "$row" = xdp-native ] && ip netns exec "$callee" ethtool -K ke gro on >/dev/null
  if kr_start "$mode" 1 && kr_calls 1; then
    [[ $row == xdp-* && $round == stats ]] && before=$(kr_bpf_stats)
    udp_before=$(kr_udp_in)
    measure "$callee" $KR_CALLEE $KR_GATE "${KR_PORTS_A%%,*}" "$KR_PID"
    local m; m=$(cat "$work/measured")
    udp_after=$(kr_udp_in)
    [ "$row" != user ] && share=$(awk -v m="$m" -v u=$((udp_after - udp_before)) -v s="$SECS" \
      'BEGIN { split(m, x, " "); g = x[1] * s; printf "%.1f", (g > 0 ? 100 * (1 - (u > g ? g : u) / g) : 0) }')
    if [[ $row == xdp-* && $round == stats ]]; then
      after=$(kr_bpf_stats)
      xdp=$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ");
        n = y[2] - x[2]; printf "%s", (n > 0 ? sprintf("%.1f", (y[1] - x[1]) / n) : "-") }')
    fi
    if [ "$round" = stats ]; then
      echo "stats $row $xdp" >>"$OUT"
    else
      record "$row" "$m - $share"
      [[ $row == xdp-* ]] && echo "$row: $(kr_xdp_counters)" >"$work/counters.$row"
    fi
  else
    echo "bench: kernel: $row failed in round $round" >&2
  fi
  kr_stop
  [ "$row" = xdp-native ] && ip netns exec "$callee" ethtool -K ke gro off >/dev/null
  return 0
}

for round in $(seq "$ROUNDS"); do
  for r in $ROWS; do
    want "$r" || continue
    case $r in
      limit) run_limit ;;
      plain) run_plain ;;
      fill) run_fill ;;
      nftables|xdp-generic|xdp-tc|xdp-native|user) run_daemon "$r" ;;
    esac
  done
done

# The program's run time per packet: one more run of each XDP row with bpf_stats on.
round=stats
for r in xdp-generic xdp-tc xdp-native; do
  want "$r" || continue
  kr_bpf_stats_on
  run_daemon "$r"
done

for r in $ROWS; do [ -n "${skip[$r]:-}" ] && echo "kernel | $r | not measured: ${skip[$r]}"; done
python3 scripts/bench/kernel_table.py "$OUT" --fill "$FILL" --seconds "$SECS"
for f in "$work"/counters.*; do [ -e "$f" ] && echo "XDP program counters, last round, $(cat "$f")"; done
if want xdp-generic || want xdp-native; then
  bash scripts/bench/xdp_prog.sh || echo "bench: kernel: the XDP program micro-benchmark failed" >&2
fi
true
