#!/usr/bin/env bash
# The relay daemon's XDP fast path (issue 15), in three network namespaces this test creates and
# always removes: caller 203.0.113.2 / 2001:db8:1::2 (NAT alias .50) — relay (gates 192.0.2.10/.11
# and 2001:db8:a::10/::11, ports 30000+) — callee 198.51.100.2 / 2001:db8:2::2.
# The senders' veths have tx checksum offload off, as a network card delivers full checksums
# (a packet whose checksum is left to the device takes the normal path: checked below).
#
# Shown: the program is loaded and attached (generic on veth under auto, named by info); a NAT'd
# caller is learned in user space, then RTP and RTCP flow both ways in the kernel for IPv4 and
# IPv6 (the relay's sockets see none of it, the program's counters and stats do; the callee's
# kernel finds every checksum right); native mode on veth too (with NAPI on the peers); malformed
# packets of a known stream (IP options, fragments, wrong UDP checksum, checksum left to the device)
# go to the normal path untouched; an unannounced source is not forwarded; a full map leaves the
# stream in user space and stats counts it; a program that cannot load means one warning line and
# nftables; a foreign XDP program on an interface is left alone; a killed relay's program is
# replaced by the restarted one, which offloads the journaled call again; SIGTERM detaches.
# tc mode (auto's fallback where the XDP hook is taken) forwards IPv4 and IPv6 the same way as an
# ingress filter, next to an operator's own filter, which sees every packet ours hands on and none
# it forwards; a killed relay's filters are taken off by the next relay, whatever its mode.
set -uo pipefail
cd "$(dirname "$0")/../.."
source Tests/e2e/lib/three-hosts.sh
source Tests/e2e/lib/relay-control.sh

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "skip: needs root and iproute2 (network namespaces)"; exit 0
fi
daemon=$(realpath -m "${IPTRTPPROXYD:-build/iptrtpproxyd}")
[ -x "$daemon" ] || { echo "FAIL: $daemon not built (run make)"; exit 1; }
bpf_dir=$(realpath -m "${IPTRTPPROXY_BPF_DIR:-build/bpf}")
[ -f "$bpf_dir/iptrtpproxy_xdp.o" ] || { echo "FAIL: $bpf_dir/iptrtpproxy_xdp.o not built (make build; needs clang)"; exit 1; }
for tool in bpftool ethtool; do command -v $tool >/dev/null || { echo "FAIL: $tool missing (make deps)"; exit 1; }; done

tag=iptx$$
caller=${tag}c relay=${tag}r callee=${tag}e
work=$(mktemp -d)
pids=() relay_pid=""
stop_relay() {
  if [ -n "$relay_pid" ] && kill -TERM "$relay_pid" 2>/dev/null; then
    for _ in $(seq 60); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.05; done   # up to 3 s to exit
    kill -KILL "$relay_pid" 2>/dev/null
  fi
  relay_pid=""
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  stop_relay
  # Programs die with their interfaces, tables with their namespace.
  three_hosts_delete
  rm -rf "$work"
}
trap cleanup EXIT

# --- topology -------------------------------------------------------------------------------
three_hosts_create || { echo "FAIL: cannot create the namespaces"; exit 1; }
ip -n "$caller" addr add 203.0.113.50/24 dev kc   # the caller's NAT address
ip -n "$relay" addr add 192.0.2.11/32 dev lo      # gate B
ip -n "$caller" addr add 2001:db8:1::2/64 dev kc nodad
ip -n "$relay" addr add 2001:db8:1::1/64 dev rc nodad
ip -n "$relay" addr add 2001:db8:2::1/64 dev re nodad
ip -n "$callee" addr add 2001:db8:2::2/64 dev ke nodad
ip -n "$relay" addr add 2001:db8:a::10/128 dev lo nodad
ip -n "$relay" addr add 2001:db8:a::11/128 dev lo nodad
ip -n "$caller" -6 route add default via 2001:db8:1::1
ip -n "$callee" -6 route add default via 2001:db8:2::1
# The kernel's FIB answers XDP only where forwarding is on (as for the nftables offload).
ip netns exec "$relay" sysctl -qw net.ipv6.conf.all.forwarding=1
# As from a network card: full checksums on the wire.
ip netns exec "$caller" ethtool -K kc tx off >/dev/null
ip netns exec "$callee" ethtool -K ke tx off >/dev/null

cat > "$work/iptrtpproxy.cfg" <<CFG
[switchboard:k]
addr-a = 192.0.2.10
addr-b = 192.0.2.11
port-a = 30000
port-b = 30000
max-sess = 8
expires-timeout = 60
resurrection-timeout = 1

[switchboard:k6]
addr-a = 2001:db8:a::10
addr-b = 2001:db8:a::11
port-a = 31000
port-b = 31000
max-sess = 8
expires-timeout = 60
resurrection-timeout = 1
CFG

# start_relay [ARGS...]: the daemon in the relay namespace with --kernel-offload and ARGS.
start_relay() {
  rm -f "$work/control.sock"
  ip netns exec "$relay" env IPTRTPPROXY_BPF_DIR="${RELAY_BPF_DIR:-$bpf_dir}" \
    "$daemon" --config "$work/iptrtpproxy.cfg" --control "unix:$work/control.sock" \
    --journal "$work/journal" --workers 1 --kernel-offload --log-level info "$@" 2>>"$work/relay.log" &
  relay_pid=$!
  for _ in $(seq 100); do [ -S "$work/control.sock" ] && return 0; kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.05; done
  echo "     control socket did not appear"; tail -5 "$work/relay.log"; return 1
}

relay_control_setup
# The relay's XDP program and maps, read with bpftool in its namespace.
cat > "$work/xdp.py" <<'PY'
import json, subprocess, sys
def bt(*a): return json.loads(subprocess.run(["bpftool", "-j", *a], capture_output=True, text=True).stdout or "null")
what = sys.argv[1]
net = bt("net", "show")
progs = []   # (interface, program id, mode): XDP's generic/driver, or tc for a tc ingress filter
for entry in (net or []):
    for x in entry.get("xdp", []):
        progs.append((x["devname"], x["id"], x.get("mode", "?")))
    for x in entry.get("tc", []):
        if x.get("kind") == "clsact/ingress": progs.append((x["devname"], x["id"], "tc"))
progs.sort()
if what == "attached":   # "rc:ipt_xdp_relay:generic re:ipt_xdp_relay:generic" (id-free), or "-" when none
    print(" ".join("%s:%s:%s" % (d, bt("prog", "show", "id", str(i))["name"], m) for d, i, m in progs) or "-")
    sys.exit()
if what == "ids":
    print(" ".join(str(i) for d, i, m in progs) or "-"); sys.exit()
if what == "seen":   # the operator's own tc filter (operator_count): its count, or "" when it is gone
    ids = [i for d, i, m in progs if bt("prog", "show", "id", str(i))["name"] == "operator_count"]
    if not ids: print(""); sys.exit()
    e = (bt("map", "dump", "id", str(bt("prog", "show", "id", str(ids[0]))["map_ids"][0])) or [{}])[0]
    v = e.get("formatted", e).get("value", 0)
    print(v if isinstance(v, int) else int.from_bytes(bytes(int(b, 16) for b in v), "little")); sys.exit()
ours = [i for d, i, m in progs if bt("prog", "show", "id", str(i))["name"] in ("ipt_xdp_relay", "ipt_tc_relay")]
if not ours: print(-1); sys.exit()
maps = {bt("map", "show", "id", str(m))["name"]: m for m in bt("prog", "show", "id", str(ours[0]))["map_ids"]}
def value(e):   # an array element's value as a number, with or without BTF formatting
    v = e.get("formatted", e)["value"]
    return v if isinstance(v, int) else int.from_bytes(bytes(int(b, 16) for b in v), "little")
if what in ("streams", "indexed"):   # directions in the fast index (the halves of its positions in use), plus in the hash maps; [4|6]: one family
    families = sys.argv[2:] or ["4", "6"]
    indexed = sum((value(e) & 0xffffffff != 0) + (value(e) >> 32 != 0)
                  for f in families for e in bt("map", "dump", "id", str(maps["ipt_index" + f])) or [])
    hashed = sum(len(bt("map", "dump", "id", str(maps["ipt_streams" + f])) or []) for f in families)
    print(indexed + hashed if what == "streams" else indexed)
elif what == "counter":  # counter N: slot N of ipt_counters summed over CPUs
    slot = int(sys.argv[2])
    for e in bt("map", "dump", "id", str(maps["ipt_counters"])) or []:
        if e.get("key") == slot or e.get("formatted", {}).get("key") == slot:
            vals = e.get("formatted", e)["values"]
            print(sum(v["value"] for v in vals)); break
    else: print(0)
PY
xdp() { ip netns exec "$relay" python3 "$work/xdp.py" "$@"; }
udp_in() { ip netns exec "$1" nstat -az "$2" | awk -v k="$2" '$1 == k { print $2 }'; }

udp_rounds_setup

# call SWITCHBOARD CALLER_HOST CALLER_SIGNAL CALLEE_HOST: the caller offers port 4000 (RTCP 4001),
# the callee answers 6000 (6001); sets sid pa pb.
call() {
  local a=$2 b=$4
  [[ $a == *:* ]] && a="[$a]"; [[ $b == *:* ]] && b="[$b]"
  local reply; reply=$(ctl alloc "$1" "a.rtp=$a:4000" "a.rtcp=$a:4001" "a.signal=$3")
  set -- "$1" $reply; [ "$2" = ok ] || { echo "alloc: $reply"; return 1; }
  sid=$3 pa=$4 pb=$5
  reply=$(ctl update "$1" "$sid" "b.rtp=$b:6000" "b.rtcp=$b:6001")
  [ "${reply%% *}" = ok ] || { echo "update: $reply"; return 1; }
}
prime() {  # the caller speaks first, so its NAT address is latched before the callee sends
  begin; endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 3; endpoint "$caller" 203.0.113.50 5556 192.0.2.10 $((pa + 1)) 3; run
}

# options_and_fragments_pass LABEL: on the IPv4 call (pa, pb), packets with IP options and
# fragmented ones of the known stream reach the callee through the relay's socket, not the program.
options_and_fragments_pass() {
  local l=$1 before_udp before_fwd
  before_udp=$(udp_in "$relay" UdpInDatagrams) before_fwd=$(xdp counter 0)
  begin; UDP_IP_OPTIONS=1 endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 5; endpoint "$callee" 198.51.100.2 6000; run
  check "$l: IP options are relayed by user space" settles "5 192.0.2.11:$pb" got "$callee" 6000
  check "…through the relay's socket, not the program" \
    is "$(( $(udp_in "$relay" UdpInDatagrams) - before_udp )) $(( $(xdp counter 0) - before_fwd ))" "5 0"
  before_udp=$(udp_in "$relay" UdpInDatagrams) before_fwd=$(xdp counter 0)
  begin; UDP_SIZE=1800 endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 3; endpoint "$callee" 198.51.100.2 6000; run
  check "$l: fragments are reassembled and relayed by user space" settles "3 192.0.2.11:$pb" got "$callee" 6000
  check "…not by the program" \
    is "$(( $(udp_in "$relay" UdpInDatagrams) - before_udp )) $(( $(xdp counter 0) - before_fwd ))" "3 0"
}

# ipv6_call_in_kernel LABEL: an IPv6 call on k6, learned in user space, then 40 RTP packets each
# way forwarded by the program (the relay's sockets see none, the callee's kernel finds every
# checksum right); sets sid pa pb.
ipv6_call_in_kernel() {
  local l=$1
  check "$l: an IPv6 call is set up" call k6 2001:db8:1::2 2001:db8:1::2 2001:db8:2::2
  begin; endpoint "$caller" 2001:db8:1::2 4000 2001:db8:a::10 "$pa" 3; run
  begin; endpoint "$callee" 2001:db8:2::2 6000 2001:db8:a::11 "$pb" 3; endpoint "$caller" 2001:db8:1::2 4000; run
  check "$l: user space relays the first packets" settles "3 2001:db8:a::10:$pa" got "$caller" 4000
  # RTCP of the v6 call too, so that both streams are latched.
  begin; endpoint "$caller" 2001:db8:1::2 4001 2001:db8:a::10 $((pa + 1)) 2; endpoint "$callee" 2001:db8:2::2 6001 2001:db8:a::11 $((pb + 1)) 2; run
  check "$l: the streams are offloaded" wait_for 5 '[ "$(offloaded k6)" = true ]'
  local before_udp before_fwd before_csum
  before_udp=$(udp_in "$relay" Udp6InDatagrams) before_fwd=$(xdp counter 0) before_csum=$(udp_in "$callee" Udp6InCsumErrors)
  begin
  endpoint "$caller" 2001:db8:1::2 4000 2001:db8:a::10 "$pa" 40
  endpoint "$callee" 2001:db8:2::2 6000 2001:db8:a::11 "$pb" 40
  run
  check "$l: the caller's RTP reaches the callee from gate B" settles "40 2001:db8:a::11:$pb" got "$callee" 6000
  check "$l: the callee's RTP reaches the caller from gate A" settles "40 2001:db8:a::10:$pa" got "$caller" 4000
  check "$l: the relay's sockets got none of it, the program 80" \
    is "$(( $(udp_in "$relay" Udp6InDatagrams) - before_udp )) $(( $(xdp counter 0) - before_fwd ))" "0 80"
  check "$l: the callee's kernel found every checksum right" is "$(( $(udp_in "$callee" Udp6InCsumErrors) - before_csum ))" 0
}

# --- auto mode: generic on veth; IPv4 in the kernel --------------------------------------------
check "the relay starts with --kernel-offload (path auto)" start_relay
check "info names the XDP path and its mode per interface" \
  is "$(json info 'd["offload"]')" "xdp (generic: rc, re)"
check "the program is attached to rc and re in generic mode" \
  is "$(xdp attached)" "rc:ipt_xdp_relay:generic re:ipt_xdp_relay:generic"
check "an IPv4 call is set up" call k 203.0.113.2 203.0.113.50 198.51.100.2
prime
traffic 20
check "user space relays the NAT'd caller first" settles "20 192.0.2.11:$pb" got "$callee" 6000
check "user space relays back to the caller's NAT address" settles "20 192.0.2.10:$pa" got "$caller" 5555
check "both sides latched: the stream is offloaded" wait_for 5 '[ "$(offloaded k)" = true ]'
check "four map elements (RTP and RTCP, both ways)" is "$(xdp streams)" 4
check "…all four in the program's fast index (no collision on two gate addresses)" is "$(xdp indexed)" 4

before_udp=$(udp_in "$relay" UdpInDatagrams) before_fwd=$(xdp counter 0)
before_csum=$(udp_in "$callee" UdpInCsumErrors)
# What the callee receives, on the wire: a packet XDP forwarded has its TTL decremented (the user
# space relay sends new packets, TTL 64) and a checksum tshark verifies.
ip netns exec "$callee" timeout 30 tshark -n -i ke -c 5 -f "udp and src host 192.0.2.11 and src port $pb" -o udp.check_checksum:TRUE \
  -T fields -e ip.ttl -e udp.srcport -e udp.checksum.status >"$work/capture" 2>"$work/capture.log" & capture=$!
wait_for 10 'grep -q "Capturing on" "$work/capture.log"' || echo "     tshark did not start"
traffic 50
check "XDP: caller RTP reaches the callee from gate B" settles "50 192.0.2.11:$pb" got "$callee" 6000
check "XDP: caller RTCP reaches the callee from gate B" settles "10 192.0.2.11:$((pb + 1))" got "$callee" 6001
check "XDP: callee RTP reaches the NAT'd caller from gate A" settles "50 192.0.2.10:$pa" got "$caller" 5555
check "XDP: callee RTCP reaches the NAT'd caller from gate A" settles "10 192.0.2.10:$((pa + 1))" got "$caller" 5556
check "the relay's UDP sockets got none of it" is "$(( $(udp_in "$relay" UdpInDatagrams) - before_udp ))" 0
check "the program counted 120 forwarded" is "$(( $(xdp counter 0) - before_fwd ))" 120
check "the callee's kernel found every checksum right" is "$(( $(udp_in "$callee" UdpInCsumErrors) - before_csum ))" 0
wait "$capture"
check "on the wire: TTL 63, from gate B's port, checksum verified good (5 packets)" \
  is "$(sort -u "$work/capture" | tr '\t' ' ')" "63 $pb 1"
check "stats count the kernel's packets (housekeeping reads the map)" \
  wait_for 5 '[ "$(json stats "d[\"counters\"][\"packets\"]")" -ge 168 ] 2>/dev/null'
check "stats name the path and count the installs" is "$(json stats 'd["offload"]["path"], d["offload"]["installs"] >= 2')" "xdp (generic: rc, re) True"

# --- malformed packets of the known stream take the normal path untouched ----------------------
options_and_fragments_pass "XDP"
# A wrong UDP checksum: sent raw; the relay host's kernel drops it (the normal path), XDP does not forward it.
cat > "$work/badsum.py" <<'PY'
import socket, struct, sys
src, sport, dst, dport, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.bind((src, 0))
payload = b"\x80\x00\x00\x01" + b"x" * 168
for _ in range(n):
    s.sendto(struct.pack("!HHHH", sport, dport, 8 + len(payload), 0x1234) + payload, (dst, 0))
PY
before_fwd=$(xdp counter 0) before_bad=$(xdp counter 1) before_csum=$(udp_in "$relay" UdpInCsumErrors)
begin; endpoint "$callee" 198.51.100.2 6000; run
ip netns exec "$caller" python3 "$work/badsum.py" 203.0.113.50 5555 192.0.2.10 "$pa" 4
check "a wrong UDP checksum: the program passes it (4 counted)" settles 4 eval 'echo $(( $(xdp counter 1) - before_bad ))'
check "…the relay host's kernel drops it as a checksum error" settles 4 eval 'echo $(( $(udp_in "$relay" UdpInCsumErrors) - before_csum ))'
check "…and nothing reaches the callee" is "$(got "$callee" 6000)" "0 -"
# Checksum left to the device (tx offload on): only the pseudo-header sum is in the packet.
ip netns exec "$caller" ethtool -K kc tx on >/dev/null
before_udp=$(udp_in "$relay" UdpInDatagrams) before_fwd=$(xdp counter 0)
begin; endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 5; endpoint "$callee" 198.51.100.2 6000; run
check "a checksum left to the device: relayed by user space" settles "5 192.0.2.11:$pb" got "$callee" 6000
check "…not by XDP" is "$(( $(udp_in "$relay" UdpInDatagrams) - before_udp )) $(( $(xdp counter 0) - before_fwd ))" "5 0"
ip netns exec "$caller" ethtool -K kc tx off >/dev/null

# --- strict source: an unannounced source is not forwarded -------------------------------------
before_fwd=$(xdp counter 0)
begin; endpoint "$caller" 203.0.113.2 7777 192.0.2.10 "$pa" 5; endpoint "$callee" 198.51.100.2 6000; run
check "a stranger's packets to the stream's port reach nobody" settles "0 -" got "$callee" 6000
check "…and XDP forwarded none of them" is "$(( $(xdp counter 0) - before_fwd ))" 0

# --- IPv6 ---------------------------------------------------------------------------------------
pa4=$pa pb4=$pb sid4=$sid   # the IPv4 call, for after the restart
ipv6_call_in_kernel "IPv6 XDP"

# --- killed relay: its program stays; the restarted relay replaces it --------------------------
old_ids=$(xdp ids)
kill -KILL "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=""
check "a killed relay leaves its program attached" is "$(xdp ids)" "$old_ids"
check "the relay restarts" start_relay
check "the restarted relay replaced the program" test "$(xdp ids)" != "$old_ids" -a "$(xdp attached)" = "rc:ipt_xdp_relay:generic re:ipt_xdp_relay:generic"
check "the journaled calls are back" is "$(json list 'len(d["sessions"])')" 2
pa=$pa4 pb=$pb4
traffic 10
check "after the restart the IPv4 call flows (user space first)" settles "10 192.0.2.11:$pb" got "$callee" 6000
check "…and is offloaded again" wait_for 5 '[ "$(offloaded k)" = true ]'
before_fwd=$(xdp counter 0)
traffic 10
check "…in the kernel" settles "10 192.0.2.11:$pb" got "$callee" 6000
check "…counted by the new program" is "$(( $(xdp counter 0) - before_fwd ))" 24

# --- re-INVITE, then delete: the kernel follows the new target, then forgets the call ----------
# moved N: the callee now speaks from 6002/6003; 6000 only listens (it must hear nothing more).
moved() {
  local n=$1 m=$(( $1 / 5 ))
  begin
  endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" "$n"
  endpoint "$caller" 203.0.113.50 5556 192.0.2.10 $((pa + 1)) "$m"
  endpoint "$callee" 198.51.100.2 6000
  endpoint "$callee" 198.51.100.2 6002 192.0.2.11 "$pb" "$n"
  endpoint "$callee" 198.51.100.2 6003 192.0.2.11 $((pb + 1)) "$m"
  run
}
check "a re-INVITE moves the callee to ports 6002/6003" \
  is "$(ctl update k "$sid4" "b.rtp=198.51.100.2:6002" "b.rtcp=198.51.100.2:6003" | cut -d' ' -f1)" ok
moved 10
check "the caller's RTP reaches the callee's new port" settles "10 192.0.2.11:$pb" got "$callee" 6002
check "…and nothing reaches the old one" is "$(got "$callee" 6000)" "0 -"
check "the moved streams are latched and offloaded again" wait_for 5 '[ "$(offloaded k)" = true ]'
check "…four IPv4 directions in the map, the old ones gone" is "$(xdp streams 4) $(xdp indexed 4)" "4 4"
before_fwd=$(xdp counter 0)
moved 10
check "…in the kernel, to the new port" settles "10 192.0.2.11:$pb" got "$callee" 6002
check "…the callee back to the caller" settles "10 192.0.2.10:$pa" got "$caller" 5555
check "…counted by the program" is "$(( $(xdp counter 0) - before_fwd ))" 24
check "…and still nothing on the old port" is "$(got "$callee" 6000)" "0 -"
check "delete ends the call" is "$(ctl delete k "$sid4" | cut -d' ' -f1)" ok
check "…and takes its directions out of the program's maps (the IPv6 call's four stay)" is "$(xdp streams 4) $(xdp streams 6)" "0 4"
before_fwd=$(xdp counter 0) before_in=$(udp_in "$relay" UdpInDatagrams)
moved 10
# The ended session's sockets stay bound for the next call on its ports (--keep-sockets): its
# packets now go up to them, where no request described a client, and are dropped.
check "after delete the call's packets go up to the relay's kept sockets (UdpInDatagrams), not through XDP" \
  settles 24 eval 'echo $(( $(udp_in "$relay" UdpInDatagrams) - before_in ))'
check "…and reach nobody" is "$(got "$callee" 6002) $(got "$callee" 6000)" "0 - 0 -"
check "…and XDP forwarded none" is "$(( $(xdp counter 0) - before_fwd ))" 0

# --- SIGTERM detaches ------------------------------------------------------------------------
kill -TERM "$relay_pid"; wait "$relay_pid"; rc=$?; relay_pid=""
check "SIGTERM stops the relay cleanly" is "$rc" 0
check "…and detaches its program" is "$(xdp attached)" "-"

# --- tc mode: the same path as a tc ingress classifier -------------------------------------------
rm -f "$work/journal"*
# An operator's own classifier on rc, after ours: it must see every packet ours hands on, and none
# that ours forwards.
cat > "$work/operator.bpf.c" <<'C'
// Counts the UDP packets to gate A that reach it, and hands every packet on.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } op_seen SEC(".maps");
SEC("tc") int operator_count(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data; struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
    __u32 zero = 0; __u64 *n = bpf_map_lookup_elem(&op_seen, &zero);
    if (n && ip->protocol == 17 && ip->daddr == bpf_htonl(0xc000020a)) __sync_fetch_and_add(n, 1);
    return TC_ACT_OK;
}
char LICENSE[] SEC("license") = "GPL";
C
clang -O2 -g -target bpf -I "/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" -c "$work/operator.bpf.c" -o "$work/operator.o"
ip netns exec "$relay" tc qdisc add dev rc clsact
ip netns exec "$relay" tc filter add dev rc ingress prio 1000 handle 1 bpf da obj "$work/operator.o" sec tc
seen() { xdp seen; }
check "tc: the relay starts (--xdp-mode tc)" start_relay --xdp-mode tc
check "tc: info names the tc path per interface" is "$(json info 'd["offload"]')" "xdp (tc: rc, re)"
check "tc: the program is an ingress filter on rc and re (beside the operator's), no XDP program" \
  is "$(xdp attached)" "rc:operator_count:tc rc:ipt_tc_relay:tc re:ipt_tc_relay:tc"
check "tc: the operator's filter is still there" test -n "$(seen)"
check "tc: an IPv4 call" call k 203.0.113.2 203.0.113.50 198.51.100.2
prime; traffic 10
check "tc: offloaded" wait_for 5 '[ "$(offloaded k)" = true ]'
before_udp=$(udp_in "$relay" UdpInDatagrams) before_fwd=$(xdp counter 0)
before_csum=$(udp_in "$callee" UdpInCsumErrors) before_seen=$(seen)
traffic 50
check "tc: the caller's RTP and RTCP reach the callee from gate B" settles "50 192.0.2.11:$pb" got "$callee" 6000
check "tc: the callee's RTP reaches the NAT'd caller from gate A" settles "50 192.0.2.10:$pa" got "$caller" 5555
check "tc: the relay's sockets got none of it, the program forwarded 120" \
  is "$(( $(udp_in "$relay" UdpInDatagrams) - before_udp )) $(( $(xdp counter 0) - before_fwd ))" "0 120"
check "tc: the callee's kernel found every checksum right" is "$(( $(udp_in "$callee" UdpInCsumErrors) - before_csum ))" 0
check "tc: the operator's filter saw none of the forwarded packets" is "$(( $(seen) - before_seen ))" 0
ip netns exec "$caller" ethtool -K kc tx on >/dev/null
before_udp=$(udp_in "$relay" UdpInDatagrams) before_fwd=$(xdp counter 0) before_seen=$(seen)
begin; endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" 5; endpoint "$callee" 198.51.100.2 6000; run
ip netns exec "$caller" ethtool -K kc tx off >/dev/null
check "tc: a checksum left to the device is relayed by user space" settles "5 192.0.2.11:$pb" got "$callee" 6000
check "…not by the program" is "$(( $(udp_in "$relay" UdpInDatagrams) - before_udp )) $(( $(xdp counter 0) - before_fwd ))" "5 0"
check "…and the operator's filter saw those 5" is "$(( $(seen) - before_seen ))" 5
options_and_fragments_pass "tc"
ipv6_call_in_kernel "tc IPv6"
old_ids=$(xdp ids)
kill -KILL "$relay_pid"; wait "$relay_pid" 2>/dev/null; relay_pid=""
check "tc: a killed relay leaves its filters" is "$(xdp ids)" "$old_ids"
check "tc: a relay restarted in generic mode" start_relay --xdp-mode generic
check "…takes the old filters off and attaches XDP" is "$(xdp attached)" "rc:operator_count:tc rc:ipt_xdp_relay:generic re:ipt_xdp_relay:generic"
stop_relay
check "tc: and one restarted in tc mode" start_relay --xdp-mode tc
check "…is on tc again" is "$(xdp attached)" "rc:operator_count:tc rc:ipt_tc_relay:tc re:ipt_tc_relay:tc"
kill -TERM "$relay_pid"; wait "$relay_pid"; rc=$?; relay_pid=""
check "tc: SIGTERM stops the relay cleanly and takes its filters off, leaving the operator's" \
  is "$rc $(xdp attached)" "0 rc:operator_count:tc"
ip netns exec "$relay" tc qdisc del dev rc clsact

# --- native mode on veth (NAPI on the peers: GRO on) -------------------------------------------
rm -f "$work/journal"*
ip netns exec "$caller" ethtool -K kc gro on >/dev/null
ip netns exec "$callee" ethtool -K ke gro on >/dev/null
check "native mode: the relay starts" start_relay --xdp-mode native
check "native mode: attached in the driver" is "$(xdp attached)" "rc:ipt_xdp_relay:driver re:ipt_xdp_relay:driver"
check "native mode: a call" call k 203.0.113.2 203.0.113.50 198.51.100.2
prime; traffic 10
check "native mode: offloaded" wait_for 5 '[ "$(offloaded k)" = true ]'
before_fwd=$(xdp counter 0) before_csum=$(udp_in "$callee" UdpInCsumErrors)
traffic 50
check "native mode: the caller's RTP reaches the callee" settles "50 192.0.2.11:$pb" got "$callee" 6000
check "native mode: the callee's RTP reaches the caller" settles "50 192.0.2.10:$pa" got "$caller" 5555
check "native mode: forwarded by XDP (120)" is "$(( $(xdp counter 0) - before_fwd ))" 120
# Native XDP hands the callee an skb without checksum state: its kernel verifies every one.
check "native mode: the callee's kernel found every checksum right" is "$(( $(udp_in "$callee" UdpInCsumErrors) - before_csum ))" 0
stop_relay

# --- map full: the stream stays in user space, stats count it ----------------------------------
rm -f "$work/journal"*
check "a relay with room for one stream starts" start_relay --xdp-streams 1 --metrics 127.0.0.1:9752
check "a call on it" call k 203.0.113.2 203.0.113.50 198.51.100.2
prime; traffic 10
check "one stream goes to the kernel, the other is refused as map full" \
  wait_for 5 '[ "$(json stats "d[\"offload\"][\"table-full\"] >= 1 and d[\"offload\"][\"installs\"] == 1")" = True ]'
traffic 10
check "the refused stream still flows (user space)" settles "2 192.0.2.11:$((pb + 1))" got "$callee" 6001
check "…as does the one in the kernel" settles "10 192.0.2.11:$pb" got "$callee" 6000
check "the refusal is logged" grep -q "map full" "$work/relay.log"
scrape() { ip netns exec "$relay" python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9752/metrics", timeout=3).read().decode())'; }
# Read whole before grep: `grep -q` leaves at the first match, and the writer's broken pipe fails
# the pipeline (pipefail) when the page is not yet written out.
metrics() { scrape >"$work/metrics" && grep -q "$1" "$work/metrics"; }
check "…and in the metrics" metrics '^iptrtpproxy_offload_streams_total{result="table-full"} [1-9]'
check "…next to the installed one" metrics '^iptrtpproxy_offload_streams_total{result="installed"} 1$'
stop_relay

# --- a program that cannot load: one warning, then nftables --------------------------------------
rm -f "$work/journal"*
RELAY_BPF_DIR="$work/nothing"
check "a relay whose XDP object is missing starts" start_relay
unset RELAY_BPF_DIR
check "…on nftables" is "$(json info 'd["offload"]')" "nftables"
check "…saying why in one warning line" is "$(grep -c 'XDP unavailable' "$work/relay.log")" 1
check "…and offloads with nftables" call k 203.0.113.2 203.0.113.50 198.51.100.2
prime; traffic 10
check "…a call" wait_for 5 '[ "$(offloaded k)" = true ]'
stop_relay
ip netns exec "$relay" nft delete table netdev iptrtpproxy 2>/dev/null
# The kernel's FIB answers XDP only where forwarding is on; the nftables path needs none.
rm -f "$work/journal"*
ip netns exec "$relay" sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0
check "with forwarding off everywhere the relay starts" start_relay
check "…on nftables" is "$(json info 'd["offload"]')" "nftables"
check "…saying why" grep -q "forwarding is off on rc" "$work/relay.log"
stop_relay
ip netns exec "$relay" nft delete table netdev iptrtpproxy 2>/dev/null
ip netns exec "$relay" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec "$relay" env IPTRTPPROXY_BPF_DIR="$work/nothing" timeout 20 "$daemon" --config "$work/iptrtpproxy.cfg" \
  --control "unix:$work/refused.sock" --kernel-offload --kernel-offload-path xdp 2>>"$work/relay.log"
check "--kernel-offload-path xdp without the object refuses to start (exit 1)" is "$?" 1

# --- a foreign XDP program is left alone ---------------------------------------------------------
cat > "$work/pass.bpf.c" <<'C'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int foreign_pass(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
C
clang -O2 -target bpf -I "/usr/include/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" -c "$work/pass.bpf.c" -o "$work/pass.o"
ip -n "$relay" link set dev rc xdpgeneric obj "$work/pass.o" sec xdp || echo "     could not attach the foreign program: $(xdp attached)"
rm -f "$work/journal"*
check "with another program on rc, the relay starts (generic mode)" start_relay --xdp-mode generic
check "…leaves that program on rc and attaches to re" is "$(xdp attached)" "rc:foreign_pass:generic re:ipt_xdp_relay:generic"
check "…saying so" grep -q "rc carries another XDP program (foreign_pass" "$work/relay.log"
check "…and info names only re" is "$(json info 'd["offload"]')" "xdp (generic: re)"
stop_relay
check "…and the foreign program is still there after the relay stopped" is "$(xdp attached)" "rc:foreign_pass:generic"
# tc runs after XDP, so the foreign program does not rule it out: what it passes reaches ours.
check "in auto mode the relay starts beside it" start_relay
check "…with tc behind the foreign program on rc, generic XDP on re" \
  is "$(xdp attached)" "rc:foreign_pass:generic rc:ipt_tc_relay:tc re:ipt_xdp_relay:generic"
check "…and info names both" is "$(json info 'd["offload"]')" "xdp (generic: re; tc: rc)"
check "…saying why rc is on tc" grep -q "XDP: rc in tc mode (generic: rc carries another XDP program (foreign_pass" "$work/relay.log"
stop_relay

[ "$fails" -eq 0 ] || { echo "--- relay log"; tail -30 "$work/relay.log"; }
echo "XDP offload with the relay: $fails failure(s)"
[ "$fails" -eq 0 ]
