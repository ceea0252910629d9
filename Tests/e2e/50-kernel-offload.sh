#!/usr/bin/env bash
# Kernel offload (issue 5) through ipt-nft-probe, in three network namespaces this test creates and
# always removes: caller 203.0.113.2 — relay (media address 192.0.2.10 on lo) — callee
# 198.51.100.2 (alias .3). A stream's RTP and RTCP flow both ways through the kernel once
# installed, arrive from the relay's address and ports, and move the kernel counters while the
# relay's own sockets get nothing; a stranger's packets and fragments still reach the relay's
# socket; a datagram without UDP checksum is relayed without one; re-point moves the stream; remove
# takes it out; stop removes the table; none of it needs IP forwarding.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/e2e/lib/three-hosts.sh

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "skip: needs root and iproute2 (network namespaces)"; exit 0
fi
probe=${IPT_NFT_PROBE:-}
if [ -z "$probe" ]; then
  bin=$(swift build -c release --show-bin-path 2>/dev/null)
  [ -x "$bin/ipt-nft-probe" ] || swift build -c release --product ipt-nft-probe >/dev/null || exit 1
  probe=$bin/ipt-nft-probe
fi

tag=iptk$$
caller=${tag}c relay=${tag}r callee=${tag}e
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  ip netns exec "$relay" "$probe" stop 2>/dev/null
  three_hosts_delete
  rm -rf "$work"
}
trap cleanup EXIT

# --- topology -------------------------------------------------------------------------------
three_hosts_create || { echo "FAIL: cannot create the namespaces"; exit 1; }
ip -n "$callee" addr add 198.51.100.3/24 dev ke

# veth offloads the UDP checksum: turn that off, so that senders put real checksums on the wire,
# the relay's rewrite must keep them right, and receivers check them (UdpInCsumErrors).
cat > "$work/txcsum-off.py" <<'PY'
import ctypes, fcntl, socket, struct, sys
class EthtoolValue(ctypes.Structure): _fields_ = [("cmd", ctypes.c_uint32), ("data", ctypes.c_uint32)]
value = EthtoolValue(0x17, 0)  # ETHTOOL_STXCSUM, off
request = struct.pack("16sP16x", sys.argv[1].encode(), ctypes.addressof(value))
fcntl.ioctl(socket.socket(), 0x8946, request)  # SIOCETHTOOL
PY
for l in "$caller kc" "$relay rc" "$relay re" "$callee ke"; do
  set -- $l; ip netns exec "$1" python3 "$work/txcsum-off.py" "$2" || echo "note: could not turn off tx checksum offload on $2"
done

# --- UDP endpoints (three-hosts.sh): rounds of senders and receivers, checked as they settle ----
udp_rounds_setup
counter() { ip netns exec "$relay" "$probe" counters | awk -v e="$1" '$1 == e { print $2 }'; }

fails=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
is() { [ "$1" = "$2" ] || { echo "     got '$1', want '$2'"; return 1; }; }

R=192.0.2.10
rtp="$R:30000 203.0.113.2:4000 $R:30002 198.51.100.2:6000"
rtcp="$R:30001 203.0.113.2:4001 $R:30003 198.51.100.2:6001"

# --- before: everything reaches the relay's sockets -------------------------------------------
check "start creates the table" ip netns exec "$relay" "$probe" start
check "the table is there" eval 'ip netns exec "$relay" nft list table netdev iptrtpproxy >/dev/null 2>&1'
begin
endpoint "$relay" $R 30000
endpoint "$callee" 198.51.100.2 6000
endpoint "$caller" 203.0.113.2 4000 $R 30000 10
run
check "before install: the relay's socket gets RTP" settles "10 203.0.113.2:4000" got "$relay" 30000
check "before install: the callee gets nothing" settles "0 -" got "$callee" 6000

# --- install: RTP and RTCP both ways in the kernel --------------------------------------------
check "install RTP stream" ip netns exec "$relay" "$probe" install $rtp
check "install RTCP stream" ip netns exec "$relay" "$probe" install $rtcp
begin
for p in 30000 30001 30002 30003; do endpoint "$relay" $R $p; done
endpoint "$caller" 203.0.113.2 4000 $R 30000 20
endpoint "$caller" 203.0.113.2 4001 $R 30001 5
endpoint "$callee" 198.51.100.2 6000 $R 30002 30
endpoint "$callee" 198.51.100.2 6001 $R 30003 7
run
check "caller→callee RTP arrives from the relay's gate-B port" settles "20 $R:30002" got "$callee" 6000
check "caller→callee RTCP arrives from the relay's gate-B port" settles "5 $R:30003" got "$callee" 6001
check "callee→caller RTP arrives from the relay's gate-A port" settles "30 $R:30000" got "$caller" 4000
check "callee→caller RTCP arrives from the relay's gate-A port" settles "7 $R:30001" got "$caller" 4001
check "the relay's sockets got none of it" \
  settles "0 -/0 -/0 -/0 -" eval 'echo "$(got "$relay" 30000)/$(got "$relay" 30001)/$(got "$relay" 30002)/$(got "$relay" 30003)"'
check "kernel counter of 30000 (caller RTP)" settles 20 counter $R:30000
check "kernel counter of 30001 (caller RTCP)" settles 5 counter $R:30001
check "kernel counter of 30002 (callee RTP)" settles 30 counter $R:30002
check "kernel counter of 30003 (callee RTCP)" settles 7 counter $R:30003
csum() { ip netns exec "$1" nstat -az UdpInCsumErrors | awk '/UdpInCsumErrors/ {print $2}'; }
check "rewritten packets have valid UDP checksums" is "$(csum "$callee")/$(csum "$caller")" "0/0"

# --- a stranger (another source port) is not forwarded: the relay's socket gets it -------------
begin
endpoint "$relay" $R 30000
endpoint "$callee" 198.51.100.2 6000
endpoint "$caller" 203.0.113.2 4444 $R 30000 10
run
check "a source the relay did not latch reaches the relay's socket" settles "10 203.0.113.2:4444" got "$relay" 30000
check "…and not the callee" settles "0 -" got "$callee" 6000

# --- a datagram sent without a UDP checksum is relayed in the kernel and still has none ---------
begin
endpoint "$relay" $R 30000
endpoint "$callee" 198.51.100.2 6000
UDP_NO_CHECKSUM=1 endpoint "$caller" 203.0.113.2 4000 $R 30000 4
run
check "a datagram without UDP checksum is relayed in the kernel" settles "4 $R:30002" got "$callee" 6000
check "…and arrives without a wrong one" is "$(csum "$callee")" "0"
check "…and not at the relay's socket" settles "0 -" got "$relay" 30000

# --- a datagram too big for one packet (IP fragments) goes up to the relay's socket, whole -------
begin
endpoint "$relay" $R 30000
endpoint "$callee" 198.51.100.2 6000
UDP_SIZE=3000 endpoint "$caller" 203.0.113.2 4000 $R 30000 3
run
check "a fragmented datagram reaches the relay's socket, reassembled" settles "3 203.0.113.2:4000" got "$relay" 30000
check "…and no fragment of it the callee" settles "0 -" got "$callee" 6000

# --- re-point: the callee moves to 198.51.100.3:7000 -------------------------------------------
moved="$R:30000 203.0.113.2:4000 $R:30002 198.51.100.3:7000"
check "repoint RTP to the callee's new address" ip netns exec "$relay" "$probe" repoint $rtp $moved
begin
endpoint "$callee" 198.51.100.2 6000
endpoint "$callee" 198.51.100.3 7000 $R 30002 6
endpoint "$caller" 203.0.113.2 4000 $R 30000 15
run
check "after re-point RTP goes to the new address" settles "15 $R:30002" got "$callee" 7000
check "…and no longer to the old one" settles "0 -" got "$callee" 6000
check "the new callee address reaches the caller" settles "6 $R:30000" got "$caller" 4000
check "re-pointed counters start again" settles 15 counter $R:30000

# --- remove (both streams in one batch): back to user space -------------------------------------
check "remove both streams in one batch" ip netns exec "$relay" "$probe" remove $moved $rtcp
begin
endpoint "$relay" $R 30000
endpoint "$relay" $R 30001
endpoint "$callee" 198.51.100.3 7000
endpoint "$callee" 198.51.100.2 6001
endpoint "$caller" 203.0.113.2 4000 $R 30000 10
endpoint "$caller" 203.0.113.2 4001 $R 30001 3
run
check "after remove the relay's socket gets RTP again" settles "10 203.0.113.2:4000" got "$relay" 30000
check "after remove the relay's socket gets RTCP again" settles "3 203.0.113.2:4001" got "$relay" 30001
check "after remove nothing is forwarded" settles "0 -/0 -" eval 'echo "$(got "$callee" 7000)/$(got "$callee" 6001)"'
check "no counters left" is "$(ip netns exec "$relay" "$probe" counters | wc -l)" 0
ip netns exec "$relay" "$probe" remove $rtcp 2>/dev/null
check "removing a stream that is not installed fails" test $? -ne 0

# --- a client the kernel cannot send to through an interface (a local address) stays in user space
ip netns exec "$relay" "$probe" install $R:30004 192.0.2.10:5000 $R:30006 198.51.100.2:6002 2>"$work/err"
check "a stream with a client on the relay's own address is refused" test $? -ne 0
check "…and says why" grep -q "not reached through a network interface" "$work/err"

# --- start again replaces a stale table; stop removes it ----------------------------------------
ip netns exec "$relay" "$probe" install $rtp
check "start again replaces a stale table (its streams are gone)" ip netns exec "$relay" "$probe" start
check "…so nothing is counted" is "$(ip netns exec "$relay" "$probe" counters | wc -l)" 0
check "stop deletes the table" ip netns exec "$relay" "$probe" stop
check "the table is gone" test -z "$(ip netns exec "$relay" nft list ruleset)"

# --- the kernel path relays without IP forwarding (it is the relay's job, not routing) ------------
ip netns exec "$relay" sysctl -qw net.ipv4.ip_forward=0
check "start with IP forwarding off" ip netns exec "$relay" "$probe" start
check "install with IP forwarding off" ip netns exec "$relay" "$probe" install $rtp
begin
endpoint "$relay" $R 30000
endpoint "$callee" 198.51.100.2 6000
endpoint "$caller" 203.0.113.2 4000 $R 30000 10
run
check "with IP forwarding off the kernel relays RTP" settles "10 $R:30002" got "$callee" 6000
check "…and plain routing does not" eval '! ip netns exec "$caller" ping -c1 -W1 198.51.100.2 >/dev/null 2>&1'
ip netns exec "$relay" "$probe" stop

echo "kernel offload: $fails failure(s)"
[ "$fails" -eq 0 ]
