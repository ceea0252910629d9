#!/usr/bin/env bash
# The per-core knee (issue 15): for each relay, the highest packet rate one core forwards with no
# loss and a p99 one-way latency under 10 ms. In three network namespaces this script creates and
# always removes (caller 203.0.113.2 — relay 192.0.2.10 — callee 198.51.100.2; see knee_relays.sh):
#   - the offered rate steps up (KNEE_RATES, packets/s in total), spread evenly over KNEE_STREAMS
#     calls (4: few streams at high rates, not thousands at 50 pps, so that setting up and
#     offloading the calls stays cheap), 172-byte RTP packets, KNEE_SECONDS per step;
#   - the sender (scripts/bench/knee_blast.c: paced, send time stamped into each packet) and the sink
#     (knee_sink.c: one-way latency from CLOCK_MONOTONIC, one host) both run on CPU 0;
#   - the relay's core is CPU 1: a relay process is pinned there (taskset), and receive packet
#     steering (rps_cpus of the relay's veths) moves the relay namespace's receive processing there
#     too, so the kernel paths (nftables, generic XDP) forward in softirq on CPU 1. "relay core
#     µs/pkt" is, per forwarded packet, the relay process's CPU time (/proc/PID/stat, all threads)
#     plus CPU 1's softirq and irq time (/proc/stat; tick-sampled, this kernel has no IRQ time
#     accounting): the relay hop and the delivery into the callee's socket that the hop's transmit
#     runs there, but not other work that happens to share CPU 1 on a busy machine.
#     Native XDP on a veth runs in the NAPI of the sending core (CPU 0), which steering cannot move,
#     so it is not in the default list (KNEE_RELAYS can add ours-xdp-native; its relay core figure then misses the forwarding).
#   - a relay's steps stop after two failing ones in a row (loss, or p99 ≥ 10 ms), or one with more
#     than 20 % loss.
# Prints one line per step and the knee per relay; writes the steps as JSON lines
# (KNEE_OUT=.build-bench/knee-results.jsonl) and the plots (scripts/bench/knee_plot.py) into
# KNEE_PLOTS=docs/bench (empty: no plots). Needs root.
# Knobs: KNEE_RELAYS="ours-user ours-xdp-generic ours-nftables rtpengine", KNEE_STREAMS=4,
# KNEE_SECONDS=2, KNEE_RATES="10000 20000 40000 60000 80000 100000 150000 200000 300000 400000",
# BENCH_KEEP=1 (keep the work folder), BENCH_NICE=-10 (priority of the sender, the sink and the
# relay processes; 0: none), IPTRTPPROXYD=build/iptrtpproxyd.
set -euo pipefail
cd "$(dirname "$0")/../.."

RELAYS=${KNEE_RELAYS:-ours-user ours-xdp-generic ours-nftables rtpengine}
STREAMS=${KNEE_STREAMS:-4}
SECS=${KNEE_SECONDS:-2}
RATES=${KNEE_RATES:-10000 20000 40000 60000 80000 100000 150000 200000 300000 400000}
OUT=${KNEE_OUT:-.build-bench/knee-results.jsonl}
PLOTS=${KNEE_PLOTS-docs/bench}
if [ "$(id -u)" -ne 0 ]; then echo "knee: needs root (network namespaces); skipped"; exit 0; fi
[ "$(nproc)" -ge 2 ] || { echo "knee: needs 2 cores (sender and sink on one, the relay on the other); skipped"; exit 0; }

tag=iptn$$
caller=${tag}c relay=${tag}r callee=${tag}e
work=$(mktemp -d)
pids=()
source Tests/e2e/lib/three-hosts.sh
source scripts/bench/knee_relays.sh
cleanup() {
  kr_cleanup
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$work/knee_blast" scripts/bench/knee_blast.c
cc -O2 -o "$work/knee_sink" scripts/bench/knee_sink.c
kr_topology || { echo "knee: cannot create the namespaces" >&2; exit 1; }
# Receive packet steering: the relay namespace's receive work (and so its forwarding) on CPU 1.
ip netns exec "$relay" sh -c 'echo 2 > /sys/class/net/rc/queues/rx-0/rps_cpus && echo 2 > /sys/class/net/re/queues/rx-0/rps_cpus' \
  || { echo "knee: cannot steer the relay's receive work to CPU 1 (rps_cpus)" >&2; exit 1; }

label() {
  case $1 in
    ours-user) echo "iptrtpproxyd, user space" ;;
    ours-nftables) echo "iptrtpproxyd, nftables offload" ;;
    ours-xdp-*) echo "iptrtpproxyd, XDP offload (${1#ours-xdp-})" ;;
    rtpengine) echo "rtpengine, user space" ;;
    *) echo "$1" ;;
  esac
}
# Ticks of the relay core's work: CPU 1's irq + softirq, plus the relay process's user + system.
relay_core_ticks() {
  local soft proc
  soft=$(awk '$1 == "cpu1" { print $7 + $8 }' /proc/stat)
  proc=$(awk '{ print $14 + $15 }' "/proc/$KR_PID/stat" 2>/dev/null || echo 0)
  echo $((soft + proc))
}

# step MODE RATE: one JSON line into $work/step.json. Run in this shell, not a subshell, so that
# the sink is in $pids for the cleanup; the sink gives up 3 s after the step if nothing came.
step() {
  local mode=$1 rate=$2 out=$work/sink.out hist=$work/hist i
  rm -f "$out" "$hist"
  ip netns exec "$callee" "${KR_NICE[@]}" taskset -c 0 "$work/knee_sink" $KR_CALLEE $KR_CALLEE_BASE "$STREAMS" "$hist" \
    "$(awk -v s="$SECS" 'BEGIN { print s + 3 }')" >"$out" &
  local sink=$!; pids+=("$sink")
  for i in $(seq 200); do grep -q ready "$out" 2>/dev/null && break; sleep 0.01; done
  local before sent cpu after
  before=$(relay_core_ticks)
  read -r sent cpu < <(ip netns exec "$caller" "${KR_NICE[@]}" taskset -c 0 "$work/knee_blast" $KR_CALLER $KR_CALLER_BASE $KR_GATE "$KR_PORTS_A" "$rate" "$SECS")
  after=$(relay_core_ticks)
  wait "$sink" || true
  local got p50 p99 max
  read -r got p50 p99 max < <(tail -1 "$out")
  python3 - "$mode" "$(label "$mode")" "$rate" "$SECS" "$sent" "$got" "$p50" "$p99" "$max" "$((after - before))" "$(getconf CLK_TCK)" "$hist" >"$work/step.json" <<'PY'
import json, sys
mode, label, rate, secs, sent, got, p50, p99, mx, ticks, hz, hist = sys.argv[1:]
secs, sent, got = float(secs), int(sent), int(got)
try:
    h = [[int(a), int(b)] for a, b in (l.split() for l in open(hist))]
except OSError:
    h = []
print(json.dumps({"relay": mode, "label": label, "rate": int(rate), "seconds": secs, "sent": sent, "got": got,
                  "offered_pps": round(sent / secs), "forwarded_pps": round(got / secs),
                  "loss_pct": round(100 * max(sent - got, 0) / sent, 3) if sent else 100.0,
                  "p50_ms": float(p50) / 1000, "p99_ms": float(p99) / 1000, "max_ms": float(mx) / 1000,
                  "relay_core_us_per_pkt": round(1e6 * int(ticks) / int(hz) / got, 2) if got else None,
                  "hist_us": h}))
PY
}

mkdir -p "$(dirname "$OUT")"
echo "knee: $(date -u '+%F %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
: >"$OUT"
echo "knee | relay | offered pps | forwarded pps | loss | p50 ms | p99 ms | relay core µs/pkt"
for mode in $RELAYS; do
  if ! why=$(kr_supports "$mode"); then echo "knee | $(label "$mode") | not measured: $why"; continue; fi
  if ! { kr_start "$mode" 1 && kr_calls "$STREAMS"; }; then
    echo "knee | $(label "$mode") | not measured: the relay did not start or take the calls (see above)"
    kr_stop; continue
  fi
  fails=0
  for rate in $RATES; do
    step "$mode" "$rate"
    cat "$work/step.json" >>"$OUT"
    # Prints the step; its status says whether it passed (0), failed (1) or failed badly (2).
    python3 scripts/bench/knee_plot.py --step "$work/step.json" && fails=0 || { rc=$?; fails=$((fails + 1)); [ $rc = 2 ] && break; }
    [ $fails -ge 2 ] && break
    if ! kill -0 "$KR_PID" 2>/dev/null; then echo "knee | $(label "$mode") | the relay died; its log:" >&2; tail -5 "$work"/*.log >&2; break; fi
  done
  kr_stop
done

echo
# The plots need matplotlib: Debian's (make deps) is importable by Debian's python3, which need not
# be the first python3 on PATH (pyenv); use whichever has it.
plot_python=python3
python3 -c 'import matplotlib' 2>/dev/null || ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null || plot_python=/usr/bin/python3
"$plot_python" scripts/bench/knee_plot.py "$OUT" --summary ${PLOTS:+--plots "$PLOTS"}
