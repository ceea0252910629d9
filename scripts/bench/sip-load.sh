#!/usr/bin/env bash
# make bench, SIP part: the highest calls per second that Kamailio sustains with no failed call,
# INVITE with SDP -> 200 -> ACK -> BYE -> 200 from sipp, for each media relay in the same run:
#   iptrtpproxy  our module build/iptrtpproxy.so (embedded relay, its default)
#   external1    our module with one external build/iptrtpproxyd (media host) over TCP (shared secret)
#   external1-redis  external1 with the media host keeping its sessions in Redis (issue 12):
#                a redis-server started here (127.0.0.1:44992, no persistence), --redis on the host
#   pool2        our module with a pool of two such media hosts, weight 1 each (issue 10)
#   rtpengine    Kamailio's rtpengine module + Debian's rtpengine daemon (user space, --table=-1)
# Ours runs the project's examples/kamailio.cfg; rtpengine runs scripts/bench/sip/kamailio-rtpengine.cfg,
# the same call flow with rtpengine_offer/answer/delete. Same sipp scenarios (scripts/bench/sip/). sipp sends no RTP here: this measures call set-up and
# tear-down through proxy and relay control, not forwarding (scripts/bench.sh does that).
#
# For each rate in SIP_RATES (calls/s) sipp places rate x SIP_STEP_SECONDS calls; the first rate
# with a failed call, an error in Kamailio's log (e.g. a relay out of sessions) or that sipp could
# not keep up (< 95 %) ends the ramp; the result is the highest rate before it.
# Addresses: Kamailio 127.0.0.40:44960, UAS 127.0.0.41:44961, UAC 127.0.0.42:44962; media: ours on
# 127.0.0.40 (the proxy's address, see sip_iptrtpproxy), media host N on 127.0.N.1 / 127.0.N.2
# (control TCP 127.0.0.1:44980 + N - 1), rtpengine on 127.0.0.45; ports 42000-44899.
# All processes are stopped on exit.
#
# Environment: SIP_RELAYS="iptrtpproxy external1 external1-redis pool2 rtpengine", SIP_RATES, SIP_STEP_SECONDS=5, BENCH_KEEP=1,
# BENCH_NICE=-10 (priority of everything started here when run as root; 0 turns it off),
# SIP_BUILD=build (the folder with iptrtpproxy.so, iptrtpproxyd and iptrtpproxy: another build, for
# before/after runs), SIP_STEADY=1 (every rate of SIP_RATES is run whatever the step before did: steady-rate
# measurements, e.g. SIP_STEADY=1 SIP_RATES="800 800 800" SIP_STEP_SECONDS=10).
# Each step also prints the relay's control requests per call (ours: the relay's own count).
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE=scripts/bench/sip
RELAYS=${SIP_RELAYS:-iptrtpproxy external1 external1-redis pool2 rtpengine}
RATES=${SIP_RATES:-100 200 400 600 800 1000 1200 1400 1600 1800 2000 2200 2500 3000 3500 4000 4500}
STEP=${SIP_STEP_SECONDS:-5}
BUILD=${SIP_BUILD:-build}
STEADY=${SIP_STEADY:-0}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WORK=$(mktemp -d /tmp/iptrtpproxy-sipload.XXXXXX)
RESULTS=$WORK/results.txt
STARTED_PIDS=()
MEASURED_PIDS=""  # Kamailio and an external relay: their CPU per call is reported
HOSTS=""          # the media hosts (iptrtpproxyd) started for this relay kind: 1, or 1 2
HOST_ARGS=()      # extra arguments for the media hosts (external1-redis: --redis URL)
REDIS_PORT=44992
REDIS_PID=""
NICE=()
if [ "$(id -u)" -eq 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then NICE=(nice -n "${BENCH_NICE:--10}"); fi

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "sip-load: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Drops a process that has ended from the cleanup list (its id may be reused later).
forget_pid() {
  local p kept=()
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
}

LAST_PID=""
start_bg() {
  local log=$1; shift
  "${NICE[@]}" "$@" >"$log" 2>&1 </dev/null &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

stop_all() {
  local pid
  MEASURED_PIDS=""
  HOSTS=""
  HOST_ARGS=()
  REDIS_PID=""
  for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STARTED_PIDS=()
}

start_kamailio() {  # log cfg [kamailio arguments]
  local log=$1 cfg=$2; shift 2
  # 1 GB of shared memory: at 1,600 calls per second Kamailio's own transactions (8 KB each,
  # kept for tm's timers) filled 256 MB and it refused calls ("out of mem" in tm), whichever relay;
  # the ramp measures the relays, not Kamailio's memory sizing.
  # SIP_KAMAILIO_ARGS: more of Kamailio's options, e.g. "-x tlsf" (its other memory manager).
  # shellcheck disable=SC2086
  start_bg "$log" kamailio -DD -E -f "$cfg" -Y "$WORK" -m 1024 -M 32 ${SIP_KAMAILIO_ARGS:-} "$@"
  MEASURED_PIDS="$MEASURED_PIDS $LAST_PID"
  local i
  for i in $(seq 50); do
    grep -q "44960" <(ss -lun 2>/dev/null) && return 0
    sleep 0.1
  done
  echo "sip-load: kamailio did not start; log:" >&2
  tail -20 "$log" >&2
  return 1
}

start_uas() {  # log [extra sipp arguments]
  local log=$1; shift
  start_bg "$log" sipp -sf $HERE/uas.xml -i 127.0.0.41 -p 44961 -mi 127.0.0.41 -mp 44970 -nostdin "$@"
  UAS_PID=$LAST_PID
  sleep 0.3
}

# Places `calls` calls at `rate` calls/s; succeeds when every call completed.
run_uac() {  # rate calls log
  # In the background and waited for, so that a signal reaches the cleanup at once.
  "${NICE[@]}" sipp 127.0.0.40:44960 -sf $HERE/uac.xml -s bench -i 127.0.0.42 -p 44962 -mi 127.0.0.42 -mp 44972 \
    -r "$1" -m "$2" -l 20000 -timeout $((STEP * 4 + 20))s -recv_timeout 8000 -nostdin >"$3" 2>&1 </dev/null &
  local pid=$! rc=0
  STARTED_PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  return $rc
}

# The relay really sat in the media path: the callee saw the relay's address in the INVITE's SDP.
check_media_path() {  # relay-address-pattern label
  start_uas "$WORK/uas-check.log" -trace_msg -message_file "$WORK/uas-check.msg"
  if ! run_uac 10 5 "$WORK/uac-check.log"; then
    echo "sip-load: $2: calls fail even at 10 cps; see $WORK (BENCH_KEEP=1)" >&2
    return 1
  fi
  kill "$UAS_PID"; wait "$UAS_PID" 2>/dev/null || true
  forget_pid "$UAS_PID"
  if ! grep -Eq "^c=IN IP4 $1" "$WORK/uas-check.msg"; then
    echo "sip-load: $2: the callee's SDP does not carry the relay's address ($1)" >&2
    return 1
  fi
}

# Figures from sipp's final screen: cumulative call rate and failed calls.
achieved_cps() { grep -a 'Call Rate' "$1" | tail -1 | awk -F'|' '{print $3}' | awk '{print $1}'; }
failed_calls() { grep -a 'Failed call' "$1" | tail -1 | awk -F'|' '{print $3}' | awk '{print $1}'; }

# Errors Kamailio logged so far (a relay that fails its control calls still lets the calls
# through, with unrelayed media: such a step must not pass).
kamailio_errors() { grep -a -c -E 'ERROR|CRITICAL|BUG' "$1" || true; }

# Control requests our relays answered so far (the embedded relay's socket in the runtime folder,
# the media hosts' Unix sockets; each `stats` asked here counts too, hence the -1), 0 for rtpengine.
control_requests() {
  local sock total=0 n
  for sock in "$WORK"/iptrtpproxy-*.sock "$WORK"/host*.sock; do
    [ -S "$sock" ] || continue
    n=$("$BUILD/iptrtpproxy" stats --json --control "unix:$sock" 2>/dev/null |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["control"]["requests"])' 2>/dev/null) || continue
    total=$((total + n - 1))
  done
  echo "$total"
}

# A step passes when every call completed, sipp kept up with the rate (>= 95 %; past that the
# proxy or relay is saturated and calls only queue) and Kamailio logged no error.
ramp() {  # label
  local rate log cps errors before cpu0 cpu1 cpu_call relay_call req0 req1 per_call best=0 best_cps=0 best_cpu="" best_relay="" stop="none up to the last rate"
  local kamlog=$WORK/kamailio-$1.log idle0 idle1
  start_uas "$WORK/uas-$1.log"
  # The relay's CPU with no call (its timers): part of every step's CPU per call, more so at low rates.
  # shellcheck disable=SC2086
  idle0=$(python3 scripts/bench/tree_cpu.py $MEASURED_PIDS); sleep 2
  # shellcheck disable=SC2086
  idle1=$(python3 scripts/bench/tree_cpu.py $MEASURED_PIDS)
  echo "sip-load: $1: idle, no calls: relay CPU $(( (${idle1#* } - ${idle0#* }) / 2000000 )) ms/s, proxy + relay $(( (${idle1% *} - ${idle0% *}) / 2000000 )) ms/s"
  for rate in $RATES; do
    log=$WORK/uac-$1-$rate.log
    before=$(kamailio_errors "$kamlog")
    req0=$(control_requests)
    # shellcheck disable=SC2086
    cpu0=$(python3 scripts/bench/tree_cpu.py $MEASURED_PIDS)
    if run_uac "$rate" $((rate * STEP)) "$log"; then
      # shellcheck disable=SC2086
      cpu1=$(python3 scripts/bench/tree_cpu.py $MEASURED_PIDS)
      cpu_call=$(( (${cpu1% *} - ${cpu0% *}) / (rate * STEP) / 1000 ))
      relay_call=$(( (${cpu1#* } - ${cpu0#* }) / (rate * STEP) / 1000 ))
      req1=$(control_requests)
      per_call=$(awk "BEGIN { printf \"%.2f\", ($req1 - $req0) / ($rate * $STEP) }")
      cps=$(achieved_cps "$log")
      errors=$(( $(kamailio_errors "$kamlog") - before ))
      echo "sip-load: $1: $rate cps offered: all $((rate * STEP)) calls completed at ${cps:-?} cps, $errors errors logged, CPU per call ${cpu_call} µs (relay ${relay_call} µs, ${per_call} control requests per call), load $(cut -d' ' -f1-3 /proc/loadavg)"
      if [ "$errors" -gt 0 ]; then
        stop="$rate ($errors errors in Kamailio's log, e.g. $(grep -a -E 'ERROR|CRITICAL|BUG' "$kamlog" | tail -1 | sed -E 's/^ *[0-9]+\([0-9]+\) //' | cut -c1-120))"
      elif awk "BEGIN { exit !(${cps:-0} >= 0.95 * $rate) }"; then
        best=$rate best_cps=$cps best_cpu=$cpu_call best_relay=$relay_call
        continue
      else
        stop="$rate (sipp reached only ${cps:-?} cps)"
      fi
    else
      stop="$rate ($(failed_calls "$log") failed calls)"
      echo "sip-load: $1: $rate cps offered: $stop"
    fi
    [ "$STEADY" = 1 ] && continue
    break
  done
  echo "$1|$best|$best_cps|$best_cpu|$best_relay|$stop" >>"$RESULTS"
  if [ -n "$HOSTS" ]; then
    local n spread=""
    for n in $HOSTS; do spread="$spread host $n: $(host_allocs "$n") allocated;"; done
    echo "sip-load: $1: sessions per media host over the whole run:$spread"
  fi
}

# --- one function per relay: start it and Kamailio, check the media path, ramp, stop.

sip_rtpengine() {
  command -v rtpengine >/dev/null || { echo "sip-load: rtpengine not installed" >&2; return 1; }
  start_bg "$WORK/rtpengine.log" rtpengine --foreground --log-stderr --table=-1 \
    --interface=127.0.0.45 --listen-ng=127.0.0.45:44991 --port-min=42000 --port-max=44899 \
    --log-level=4 --timeout=600 --delete-delay=0
  MEASURED_PIDS="$MEASURED_PIDS $LAST_PID"
  python3 - <<'EOF'
import os, socket, sys, time
sys.path.insert(0, "scripts/bench")
import bencode
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.3)
for _ in range(50):
    try:
        s.sendto(b"p1 " + bencode.encode({"command": "ping"}), ("127.0.0.45", 44991)); s.recvfrom(1000); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("rtpengine did not answer ping")
EOF
  start_kamailio "$WORK/kamailio-rtpengine.log" $HERE/kamailio-rtpengine.cfg
  check_media_path "127\.0\.0\.45" rtpengine
  ramp rtpengine
}

# Our module with the project's own example configuration (examples/kamailio.cfg: find + alloc on
# INVITE, update on 18x/2xx, adjust_timeout on 2xx, delete on BYE/failure), its default embedded
# relay. iptrtpproxy_find matches the proxy's own SIP address on both sides, so both gates sit on
# 127.0.0.40 with port ranges that do not overlap.
sip_iptrtpproxy() {
  [ -f "$BUILD/iptrtpproxy.so" ] || { echo "sip-load: $BUILD/iptrtpproxy.so not built" >&2; return 1; }
  [ -f examples/kamailio.cfg ] || { echo "sip-load: examples/kamailio.cfg missing" >&2; return 1; }
  cat >"$WORK/iptrtpproxy.cfg" <<EOF
# make bench SIP load: one switchboard on the proxy's SIP address.
[switchboard:bench]
addr-a = 127.0.0.40
addr-b = 127.0.0.40
port-a = 42000
port-b = 43400
max-sess = 700
expires-timeout = 120
resurrection-timeout = 0
EOF
  start_kamailio "$WORK/kamailio-iptrtpproxy.log" examples/kamailio.cfg \
    -A 'LISTEN=udp:127.0.0.40:44960' -A 'CHILDREN=4' -A 'DEBUG_LEVEL=0' \
    -A "IPT_MODULE=\"$BUILD/iptrtpproxy.so\"" -A "IPT_CONFIG=\"$WORK/iptrtpproxy.cfg\"" \
    -A 'NEXT_HOP="sip:127.0.0.41:44961"'
  check_media_path "127\.0\.0\.40" iptrtpproxy
  ramp iptrtpproxy
}

# --- our module with external media hosts (build/iptrtpproxyd over TCP with a shared secret).
# Each host declares switchboard `bench` on its own gates (127.0.N.1 / 127.0.N.2); IPT_SWITCHBOARD
# allocates every call on it (iptrtpproxy_find matches the proxy's own addresses, which are not the
# hosts' gates). Kamailio and the hosts share this machine's cores with sipp.

SECRET_FILE=$WORK/relay-secret
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET_FILE"

# Sessions media host N allocated so far (its `stats`).
host_allocs() {
  "$BUILD/iptrtpproxy" stats --control "unix:$WORK/host$1.sock" 2>/dev/null | grep -m1 -oE '[0-9]+ allocated' | grep -oE '[0-9]+' || echo '?'
}

start_media_host() {  # N
  local n=$1 port=$((44979 + $1)) i
  cat >"$WORK/host$n.cfg" <<EOF
# make bench SIP load, media host $n: the switchboard every call is allocated on, on this host's gates.
[switchboard:bench]
addr-a = 127.0.$n.1
addr-b = 127.0.$n.2
port-a = 42000
port-b = 43400
max-sess = 700
expires-timeout = 120
resurrection-timeout = 0
EOF
  start_bg "$WORK/host$n.log" "$BUILD/iptrtpproxyd" --config "$WORK/host$n.cfg" --control "unix:$WORK/host$n.sock" \
    --control-tcp "127.0.0.1:$port" --secret-file "$SECRET_FILE" --workers 1 "${HOST_ARGS[@]}"
  MEASURED_PIDS="$MEASURED_PIDS $LAST_PID"
  HOSTS="$HOSTS $n"
  for i in $(seq 300); do
    [ -n "$(ss -Hntl "sport = :$port" 2>/dev/null)" ] && return 0
    kill -0 "$LAST_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "sip-load: media host $n did not listen on tcp:127.0.0.1:$port; log:" >&2
  tail -20 "$WORK/host$n.log" >&2
  return 1
}

sip_external() {  # label hosts
  local label=$1 hosts=$2 n relay_defs=() gates
  [ -x "$BUILD/iptrtpproxyd" ] || { echo "sip-load: $BUILD/iptrtpproxyd not built" >&2; return 1; }
  [ -f "$BUILD/iptrtpproxy.so" ] || { echo "sip-load: $BUILD/iptrtpproxy.so not built" >&2; return 1; }
  for n in $(seq "$hosts"); do
    start_media_host "$n" || return 1
    relay_defs+=(-A "IPT_RELAY$([ "$n" = 1 ] || echo "$n")=\"tcp:127.0.0.1:$((44979 + n));weight=1\"")
  done
  start_kamailio "$WORK/kamailio-$label.log" examples/kamailio.cfg \
    -A 'LISTEN=udp:127.0.0.40:44960' -A 'CHILDREN=4' -A 'DEBUG_LEVEL=0' \
    -A "IPT_MODULE=\"$BUILD/iptrtpproxy.so\"" -A "IPT_CONFIG=\"$WORK/host1.cfg\"" \
    -A 'NEXT_HOP="sip:127.0.0.41:44961"' -A "IPT_RELAY_SECRET=\"$(cat "$SECRET_FILE")\"" \
    -A 'IPT_SWITCHBOARD="bench"' "${relay_defs[@]}"
  gates="127\.0\.1\.2"
  [ "$hosts" = 1 ] || gates="127\.0\.[1-$hosts]\.2"
  check_media_path "$gates" "$label"
  ramp "$label"
}

sip_external1() { sip_external external1 1; }

# external1 with the media host's sessions in Redis: a redis-server of its own (not in the CPU
# columns: its CPU per call is printed after the ramp), --redis on the host. After the ramp every
# call has ended, so the host's hash in Redis must be empty again.
sip_external1-redis() {
  command -v redis-server >/dev/null || { echo "sip-load: redis-server not installed" >&2; return 1; }
  start_bg "$WORK/redis.log" redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no
  REDIS_PID=$LAST_PID
  local i key="iptrtpproxy:sessions:A=127.0.1.1:42000;B=127.0.1.2:43400" cpu0 cpu1 left
  for i in $(seq 100); do
    [ "$(redis-cli -p $REDIS_PORT ping 2>/dev/null)" = PONG ] && break
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "$(redis-cli -p $REDIS_PORT ping 2>/dev/null)" = PONG ] ||
    { echo "sip-load: redis-server did not answer on 127.0.0.1:$REDIS_PORT" >&2; tail -5 "$WORK/redis.log" >&2; return 1; }
  HOST_ARGS=(--redis "redis://127.0.0.1:$REDIS_PORT/0")
  cpu0=$(redis_cpu_ms)
  sip_external external1-redis 1 || return 1
  # The host's writer catches up within a moment; bounded.
  for i in $(seq 50); do
    left=$(redis-cli -p $REDIS_PORT hlen "$key" 2>/dev/null || echo '?')
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  cpu1=$(redis_cpu_ms)
  echo "sip-load: external1-redis: redis-server CPU over the whole run (checks and ramp): $((cpu1 - cpu0)) ms; sessions left in Redis after the last call: $left"
}
# redis-server's CPU so far (utime + stime of all its threads), ms.
redis_cpu_ms() {
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / tck) }' "/proc/$REDIS_PID/stat"
}
sip_pool2() { sip_external pool2 2; }

: >"$RESULTS"
for relay in $RELAYS; do
  echo "sip-load: $relay"
  if ! "sip_$relay"; then echo "sip-load: $relay: skipped"; fi
  stop_all
done

echo
echo "| media relay | highest cps with 0 failed calls | achieved cps | proxy + relay CPU µs/call | of it relay µs/call | ramp stopped at |"
echo "|---|---:|---:|---:|---:|---|"
while IFS='|' read -r relay best cps cpu relay_cpu stop; do
  echo "| $relay | $best | $cps | $cpu | $relay_cpu | $stop |"
done <"$RESULTS"
echo "(each step: ${STEP} s of calls; rates tried: $RATES; external1/pool2: IPT_SWITCHBOARD, relay CPU = the media hosts; external1-redis: redis-server's CPU not included)"
