#!/usr/bin/env bash
# A short functional check of the bench harness (no figures judged, about 10 s): rtpload delivers
# every packet phone to phone and to the right sink; the rtpengine ng driver sets calls up and
# rtpengine relays them; the iptrtpproxyd control driver does the same with our relay. Prints one
# line per check and "N passed, N failed"; exits 1 when a check failed.
#
#   bash scripts/bench/smoke.sh          # uses build/rtpload and build/iptrtpproxyd
#   BENCH_BIN=.build-x/release bash scripts/bench/smoke.sh
set -uo pipefail
cd "$(dirname "$0")/../.."

BIN=${BENCH_BIN:-build}
HERE=scripts/bench
WORK=$(mktemp -d /tmp/iptrtpproxy-bench-smoke.XXXXXX)
STARTED_PIDS=()
passed=0 failed=0

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {  # name json-file: every packet sent arrived, at its own sink
  if python3 - "$2" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read())
ok = r["sent"] > 0 and r["received"] == r["sent"] and r["misdelivered"] == 0 and r["foreign"] == 0 and r["send_errors"] == 0
sys.exit(0 if ok else 1)
EOF
  then echo "ok:   $1"; passed=$((passed + 1))
  else echo "FAIL: $1: $(cat "$2" 2>/dev/null)"; failed=$((failed + 1)); fi
}

skip() { echo "skip: $1"; }

load() {  # calls-file json-file [relay pid]
  python3 $HERE/streams.py "$1" --calls 3 --both-ways >"$WORK/streams"
  "$BIN/rtpload" --streams "$WORK/streams" --rate 500 --duration 1 --warmup 0.3 --drain 0.3 \
    ${3:+--relay-pid $3} >"$2" 2>"$2.err" || cat "$2.err" >&2
}

if [ ! -x "$BIN/rtpload" ]; then
  echo "FAIL: $BIN/rtpload not built"; echo "0 passed, 1 failed"; exit 1
fi

python3 $HERE/direct_calls.py --calls 3 --out "$WORK/direct.calls"
load "$WORK/direct.calls" "$WORK/direct.json"
check "rtpload: 6 streams phone to phone, all delivered to their sinks" "$WORK/direct.json"

if command -v rtpengine >/dev/null; then
  rtpengine --foreground --log-stderr --table=-1 --interface=127.0.0.30 --listen-ng=127.0.0.30:44990 \
    --port-min=42000 --port-max=44899 --log-level=4 --delete-delay=0 >"$WORK/rtpengine.log" 2>&1 &
  STARTED_PIDS+=("$!")
  if python3 $HERE/rtpengine_calls.py --ng 127.0.0.30:44990 --calls 3 --out "$WORK/rtpengine.calls"; then
    load "$WORK/rtpengine.calls" "$WORK/rtpengine.json" "${STARTED_PIDS[-1]}"
    check "rtpengine: 3 calls over ng, RTP both ways through it" "$WORK/rtpengine.json"
  else
    echo "FAIL: rtpengine: ng offer/answer"; failed=$((failed + 1))
  fi
else
  skip "rtpengine not installed"
fi

if [ -x "$BIN/iptrtpproxyd" ]; then
  printf '[switchboard:bench]\naddr-a = 127.0.0.31\naddr-b = 127.0.0.32\nport-a = 42000\nport-b = 42000\nmax-sess = 10\n' \
    >"$WORK/iptrtpproxy.cfg"
  "$BIN/iptrtpproxyd" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/control.sock" \
    >"$WORK/iptrtpproxy.log" 2>&1 &
  STARTED_PIDS+=("$!")
  if python3 $HERE/iptrtpproxy_calls.py --control "unix:$WORK/control.sock" --switchboard bench \
    --gate-a 127.0.0.31 --gate-b 127.0.0.32 --calls 3 --out "$WORK/iptrtpproxy.calls"; then
    load "$WORK/iptrtpproxy.calls" "$WORK/iptrtpproxy.json" "${STARTED_PIDS[-1]}"
    check "iptrtpproxyd: 3 calls over the control socket, RTP both ways through it" "$WORK/iptrtpproxy.json"
  else
    echo "FAIL: iptrtpproxyd: alloc over the control socket"; failed=$((failed + 1))
  fi
else
  skip "$BIN/iptrtpproxyd not built"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
