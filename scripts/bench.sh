#!/usr/bin/env bash
# `make bench`: the project's benchmark tables (see BENCHMARKS.md).
#
#  1. build/iptrtpproxy-bench, when built: SDP parse + rewrite figures (it prints its own table).
#  2. RTP relaying, side by side in one run on this machine: for each relay (direct = no relay, the
#     floor; rtpengine = Debian's rtpengine-daemon in user space, driven by its ng protocol;
#     iptrtpproxy = our build/iptrtpproxyd, driven by its control socket) the calls are set up once,
#     then build/rtpload runs each scenario and prints one JSON line; scripts/bench/table.py turns
#     them into the table.
#  3. scripts/bench/kernel.sh, when present: kernel forwarding (nftables and XDP offload) against
#     plain routing, the no-forwarding limit and the userspace relay, in network namespaces it makes
#     and removes (issues 5 and 15).
#  3b. scripts/bench/knee.sh, when present: the per-core knee of each relay (ours in user space, with
#     XDP, with nftables; rtpengine), with plots into docs/bench (issue 15).
#  4. scripts/bench/sip-load.sh, when present: calls per second through Kamailio.
#  5. scripts/bench/pool.sh, when present: several media hosts (issue 10): call set-up latency with
#     one external relay and a pool of 2, and failover when a host hangs.
#  6. scripts/bench/redis.sh, when present: sessions in Redis (issue 12): takeover time by a cold
#     relay with 1 and 1,000 sessions, and the CPU per call that --redis adds.
#
# Everything runs on loopback: phones on 127.0.0.21 (callers) and 127.0.0.22 (callees), ports
# 40000-41999; rtpengine on 127.0.0.30, ours on gates 127.0.0.31 (A) and 127.0.0.32 (B), relay ports
# 42000-44999. Every process started here is stopped on exit, also on failure or Ctrl-C.
#
# Knobs (environment): BENCH_RELAYS="direct rtpengine iptrtpproxy iptrtpproxy-shared iptrtpproxy-shared-1thread" (which, in order;
# -shared is ours with --shared-sockets, -shared-1thread the same with --workers 1; both root only),
# BENCH_SECONDS=5 (measured seconds per scenario; the 1000-stream one runs 1.6x that),
# BENCH_ONLY=TEXT (only scenarios whose title contains TEXT), BENCH_SIP=0 (skip the SIP load), BENCH_POOL=0 (skip the media-host pool figures),
# BENCH_REDIS=0 (skip the sessions-in-Redis figures),
# BENCH_KERNEL=0 (skip the kernel forwarding figures), BENCH_KNEE=0 (skip the per-core knee), BENCH_BIN=build (where rtpload and iptrtpproxyd are),
# BENCH_RELAY_ARGS="--workers 1" (extra arguments for iptrtpproxyd),
# BENCH_KEEP=1 (keep the work folder with logs, configs, streams and results),
# BENCH_NICE=-10 (scheduling priority of relays and rtpload when run as root, so that other work on a
# shared machine disturbs the figures less; 0 turns it off).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BENCH_BIN:-build}
RTPLOAD=$BUILD/rtpload
HERE=scripts/bench
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
RELAYS=${BENCH_RELAYS:-direct rtpengine iptrtpproxy iptrtpproxy-shared iptrtpproxy-shared-1thread}
WORK=$(mktemp -d /tmp/iptrtpproxy-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
OUT_DIR=.build-bench
NICE=()
if [ "$(id -u)" -eq 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then NICE=(nice -n "${BENCH_NICE:--10}"); fi
STARTED_PIDS=()
RELAY_PID=""

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Drops a process that has ended from the cleanup list (its id may be reused later).
forget_pid() {
  local p kept=()
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
}

# Starts a background process, remembers it for cleanup, sets RELAY_PID.
start_bg() {
  local log=$1; shift
  "${NICE[@]}" "$@" >"$log" 2>&1 &
  RELAY_PID=$!
  STARTED_PIDS+=("$RELAY_PID")
}

stop_relay() {
  [ -n "$RELAY_PID" ] || return 0
  kill "$RELAY_PID" 2>/dev/null || true
  wait "$RELAY_PID" 2>/dev/null || true
  forget_pid "$RELAY_PID"
  RELAY_PID=""
}

# Scenarios: title | calls | one (caller -> callee) or both (both ways) | rtpload arguments.
# The most calls any scenario needs is set up once per relay.
MAX_CALLS=500
LONG=$(awk "BEGIN { printf \"%g\", $SECONDS_PER_RUN * 1.6 }")
SCENARIOS=(
  "1 stream × 50 pps|1|one|--rate 50 --duration $SECONDS_PER_RUN"
  "1000 streams × 50 pps|500|both|--rate 50 --duration $LONG"
  "1 stream × 50,000 pps|1|one|--rate 50000 --duration $SECONDS_PER_RUN"
  "flat-out, 8 streams|4|both|--flat-out --duration $SECONDS_PER_RUN"
)

# --- relays: relay_NAME_start sets RELAY_PID (empty: nothing to measure) and writes $WORK/NAME.calls;
#     it returns non-zero with a reason on standard error when the relay cannot run here.

relay_direct_start() {
  RELAY_PID=""
  python3 $HERE/direct_calls.py --calls $MAX_CALLS --out "$WORK/direct.calls"
}

relay_rtpengine_start() {
  command -v rtpengine >/dev/null || { echo "rtpengine not installed (make deps)" >&2; return 1; }
  # User space only (--table=-1); one interface; ports outside the phones' range.
  start_bg "$WORK/rtpengine.log" rtpengine --foreground --log-stderr --table=-1 \
    --interface=127.0.0.30 --listen-ng=127.0.0.30:44990 --port-min=42000 --port-max=44899 \
    --log-level=5 --timeout=600 --delete-delay=0
  python3 $HERE/rtpengine_calls.py --ng 127.0.0.30:44990 --calls $MAX_CALLS --out "$WORK/rtpengine.calls"
}

relay_iptrtpproxy_start() {
  [ -x $BUILD/iptrtpproxyd ] || { echo "build/iptrtpproxyd not built yet" >&2; return 1; }
  cat >"$WORK/iptrtpproxy.cfg" <<EOF
# make bench: one switchboard, callers on gate A, callees on gate B.
[switchboard:bench]
addr-a = 127.0.0.31
addr-b = 127.0.0.32
port-a = 42000
port-b = 42000
max-sess = 1000
expires-timeout = 600
resurrection-timeout = 1
EOF
  # The 50,000 pps and flat-out scenarios exceed the per-stream default (3,000 pps): keep the
  # limit the earlier figures were measured with, so that they stay comparable.
  local name=${IPT_VARIANT:-iptrtpproxy}
  rm -f "$WORK/control.sock"
  start_bg "$WORK/$name.log" $BUILD/iptrtpproxyd --config "$WORK/iptrtpproxy.cfg" \
    --control "unix:$WORK/control.sock" --max-stream-pps 100000 --max-stream-burst 20000 ${IPT_VARIANT_ARGS:-} ${BENCH_RELAY_ARGS:-}
  python3 $HERE/iptrtpproxy_calls.py --control "unix:$WORK/control.sock" --switchboard bench \
    --gate-a 127.0.0.31 --gate-b 127.0.0.32 --calls $MAX_CALLS --out "$WORK/$name.calls"
}

# Ours with --shared-sockets (issue 15): one socket per thread for every port (sk_lookup), raw
# sends; root only. Measured only when the relay says the steering runs (it falls back to a
# socket per port otherwise, which would be the row above again).
# shared_start VARIANT ARGS...: that relay, named VARIANT, with --shared-sockets and ARGS.
shared_start() {
  local variant=$1; shift
  [ "$(id -u)" -eq 0 ] || { echo "--shared-sockets needs root (CAP_BPF, CAP_NET_ADMIN, CAP_NET_RAW)" >&2; return 1; }
  IPT_VARIANT=$variant IPT_VARIANT_ARGS="--shared-sockets $*" relay_iptrtpproxy_start || return 1
  grep -q "sk_lookup steers" "$WORK/$variant.log" \
    || { echo "the relay fell back to a socket per port: $(tail -3 "$WORK/$variant.log")" >&2; return 1; }
}
relay_iptrtpproxy-shared_start() { shared_start iptrtpproxy-shared; }

# Ours in its cheapest configuration per packet at many light streams (issue 15): shared sockets
# and one forwarding thread, so that every wakeup reads the packets of all streams in one recvmmsg
# and sends them in one sendmmsg (two threads split them into two half-size batches, each thread
# with its own wakeups). Root only, like the row above.
relay_iptrtpproxy-shared-1thread_start() { shared_start iptrtpproxy-shared-1thread --workers 1; }

run_relay() {
  local relay=$1 scenario title calls ways args streams rl
  echo "bench: $relay: setting up $MAX_CALLS calls"
  if ! "relay_${relay}_start"; then
    echo "bench: $relay: skipped"
    stop_relay
    return 0
  fi
  if [ -n "$RELAY_PID" ]; then
    echo "| $relay | $(python3 $HERE/idle_cpu.py "$RELAY_PID" 2) |" >>"$WORK/idle.md"
  fi
  for scenario in "${SCENARIOS[@]}"; do
    IFS='|' read -r title calls ways args <<<"$scenario"
    case "$title" in *"${BENCH_ONLY:-}"*) ;; *) continue ;; esac
    streams=$WORK/$relay.$calls.$ways.streams
    python3 $HERE/streams.py "$WORK/$relay.calls" --calls "$calls" $([ "$ways" = both ] && echo --both-ways) >"$streams"
    echo "bench: $relay: $title"
    # shellcheck disable=SC2086
    # In the background and waited for, so that a signal reaches the cleanup at once.
    "${NICE[@]}" $RTPLOAD --streams "$streams" $args --label "$title|$relay" ${RELAY_PID:+--relay-pid $RELAY_PID} \
      >"$WORK/run.json" &
    local rl=$!
    STARTED_PIDS+=("$rl")
    if wait "$rl"; then
      tee -a "$RESULTS" <"$WORK/run.json"
    else
      echo "bench: $relay: rtpload failed on '$title'" >&2
    fi
    forget_pid "$rl"
    if [ -n "$RELAY_PID" ] && ! kill -0 "$RELAY_PID" 2>/dev/null; then
      echo "bench: $relay died; its log:" >&2
      tail -20 "$WORK/$relay.log" >&2 || true
      return 1
    fi
  done
  stop_relay
}

machine() {
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
}

if [ -x $BUILD/iptrtpproxy-bench ]; then
  echo "== SDP parse + rewrite =="
  $BUILD/iptrtpproxy-bench
  echo
fi

[ -x $RTPLOAD ] || { echo "bench: $RTPLOAD missing (run make build)" >&2; exit 1; }
echo "== RTP relaying (172-byte RTP packets, loopback) =="
machine
: >"$RESULTS"
for relay in $RELAYS; do
  run_relay "$relay" || { echo "bench: $relay: stopped early" >&2; stop_relay; }
done

echo
machine
python3 $HERE/table.py "$RESULTS" | tee "$WORK/table.md"
if [ -s "$WORK/idle.md" ]; then
  { echo
    echo "Relay CPU with the $MAX_CALLS calls set up and no packets (timers, polling): the floor under µs/pkt at low rates."
    echo
    echo "| relay | idle CPU ms/s |"
    echo "|---|---:|"
    cat "$WORK/idle.md"; } | tee -a "$WORK/table.md"
fi
mkdir -p $OUT_DIR
cp "$RESULTS" $OUT_DIR/bench-results.jsonl
cp "$WORK/table.md" $OUT_DIR/bench-table.md
echo "(raw JSON lines: $OUT_DIR/bench-results.jsonl)"

if [ -f $HERE/kernel.sh ] && [ "${BENCH_KERNEL:-1}" != 0 ]; then
  echo
  echo "== Kernel forwarding (nftables and XDP offload) =="
  IPTRTPPROXYD=$BUILD/iptrtpproxyd bash $HERE/kernel.sh || echo "bench: kernel forwarding figures failed" >&2
fi

if [ -f $HERE/knee.sh ] && [ "${BENCH_KNEE:-1}" != 0 ]; then
  echo
  echo "== Per-core knee =="
  IPTRTPPROXYD=$BUILD/iptrtpproxyd bash $HERE/knee.sh || echo "bench: per-core knee failed" >&2
fi

if [ -x $HERE/sip-load.sh ] && [ "${BENCH_SIP:-1}" != 0 ]; then
  echo
  echo "== SIP load through Kamailio =="
  bash $HERE/sip-load.sh
fi

if [ -f $HERE/pool.sh ] && [ "${BENCH_POOL:-1}" != 0 ]; then
  echo
  echo "== Several media hosts (issue 10) =="
  bash $HERE/pool.sh || echo "bench: media-host pool figures failed" >&2
fi

if [ -f $HERE/redis.sh ] && [ "${BENCH_REDIS:-1}" != 0 ]; then
  echo
  echo "== Sessions in Redis (issue 12) =="
  bash $HERE/redis.sh || echo "bench: sessions-in-Redis figures failed" >&2
fi

# Control-plane throughput over one connection (issue 15); BENCH_CONTROL=0 skips it (a few seconds).
if [ -f $HERE/control.sh ] && [ "${BENCH_CONTROL:-1}" != 0 ]; then
  echo
  echo "== Control plane: alloc / update / delete over one connection =="
  IPTRTPPROXYD=$BUILD/iptrtpproxyd BENCH_TOOL=$BUILD/iptrtpproxy-bench bash $HERE/control.sh || echo "bench: control-plane figures failed" >&2
fi
