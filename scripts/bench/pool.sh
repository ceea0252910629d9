#!/usr/bin/env bash
# make bench, several media hosts (issue 10): Kamailio (examples/kamailio.cfg, build/iptrtpproxy.so)
# with external build/iptrtpproxyd media hosts over TCP (shared secret), IPT_SWITCHBOARD set so that
# every call is allocated on switchboard `bench`, which each host declares on its own gates.
#
#  a. Call set-up latency: from the INVITE sent to the 200 received, as the caller (sipp) sees it
#     (its message trace, microsecond stamps: scripts/bench/sip_latency.py), POOL_CALLS calls at
#     POOL_RATE calls/s, for one external relay and a pool of 2 (weight 1 each), and for reference
#     the module's embedded relay on the same switchboard. It holds the proxy's alloc on the INVITE
#     and its update on the 200 (two round trips to a media host), besides SIP through Kamailio twice.
#  b. Failover: a pool of 2, host 1 weight=1000, host 2 weight=1 (host 1 is picked while it is up),
#     relay_timeout 500 ms, probe interval 1000 ms. Host 1 gets SIGSTOP, then 21 calls are placed
#     one after another (sipp -l 1): the set-up latency of the first (it waits relay_timeout on
#     host 1 once, then is allocated on host 2 in the same function call), the p50/max of the 20
#     after it, and the time from the SIGSTOP to the callee receiving the first INVITE whose SDP
#     carries host 2's gate (its alloc on host 2 done). Then SIGCONT: the time until
#     `kamcmd iptrtpproxy.relays` shows host 1 up again. Every call must complete (sipp exit 0).
#
# Everything on loopback: Kamailio 127.0.0.50:44960, callee 127.0.0.51:44961, caller
# 127.0.0.52:44962; host 1 gates 127.0.1.1 / 127.0.1.2, host 2 127.0.2.1 / 127.0.2.2, relay ports
# 42000-44899, control TCP 127.0.0.1:44982 and :44983. Every process started here is stopped on
# exit, also on failure or Ctrl-C. No fixed sleeps: every wait is on a condition with a deadline.
#
# Environment: POOL_CALLS=500, POOL_RATE=50, POOL_INVITE_RETRANS=2000 (ms before the caller's first
# INVITE retransmission; 500 is SIP's T1), BENCH_KEEP=1 (keep the work folder), BENCH_NICE=-10
# (priority of everything started here when run as root; 0 turns it off).
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE=scripts/bench/sip
RELAYD=build/iptrtpproxyd
CALLS=${POOL_CALLS:-500}
RATE=${POOL_RATE:-50}
WORK=$(mktemp -d /tmp/iptrtpproxy-pool.XXXXXX)
RESULTS=$WORK/results.md
STARTED_PIDS=()
NICE=()
if [ "$(id -u)" -eq 0 ] && [ "${BENCH_NICE:--10}" != 0 ]; then NICE=(nice -n "${BENCH_NICE:--10}"); fi
KAM_CTL=$WORK/kamailio_ctl
HOST_PORTS=(44982 44983)
HOST_PIDS=()

cleanup() {
  local pid
  # A stopped host does not act on SIGTERM until it is continued.
  for pid in "${STARTED_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "pool: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "pool: $*" >&2; exit 1; }

forget_pid() {
  local p kept=()
  for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  STARTED_PIDS=("${kept[@]}")
}

LAST_PID=""
start_bg() {  # log command...
  local log=$1; shift
  "${NICE[@]}" "$@" >"$log" 2>&1 </dev/null &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

stop_all() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STARTED_PIDS=()
  HOST_PIDS=()
}

now_ms() { date +%s%3N; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 20 ms until true or the deadline.
wait_until() {
  local secs=$1 what=$2; shift 2
  local deadline=$(($(now_ms) + secs * 1000))
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo "pool: timed out after ${secs}s waiting for $what" >&2; return 1; }
    sleep 0.02
  done
}

udp_listening() { [ -n "$(ss -Hnul "src $1 and sport = :$2" 2>/dev/null)" ]; }
tcp_listening() { [ -n "$(ss -Hntl "sport = :$1" 2>/dev/null)" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# The shared secret the hosts' challenge asks the module to prove (>= 16 bytes).
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/secret"
SECRET=$(cat "$WORK/secret")

# write_host_cfg N: media host N's switchboards file: `bench` on 127.0.N.1 / 127.0.N.2.
write_host_cfg() {
  local n=$1
  cat >"$WORK/host$n.cfg" <<EOF
# make bench, media host $n: the switchboard every call is allocated on, on this host's gates.
[switchboard:bench]
addr-a = 127.0.$n.1
addr-b = 127.0.$n.2
port-a = 42000
port-b = 43400
max-sess = 700
expires-timeout = 120
resurrection-timeout = 0
EOF
}

# start_host N: iptrtpproxyd number N (1 or 2) on that file, back once it listens.
start_host() {
  local n=$1 port=${HOST_PORTS[$(($1 - 1))]}
  write_host_cfg "$n"
  start_bg "$WORK/host$n.log" $RELAYD --config "$WORK/host$n.cfg" --control "unix:$WORK/host$n.sock" \
    --control-tcp "127.0.0.1:$port" --secret-file "$WORK/secret" --workers 1
  HOST_PIDS[$n]=$LAST_PID
  wait_until 30 "media host $n to listen on tcp:127.0.0.1:$port" tcp_listening "$port" ||
    { tail -20 "$WORK/host$n.log" >&2; return 1; }
}

# Sessions host N allocated so far, and has now (its `stats`: "sessions: A active, N allocated, ...").
host_stat() {
  build/iptrtpproxy stats --control "unix:$WORK/host$1.sock" 2>/dev/null | grep -m1 -oE "[0-9]+ $2" | grep -oE '[0-9]+' || echo '?'
}
host_allocs() { host_stat "$1" allocated; }
host_active() { host_stat "$1" active; }
host1_late_alloc() { [ "$(host_allocs 1)" != "$h1_before" ]; }

KAM_PID=""
# start_kamailio NAME RELAY [RELAY2] [-A DEF]...
start_kamailio() {
  local name=$1 log=$WORK/kamailio-$1.log; shift
  KAM_RELAY=$1
  local args=(-A "IPT_RELAY=\"$1\"") ; shift
  if [ $# -gt 0 ] && [ "$1" != -A ]; then args+=(-A "IPT_RELAY2=\"$1\""); shift; fi
  rm -f "$KAM_CTL"
  start_bg "$log" kamailio -DD -E -f examples/kamailio.cfg -Y "$WORK" -m 256 -M 32 \
    -A 'LISTEN=udp:127.0.0.50:44960' -A 'CHILDREN=4' -A 'DEBUG_LEVEL=2' \
    -A "IPT_MODULE=\"$PWD/build/iptrtpproxy.so\"" -A "IPT_CONFIG=\"$WORK/host1.cfg\"" \
    -A 'NEXT_HOP="sip:127.0.0.51:44961"' -A WITH_CTL -A "CTL_SOCKET=\"unix:$KAM_CTL\"" \
    -A "IPT_RELAY_SECRET=\"$SECRET\"" -A 'IPT_SWITCHBOARD="bench"' "${args[@]}" "$@"
  KAM_PID=$LAST_PID
  wait_until 30 "kamailio to listen on udp:127.0.0.50:44960 and $KAM_CTL" kam_ready ||
    { tail -20 "$log" >&2; return 1; }
}
# Ready: SIP port bound, kamcmd's socket there and, with the embedded relay, its control socket
# (named for Kamailio's main process, in the runtime dir).
kam_ready() {
  gone "$KAM_PID" && return 1
  udp_listening 127.0.0.50 44960 && [ -S "$KAM_CTL" ] && { [ "$KAM_RELAY" != embedded ] || [ -S "$WORK/iptrtpproxy-$KAM_PID.sock" ]; }
}

relays() { kamcmd -s "unix:$KAM_CTL" iptrtpproxy.relays 2>&1; }
# host_state N: up/down as iptrtpproxy.relays shows media host N (its Nth record's state field).
host_state() { relays | grep -E '^\s+state: ' | sed -n "${1}p" | awk '{print $2}'; }
host_up() { [ "$(host_state "$1")" = up ]; }

UAS_PID=""
start_uas() {  # log [sipp options]
  local log=$1; shift
  start_bg "$log" sipp -sf $HERE/uas.xml -i 127.0.0.51 -p 44961 -mi 127.0.0.51 -mp 44970 -nostdin "$@"
  UAS_PID=$LAST_PID
  wait_until 20 "the callee (sipp) to listen on udp:127.0.0.51:44961" udp_listening 127.0.0.51 44961
}
stop_uas() {
  kill "$UAS_PID" 2>/dev/null || true
  wait "$UAS_PID" 2>/dev/null || true
  forget_pid "$UAS_PID"
  # The next callee binds the same port: wait until this one has let it go.
  wait_until 10 "the callee's port to be free" bash -c '! ss -Hnul "src 127.0.0.51 and sport = :44961" | grep -q .'
}

# The caller's scenario: scripts/bench/sip/uac.xml with the INVITE's first retransmission after
# POOL_INVITE_RETRANS ms (default 2000) instead of T1 = 500 ms, so that a retransmission does not
# cross the failover's 500 ms wait (Kamailio would run route[MEDIA_OFFER] for it a second time,
# in another worker, before the first has made the transaction: see BENCHMARKS.md).
sed "s/<send retrans=\"500\">/<send retrans=\"${POOL_INVITE_RETRANS:-2000}\">/" $HERE/uac.xml >"$WORK/uac.xml"

# run_uac NAME RATE CALLS [sipp options]: its message trace in $WORK/NAME.msg; sipp's exit status is
# the result (0: every call completed).
run_uac() {
  local name=$1 rate=$2 calls=$3; shift 3
  "${NICE[@]}" sipp 127.0.0.50:44960 -sf "$WORK/uac.xml" -s bench -i 127.0.0.52 -p 44962 \
    -mi 127.0.0.52 -mp 44972 -r "$rate" -m "$calls" -trace_msg -message_file "$WORK/$name.msg" -timeout 120s \
    -recv_timeout 10000 -nostdin "$@" >"$WORK/$name.out" 2>&1 </dev/null &
  local pid=$! rc=0
  STARTED_PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  [ "$rc" = 0 ] || { echo "pool: $name: sipp exit $rc" >&2; tail -30 "$WORK/$name.out" >&2; }
  return "$rc"
}

# The set-up latencies (ms) of run NAME, one per call in order: INVITE sent -> 200 received, from
# the caller's message trace (microsecond stamps; sipp's own rtd figures are whole milliseconds).
rtts() { python3 scripts/bench/sip_latency.py "$WORK/$1.msg"; }
# percentiles NAME [FROM]: "p50 p99 max n" of the response times from call FROM (1-based) on.
percentiles() {
  rtts "$1" | tail -n +"${2:-1}" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "? ? ? 0"; exit }
    i50 = int(0.50 * NR + 0.999999); i99 = int(0.99 * NR + 0.999999)
    printf "%.2f %.2f %.2f %d\n", v[i50], v[i99], v[NR], NR }'
}

machine() {
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
}

[ -x $RELAYD ] || die "$RELAYD missing (make build)"
[ -f build/iptrtpproxy.so ] || die "build/iptrtpproxy.so missing (make build)"
for tool in kamailio kamcmd sipp ss; do command -v $tool >/dev/null || die "$tool not installed (make deps)"; done

machine
echo
echo "| setup | calls | p50 ms | p99 ms | max ms | allocs per host |" >"$RESULTS"
echo "|---|---:|---:|---:|---:|---|" >>"$RESULTS"

# --- a. set-up latency
latency() {  # name: embedded | external1 | pool2
  local name=$1 p allocs="-" what
  if [ "$name" = embedded ]; then
    write_host_cfg 1  # the embedded relay serves host 1's switchboard file
    start_kamailio "$name" embedded
  else
    start_host 1
  fi
  if [ "$name" = pool2 ]; then
    start_host 2
    start_kamailio "$name" "tcp:127.0.0.1:${HOST_PORTS[0]};weight=1" "tcp:127.0.0.1:${HOST_PORTS[1]};weight=1"
  elif [ "$name" = external1 ]; then
    start_kamailio "$name" "tcp:127.0.0.1:${HOST_PORTS[0]}"
  fi
  start_uas "$WORK/uas-$name.log"
  # A few calls first: every worker connects and learns the hosts' switchboards.
  run_uac "$name-warmup" 20 20 || die "$name: warm-up calls failed"
  echo "pool: $name: $CALLS calls at $RATE calls/s"
  run_uac "$name" "$RATE" "$CALLS" || die "$name: calls failed"
  read -r -a p < <(percentiles "$name")
  case $name in
    embedded) what="embedded relay (reference)" ;;
    external1) what="one external relay"; allocs="host 1: $(host_allocs 1) (incl. 20 warm-up)" ;;
    pool2) what="pool of 2 (weight 1 each)"; allocs="host 1: $(host_allocs 1), host 2: $(host_allocs 2) (incl. 20 warm-up)" ;;
  esac
  [ "${p[3]}" = "$CALLS" ] || die "$name: $CALLS calls placed but ${p[3]} set-up times found"
  echo "| $name: $what | ${p[3]} at $RATE/s | ${p[0]} | ${p[1]} | ${p[2]} | $allocs |" >>"$RESULTS"
  # A relay that fails a control call lets the call through unrelayed: no such call may count.
  if grep -a -q -E 'ERROR|CRITICAL|BUG' "$WORK/kamailio-$name.log"; then
    grep -a -E 'ERROR|CRITICAL|BUG' "$WORK/kamailio-$name.log" | tail -5 >&2
    die "$name: Kamailio logged errors (above)"
  fi
  stop_all
}
latency embedded
latency external1
latency pool2

# --- b. failover
echo "pool: failover: host 1 weight=1000, host 2 weight=1, relay_timeout 500 ms, probe interval 1000 ms"
start_host 1
start_host 2
start_kamailio failover "tcp:127.0.0.1:${HOST_PORTS[0]};weight=1000" "tcp:127.0.0.1:${HOST_PORTS[1]};weight=1" \
  -A 'IPT_RELAY_TIMEOUT=500' -A 'IPT_RELAY_PROBE_INTERVAL=1000'
start_uas "$WORK/uas-failover.log" -trace_msg -message_file "$WORK/uas-failover.msg"
run_uac failover-warmup 20 20 || die "failover: warm-up calls failed"
wait_until 10 "both hosts up in iptrtpproxy.relays" bash -c "[ \"\$(kamcmd -s unix:$KAM_CTL iptrtpproxy.relays 2>&1 | grep -cE 'state: up$')\" = 2 ]"
h1_before=$(host_allocs 1) h2_before=$(host_allocs 2)
[ "$h2_before" = 0 ] || echo "pool: failover: host 2 got $h2_before of the warm-up calls (weight 1 against 1000)" >&2
relays >"$WORK/relays-before.txt"

stop_ms=$(now_ms)
kill -STOP "${HOST_PIDS[1]}"
run_uac failover 1000 21 -l 1 || die "failover: a call failed while host 1 hangs (see $WORK with BENCH_KEEP=1)"
relays >"$WORK/relays-during.txt"
h2_after=$(host_allocs 2)

# The first INVITE the callee received with host 2's gate B (127.0.2.2) in its SDP: sipp's trace
# stamps each message ("----- YYYY-MM-DD HH:MM:SS.ffffff").
first_h2_ms=$(python3 - "$WORK/uas-failover.msg" <<'EOF'
import re, sys, datetime
stamp, first = None, None
text = open(sys.argv[1], errors="replace").read()
for block in re.split(r"\n(?=-{10,} )", text):
    m = re.match(r"-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)", block)
    if not m or "INVITE sip:" not in block or "received" not in block.split("\n", 2)[1]:
        continue
    if re.search(r"^c=IN IP4 127\.0\.2\.2", block, re.M):
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        print(int(t.timestamp() * 1000))  # sipp stamps in local time, as timestamp() reads it
        break
EOF
)
read -r -a later < <(percentiles failover 2)
first_rtt=$(rtts failover | sed -n 1p)

cont_ms=$(now_ms)
kill -CONT "${HOST_PIDS[1]}"
wait_until 30 "iptrtpproxy.relays to show host 1 up" host_up 1 || die "failover: host 1 not up again within 30 s"
up_ms=$(now_ms)
relays >"$WORK/relays-after.txt"
# The alloc that timed out sits in host 1's socket: continued, the host serves it, and nobody
# deletes that session (the module gave up on it); it expires on the host's timeouts.
late="none"
if wait_until 3 "host 1 to serve the alloc it was sent while stopped" host1_late_alloc 2>/dev/null; then
  late="$(($(host_allocs 1) - h1_before)) alloc(s) served late, $(host_active 1) session(s) left active on host 1"
fi

{
  echo
  echo "Failover (pool of 2: host 1 weight=1000, host 2 weight=1; relay_timeout 500 ms, probe interval 1000 ms; host 1 SIGSTOPped, then 21 calls one after another, all completed):"
  echo
  echo "| measure | value |"
  echo "|---|---:|"
  echo "| set-up latency of the first call after the SIGSTOP | $(printf %.1f "$first_rtt") ms |"
  echo "| the 20 calls after it: p50 / max | ${later[0]} / ${later[2]} ms |"
  if [ -n "$first_h2_ms" ]; then
    echo "| SIGSTOP → callee receives the first INVITE allocated on host 2 | $((first_h2_ms - stop_ms)) ms |"
  else
    echo "| SIGSTOP → callee receives the first INVITE allocated on host 2 | none seen |"
  fi
  echo "| allocs on host 2 during the outage | $((h2_after - h2_before)) of 21 |"
  echo "| SIGCONT → iptrtpproxy.relays shows host 1 up | $((up_ms - cont_ms)) ms |"
  echo "| host 1 after SIGCONT: the timed-out alloc | $late |"
} >>"$RESULTS"
if grep -a -q 'is down' "$WORK/kamailio-failover.log"; then
  echo "pool: failover: Kamailio's log:"; grep -a -E 'is down|is up|ERROR' "$WORK/kamailio-failover.log" | head -8 | sed 's/^/  /'
fi
stop_all

echo
machine
cat "$RESULTS"
echo "(set-up latency: INVITE sent -> 200 received through Kamailio, from the caller's sipp trace; it holds the alloc on the INVITE and the update on the 200)"
