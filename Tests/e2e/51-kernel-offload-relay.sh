#!/usr/bin/env bash
# The relay daemon with `--kernel-offload` (issue 5), in three network namespaces this test
# creates and always removes: caller 203.0.113.2 (NAT alias .50) — relay (gate A 192.0.2.10, gate B
# 192.0.2.11, both on ports 30000+) — callee 198.51.100.2. A NAT'd caller is learned in user space,
# then the stream is offloaded: RTP and RTCP flow both ways through the kernel (the relay's UDP
# sockets see none of it, the kernel counters move, `list` says offloaded); expiry removes the
# elements; a killed relay leaves its table, and the restarted one replaces it and offloads the
# journaled call again.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/e2e/lib/three-hosts.sh
source Tests/e2e/lib/relay-control.sh

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "skip: needs root and iproute2 (network namespaces)"; exit 0
fi
daemon=$(realpath -m "${IPTRTPPROXYD:-build/iptrtpproxyd}")
[ -x "$daemon" ] || { echo "FAIL: $daemon not built (run make)"; exit 1; }
if ! "$daemon" --help 2>&1 | grep -q -- "--kernel-offload"; then
  echo "skip: $daemon has no --kernel-offload option"; exit 0
fi

tag=iptk$$
caller=${tag}c relay=${tag}r callee=${tag}e
work=$(mktemp -d)
pids=() relay_pid=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "$relay_pid" ] && kill -TERM "$relay_pid" 2>/dev/null; then
    for _ in $(seq 60); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.05; done   # up to 3 s to exit
    kill -KILL "$relay_pid" 2>/dev/null
  fi
  ip netns exec "$relay" nft delete table netdev iptrtpproxy 2>/dev/null
  three_hosts_delete
  rm -rf "$work"
}
trap cleanup EXIT

# --- topology -------------------------------------------------------------------------------
three_hosts_create || { echo "FAIL: cannot create the namespaces"; exit 1; }
ip -n "$caller" addr add 203.0.113.50/24 dev kc   # the caller's NAT address
ip -n "$relay" addr add 192.0.2.11/32 dev lo      # gate B

cat > "$work/iptrtpproxy.cfg" <<CFG
[switchboard:k]
addr-a = 192.0.2.10
addr-b = 192.0.2.11
port-a = 30000
port-b = 30000
max-sess = 8
expires-timeout = 4
resurrection-timeout = 1
CFG

start_relay() {
  rm -f "$work/control.sock"
  ip netns exec "$relay" "$daemon" --config "$work/iptrtpproxy.cfg" --control "unix:$work/control.sock" \
    --journal "$work/journal" --workers 1 --kernel-offload --kernel-offload-path nftables --log-level info 2>>"$work/relay.log" &
  relay_pid=$!
  for _ in $(seq 100); do [ -S "$work/control.sock" ] && return 0; sleep 0.05; done
  echo "FAIL: control socket did not appear"; cat "$work/relay.log"; return 1
}

relay_control_setup
elements() { ip netns exec "$relay" nft -j list map netdev iptrtpproxy arrival 2>/dev/null | python3 -c '
import json, sys
try: d = json.load(sys.stdin)
except Exception: print(-1); sys.exit()
print(sum(len(m["map"].get("elem", [])) for m in d["nftables"] if "map" in m))'; }
kernel_packets() { ip netns exec "$relay" nft -j list map netdev iptrtpproxy arrival 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); n = 0
for m in d["nftables"]:
    for e in m.get("map", {}).get("elem", []):
        n += e[0]["elem"]["counter"]["packets"]
print(n)'; }
stats_packets() { ctl stats | cut -d' ' -f2- | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["packets"])'; }
udp_in() { ip netns exec "$relay" nstat -az UdpInDatagrams | awk '/UdpInDatagrams/ { print $2 }'; }

# UDP endpoints (three-hosts.sh): rounds of senders and receivers, checked as they settle.
udp_rounds_setup


# A call: the caller offers 203.0.113.2:4000 but sits behind NAT (sends from .50:5555/5556; its SIP
# came from .50 too, which is what lets the relay learn that source).
call() {
  # The proxy saw its INVITE come from the NAT address: a.signal (what the module passes as $si).
  local reply; reply=$(ctl alloc k a.rtp=203.0.113.2:4000 a.rtcp=203.0.113.2:4001 a.signal=203.0.113.50)
  set -- $reply; [ "$1" = ok ] || { echo "alloc: $reply"; return 1; }
  sid=$2 pa=$3 pb=$4
  reply=$(ctl update k "$sid" b.rtp=198.51.100.2:6000 b.rtcp=198.51.100.2:6001)
  [ "${reply%% *}" = ok ] || { echo "update: $reply"; return 1; }
}

# --- learn in user space, then offload -------------------------------------------------------
check "the relay starts with --kernel-offload" start_relay
check "it creates its table" eval 'ip netns exec "$relay" nft list table netdev iptrtpproxy >/dev/null 2>&1'
check "a call is set up over the control socket" call
# The caller speaks first, so that the relay has latched its NAT address before the callee sends.
begin; endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 3; endpoint "$caller" 203.0.113.50 5556 192.0.2.10 $((pa + 1)) 3; run
traffic 20
check "user space relays the NAT'd caller first (RTP)" settles "20 192.0.2.11:$pb" got "$callee" 6000
check "user space relays back to the caller's NAT address" settles "20 192.0.2.10:$pa" got "$caller" 5555
check "both sides latched: the stream is offloaded" wait_for 5 '[ "$(offloaded)" = true ]'
check "four arrival elements (RTP and RTCP, both ways)" is "$(elements)" 4

before_udp=$(udp_in) before_kernel=$(kernel_packets)
traffic 50
check "in the kernel: caller RTP reaches the callee from gate B" settles "50 192.0.2.11:$pb" got "$callee" 6000
check "in the kernel: caller RTCP reaches the callee from gate B" settles "10 192.0.2.11:$((pb + 1))" got "$callee" 6001
check "in the kernel: callee RTP reaches the NAT'd caller from gate A" settles "50 192.0.2.10:$pa" got "$caller" 5555
check "in the kernel: callee RTCP reaches the NAT'd caller from gate A" settles "10 192.0.2.10:$((pa + 1))" got "$caller" 5556
check "the relay's UDP sockets got none of it" is "$(( $(udp_in) - before_udp ))" 0
check "the kernel counters moved by 120" is "$(( $(kernel_packets) - before_kernel ))" 120
# The relay reads the kernel's counters on its housekeeping rounds: wait for one to have run.
check "stats count the kernel's packets too" \
  wait_for 5 '[ "$(stats_packets)" -ge 168 ] 2>/dev/null'

# --- a call the kernel keeps busy does not expire (the relay reads the element counters) -------
begin
endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 2600   # ~6 s, longer than expires-timeout (4 s)
endpoint "$callee" 198.51.100.2 6000 192.0.2.11 "$pb" 2600
run
check "a call forwarded only by the kernel for longer than expires-timeout stays up" \
  is "$(ctl list | cut -d' ' -f2- | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')" 1
check "…and in the kernel" is "$(elements)" 4

# --- expiry removes the elements ------------------------------------------------------------
check "an idle offloaded call expires and leaves the kernel" wait_for 10 '[ "$(elements)" = 0 ]'
check "…and the relay" is "$(ctl list | cut -d' ' -f2- | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')" 0

# --- relay killed: the table stays; the restarted relay replaces it and offloads again --------
check "a second call" call
begin; endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 3; endpoint "$caller" 203.0.113.50 5556 192.0.2.10 $((pa + 1)) 3; run
traffic 10
check "…is offloaded" wait_for 5 '[ "$(offloaded)" = true ]'
traffic 10
check "…and forwarded" settles "10 192.0.2.11:$pb" got "$callee" 6000
stale=$(kernel_packets)
check "…in the kernel" test "$stale" -gt 0
kill -KILL "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=""
check "a killed relay leaves its elements behind" is "$(elements)" 4
check "the relay restarts" start_relay
check "the restarted relay replaced the stale table (its counters start from 0)" test "$(kernel_packets)" -lt "$stale"
check "the journaled call is back" is "$(ctl list | cut -d' ' -f2- | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sessions"]))')" 1
traffic 10
check "after the restart the call flows again" settles "10 192.0.2.11:$pb" got "$callee" 6000
check "…and is offloaded again" wait_for 5 '[ "$(offloaded)" = true ]'
check "…with its four elements" is "$(elements)" 4

# --- SIGTERM removes the table ----------------------------------------------------------------
kill -TERM "$relay_pid"; wait "$relay_pid"; rc=$?; relay_pid=""
check "SIGTERM stops the relay cleanly" is "$rc" 0
check "…and its table is gone" test -z "$(ip netns exec "$relay" nft list ruleset)"

[ "$fails" -eq 0 ] || { echo "--- relay log"; tail -20 "$work/relay.log"; }
echo "kernel offload with the relay: $fails failure(s)"
[ "$fails" -eq 0 ]
