#!/usr/bin/env bash
# make bench, sessions in Redis (issue 12): build/iptrtpproxyd --redis against a redis-server this
# script starts (127.0.0.1:44994, no persistence).
#
#  1. Takeover time, for 1 and for 1,000 sessions (REDIS_TAKEOVER_SESSIONS="1 1000"): relay 1
#     allocates the sessions (alloc + update), each client sends one packet so that the relay
#     latches A's NAT source (A sends from another port than its SDP says) and B's; once Redis holds
#     an A latch line for every session, relay 1 gets SIGKILL. Relay 2 (the same switchboards file
#     copied into another folder, the same Redis, no journal) is started by
#     scripts/bench/redis_takeover.py, which from its exec on keeps sending from every B client to
#     its session's port on gate B and notes when each A client, at its NAT source, receives its
#     first packet: ms from the exec to the first session's packet, to all sessions', and to relay
#     2's "iptrtpproxyd ... running" log line. REDIS_TAKEOVER_RUNS=3 runs each; the table shows
#     the median and the range.
#  2. CPU per call: REDIS_CALLS=20000 calls (alloc, update, delete over the control socket, one
#     request after another) on a relay without and with --redis (REDIS_CPU_ROUNDS=2 rounds each,
#     alternating); relay CPU is utime+stime of its whole process (/proc/PID/stat), redis-server's
#     CPU likewise, separately. After the calls Redis must hold no session.
#
# Everything on loopback: gates 127.0.5.1 (A) / 127.0.5.2 (B), relay ports 42000-44199, clients
# 127.0.5.10 (A) and 127.0.5.20 (B) on ports 30000-37999; the CPU part's SDP addresses 127.0.6.x
# (nothing listens there). Every process started here is stopped on exit, also on failure or
# Ctrl-C; every wait is on a condition with a deadline.
#
# Environment: REDIS_TAKEOVER_SESSIONS, REDIS_TAKEOVER_RUNS, REDIS_CALLS, REDIS_CPU_ROUNDS,
# BENCH_KEEP=1 (keep the work folder), BENCH_NICE=-10 (priority of everything started here when run
# as root; 0 turns it off).
set -euo pipefail
cd "$(dirname "$0")/../.."

DAEMON=$PWD/build/iptrtpproxyd
HERE=scripts/bench
SIZES=${REDIS_TAKEOVER_SESSIONS:-1 1000}
RUNS=${REDIS_TAKEOVER_RUNS:-3}
CALLS=${REDIS_CALLS:-20000}
ROUNDS=${REDIS_CPU_ROUNDS:-2}
REDIS_PORT=44994
REDIS_DB=0
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/$REDIS_DB
KEY="iptrtpproxy:sessions:A=127.0.5.1:42000;B=127.0.5.2:42000"
WORK=$(mktemp -d /tmp/iptrtpproxy-redis.XXXXXX)
STARTED_PIDS=()
NICE=()
if [ "$(id -u)" -eq 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then NICE=(nice -n "${BENCH_NICE:--10}"); fi

cleanup() {
  local pid
  # relay 2 is started by the Python driver: its id is in relay2.pid.
  [ -f "$WORK/relay2.pid" ] && STARTED_PIDS+=("$(cat "$WORK/relay2.pid")")
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "redis: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "redis: $*" >&2; exit 1; }
[ -x "$DAEMON" ] || die "$DAEMON missing (make build)"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || die "redis-server / redis-cli not installed"

# Each session holds 4 sockets in the relay, and the driver 2 per session.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 16384 ]; then
  ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
fi

forget_pid() {
  local p kept=()
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
}

LAST_PID=""
start_bg() {  # log command...
  local log=$1; shift
  "${NICE[@]}" "$@" >>"$log" 2>&1 </dev/null &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

# stop PID [SIGNAL]: signals it and waits until it is gone (also when it is not our child).
stop() {
  kill "-${2:-TERM}" "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  wait_until 10 "process $1 to end" gone "$1"
  forget_pid "$1"
}

now_ms() { date +%s%3N; }
wait_until() {  # SECONDS WHAT COMMAND...: polls COMMAND every 20 ms until true or the deadline
  local secs=$1 what=$2; shift 2
  local deadline=$(($(now_ms) + secs * 1000))
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "redis: timed out after ${secs}s waiting for $what" >&2; return 1; }
    sleep 0.02
  done
}
gone() { ! kill -0 "$1" 2>/dev/null; }
rcli() { redis-cli -p "$REDIS_PORT" -n "$REDIS_DB" "$@"; }
# flush: empties Redis between runs; redis-server must still be there.
flush() {
  gone "$REDIS_PID" && { echo "redis: redis-server (pid $REDIS_PID) is gone; its log:" >&2; tail -20 "$WORK/redis.log" >&2; exit 1; }
  [ "$(rcli flushdb)" = OK ] || die "FLUSHDB failed"
}
redis_up() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }
running() { grep -q 'iptrtpproxyd .* running' "$1" || gone "$2"; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
start_bg "$WORK/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no
REDIS_PID=$LAST_PID
wait_until 10 "redis-server to answer on 127.0.0.1:$REDIS_PORT" redis_up || { tail -5 "$WORK/redis.log" >&2; exit 1; }

cat >"$WORK/iptrtpproxy.cfg" <<EOF
# make bench, sessions in Redis: one switchboard, 1,100 sessions (4 sockets each).
[switchboard:redis]
addr-a = 127.0.5.1
addr-b = 127.0.5.2
port-a = 42000
port-b = 42000
max-sess = 1100
expires-timeout = 600
resurrection-timeout = 0
EOF

# relay_args N [--redis]: the daemon's arguments for relay N, in its own folder with a copy of the file.
relay_args() {
  local dir=$WORK/relay$1
  mkdir -p "$dir"
  cp "$WORK/iptrtpproxy.cfg" "$dir/iptrtpproxy.cfg"
  rm -f "$dir/control.sock"
  RELAY_ARGS=("$DAEMON" --config "$dir/iptrtpproxy.cfg" --control "unix:$dir/control.sock" --workers 1)
  [ "${2:-}" != --redis ] || RELAY_ARGS+=(--redis "$REDIS_URL")
}

# start_relay N [--redis]: relay N, back once it logs "running".
RELAY_PID=""
start_relay() {
  relay_args "$@"
  : >"$WORK/relay$1/daemon.log"
  start_bg "$WORK/relay$1/daemon.log" "${RELAY_ARGS[@]}"
  RELAY_PID=$LAST_PID
  wait_until 30 "relay $1 to run" running "$WORK/relay$1/daemon.log" "$RELAY_PID" && ! gone "$RELAY_PID" ||
    { tail -20 "$WORK/relay$1/daemon.log" >&2; exit 1; }
}

# --- 1. takeover
: >"$WORK/takeover.jsonl"
for n in $SIZES; do
  for run in $(seq "$RUNS"); do
    flush
    start_relay 1 --redis
    "${NICE[@]}" python3 $HERE/redis_takeover.py setup "$WORK" "$n" "$WORK/relay1/control.sock" "$REDIS_PORT" "$REDIS_DB" "$KEY"
    [ "$(rcli hlen "$KEY")" = "$n" ] || die "Redis holds $(rcli hlen "$KEY") sessions, not $n"
    stop "$RELAY_PID" KILL
    relay_args 2 --redis
    : >"$WORK/relay2/daemon.log"
    rm -f "$WORK/relay2.pid"
    "${NICE[@]}" python3 $HERE/redis_takeover.py takeover "$WORK" "$n" "$WORK/relay2/daemon.log" -- "${RELAY_ARGS[@]}" |
      tee -a "$WORK/takeover.jsonl"
    RELAY_PID=$(cat "$WORK/relay2.pid")
    STARTED_PIDS+=("$RELAY_PID")
    rm -f "$WORK/relay2.pid"
    grep -m1 'restored' "$WORK/relay2/daemon.log" | sed 's/^/redis: relay 2: /' || true
    stop "$RELAY_PID"
  done
done

# --- 2. CPU per call, without and with Redis, alternating
: >"$WORK/cpu.jsonl"
for round in $(seq "$ROUNDS"); do
  for mode in plain redis; do
    flush
    start_relay 3 $([ $mode = redis ] && echo --redis)
    echo "redis: CPU per call, $mode, round $round: $CALLS calls"
    if [ $mode = redis ]; then
      "${NICE[@]}" python3 $HERE/redis_cpu.py "$WORK/relay3/control.sock" "$CALLS" "$RELAY_PID" \
        "$REDIS_PID" "$REDIS_PORT" "$REDIS_DB" "$KEY"
    else
      "${NICE[@]}" python3 $HERE/redis_cpu.py "$WORK/relay3/control.sock" "$CALLS" "$RELAY_PID"
    fi | sed "s/^{/{\"mode\": \"$mode\", /" | tee -a "$WORK/cpu.jsonl"
    stop "$RELAY_PID"
  done
done
[ "$(rcli dbsize)" = 0 ] || echo "redis: WARNING: after the calls Redis holds $(rcli dbsize) keys: $(rcli --raw keys '*' | head -3)" >&2

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at the start: $LOAD0)"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) vCPUs, kernel $(uname -r), redis-server $(redis-server --version | grep -oE 'v=[0-9.]+' | cut -d= -f2), $(date -u '+%Y-%m-%d %H:%M UTC')"
python3 - "$WORK/takeover.jsonl" "$WORK/cpu.jsonl" "$RUNS" <<'PY'
import json, statistics, sys
tk = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cpu = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
def cell(rows, k):
    v = sorted(r[k] for r in rows)
    return f"{statistics.median(v):.0f} ({v[0]:.0f}–{v[-1]:.0f})" if len(v) > 1 else f"{v[0]:.0f}"
print(f"\nTakeover: relay 2 started (exec) → … in ms, median (min–max) of {sys.argv[3]} runs\n")
print("| sessions (latched) | → \"running\" logged | → first session's RTP forwarded | → all sessions' RTP forwarded |")
print("|---:|---:|---:|---:|")
for n in sorted({r["sessions"] for r in tk}):
    rows = [r for r in tk if r["sessions"] == n]
    print(f"| {n:,} | {cell(rows, 'running_ms')} | {cell(rows, 'first_ms')} | {cell(rows, 'all_ms')} |")
print("\nCPU per call (alloc + update + delete over the control socket, one after another)\n")
print("| relay | calls | calls/s | relay µs/call | redis-server µs/call | Redis commands/call | sessions left in Redis |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in cpu:
    red = r["mode"] == "redis"
    print(f"| {'--redis' if red else 'no Redis'} | {r['calls']:,} | {r['calls_per_s']:,} | {r['relay_us_per_call']} | "
          f"{r.get('redis_us_per_call', '–')} | {r.get('redis_commands_per_call', '–')} | {r.get('left_in_redis', '–')} |")
plain = [r["relay_us_per_call"] for r in cpu if r["mode"] == "plain"]
red = [r["relay_us_per_call"] for r in cpu if r["mode"] == "redis"]
rs = [r["redis_us_per_call"] for r in cpu if r["mode"] == "redis"]
if plain and red:
    print(f"\nRedis adds {statistics.mean(red) - statistics.mean(plain):.1f} µs/call in the relay (means), "
          f"plus {statistics.mean(rs):.1f} µs/call in redis-server.")
PY
