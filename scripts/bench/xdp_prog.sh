#!/usr/bin/env bash
# The XDP program alone (issue 15): its run time per packet from bpf_stats, on packets of latched
# streams (IPv4 and IPv6, 172-byte RTP payload), run by the kernel with BPF_PROG_TEST_RUN in a
# network namespace this script creates and always removes (two veths, static neighbours,
# forwarding on, so the program's route lookup answers as on a relay). No traffic leaves it: a
# test run's redirect is not carried out. Next to it, a program that does nothing: bpf_stats'
# own cost (two clock reads around every run), which the kernel bench's "XDP prog ns/pkt" column
# includes; "program" is the difference. Runs by kernel.sh after its rounds; alone:
#   bash scripts/bench/xdp_prog.sh        (root; needs build/bpf from make build, clang, bpftool)
# Knobs: XDP_PROG_ROUNDS=5 (interleaved), XDP_PROG_RUNS=25000 (per program and round),
# XDP_PROG_OBJECT=build/bpf/iptrtpproxy_xdp.o.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${XDP_PROG_ROUNDS:-5}
RUNS=${XDP_PROG_RUNS:-25000}
OBJECT=$(realpath "${XDP_PROG_OBJECT:-build/bpf/iptrtpproxy_xdp.o}")
if [ "$(id -u)" -ne 0 ]; then echo "xdp_prog: needs root; skipped"; exit 0; fi
[ -f "$OBJECT" ] || { echo "xdp_prog: $OBJECT missing (make build)"; exit 1; }
CLANG=$(command -v clang-14 || command -v clang || true)
[ -n "$CLANG" ] && command -v bpftool >/dev/null || { echo "xdp_prog: needs clang and bpftool (make deps)"; exit 1; }

ns=iptxp$$
work=$(mktemp -d /tmp/iptxp-XXXXXX)   # no dot: libbpf turns dots of pin paths into underscores
fs=$work/bpffs
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  sysctl -qw kernel.bpf_stats_enabled="$stats_before" || true
  umount "$fs" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
"$CLANG" -O2 -target bpf -I "/usr/include/$MULTIARCH" -c scripts/bench/xdp_empty.bpf.c -o "$work/empty.o"
cc -O2 -o "$work/run" scripts/bench/xdp_prog_run.c -lbpf

ip netns add "$ns"
ip -n "$ns" link add xpa type veth peer name xpb
ip -n "$ns" link set lo up; ip -n "$ns" link set xpa up; ip -n "$ns" link set xpb up
ip -n "$ns" addr add 10.1.0.1/24 dev xpa; ip -n "$ns" addr add 10.2.0.1/24 dev xpb
ip -n "$ns" addr add 2001:db8:1::1/64 dev xpa nodad; ip -n "$ns" addr add 2001:db8:2::1/64 dev xpb nodad
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
ip -n "$ns" neigh add 10.1.0.2 lladdr 02:00:00:00:00:08 dev xpa
ip -n "$ns" neigh add 10.2.0.2 lladdr 02:00:00:00:00:09 dev xpb
ip -n "$ns" neigh add 2001:db8:1::2 lladdr 02:00:00:00:00:08 dev xpa
ip -n "$ns" neigh add 2001:db8:2::2 lladdr 02:00:00:00:00:09 dev xpb
ifindex=$(ip netns exec "$ns" cat /sys/class/net/xpa/ifindex)

# Packets, test-run contexts (arriving on xpa) and map entries. Stream P: client 1 → client 2,
# stream Q: client 2 → client 1; each direction's target rewrites a packet of one into the other,
# so the kernel's copy is forwarded on every run.
python3 - "$work" "$ifindex" <<'PY'
import socket, struct, sys
work, ifindex = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
payload = bytes((i * 7) & 0xff for i in range(172))
def position(address, port):
    # bpf/iptrtpproxy_xdp.bpf.c index_position: the gate address's last 4 bytes and the port as
    # this (little-endian) host loads them.
    word = struct.unpack("<I", address[-4:])[0]
    return ((((word * 0x9E3779B1) & 0xffffffff) >> 15) ^ struct.unpack("<H", struct.pack("!H", port))[0]) & 0x1ffff
# "4" and "6": streams in the fast index (slots), as the relay installs them; "4h": a stream
# in the hash map only, as one whose index position two other streams hold.
slot = {"4": 0, "6": 0}
for fam, a, b, p1, p2 in (("4", "10.1.0.2", "10.2.0.2", 1000, 2000), ("6", "2001:db8:1::2", "2001:db8:2::2", 1000, 2000),
                          ("4h", "10.1.0.2", "10.2.0.2", 1001, 2001)):
    af = socket.AF_INET if fam[0] == "4" else socket.AF_INET6
    A, B = socket.inet_pton(af, a), socket.inet_pton(af, b)
    udp = struct.pack("!HHHH", p1, p2, 8 + len(payload), 0) + payload
    pseudo = A + B + (struct.pack("!BBH", 0, 17, len(udp)) if fam == "4" else struct.pack("!IxxxB", len(udp), 17))
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xffff) + udp[8:]
    if fam[0] == "4":
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 255, 17, 0, A, B)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00"
    else:
        ip = struct.pack("!IHBB16s16s", 0x60000000, len(udp), 17, 255, A, B)
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd"
    packet = eth + ip + udp
    open(f"{work}/packet{fam}", "wb").write(packet)
    open(f"{work}/ctx{fam}", "wb").write(struct.pack("<IIIIII", 0, len(packet), 0, ifindex, 0, 0))
    # The tc program's context (struct __sk_buff up to ifindex): arriving on xpa as well.
    open(f"{work}/ctxtc{fam}", "wb").write(bytes(36) + struct.pack("<II", ifindex, ifindex))
    def key(s, sp, d, dp): return s + d + struct.pack("!HH", sp, dp)
    def target(s, sp, d, dp): return s.ljust(16, b"\0") + d.ljust(16, b"\0") + struct.pack("!HH", sp, dp) + bytes(44)
    def words(b): return " ".join(map(str, b))
    with open(f"{work}/entries{fam}", "w") as f:
        for k, v, gate, gate_port in ((key(A, p1, B, p2), target(B, p2, A, p1), B, p2), (key(B, p2, A, p1), target(A, p1, B, p2), A, p1)):
            if fam == "4h":
                f.write(f"ipt_streams4|{words(k)}|{words(v)}\n")
            else:
                pad = bytes(4)
                f.write(f"ipt_slots{fam}|{words(struct.pack('<I', slot[fam]))}|{words(k + pad + v)}\n")
                f.write(f"ipt_index{fam}|{words(struct.pack('<I', position(gate, gate_port)))}|{words(struct.pack('<Q', slot[fam] + 1))}\n")
                slot[fam] += 1
PY

# `ip netns exec` remounts /sys (hiding /sys/fs/bpf): the pins live in a bpffs of our own, mounted
# here so that every `ip netns exec` below sees it.
in_ns() { ip netns exec "$ns" "$@"; }
mkdir -p "$fs"
mount -t bpf bpf "$fs"
mkdir -p "$fs/maps"
# Every program of the object (its tc one too), each with its own section's type; the XDP one is run.
in_ns bpftool prog loadall "$OBJECT" "$fs/progs" pinmaps "$fs/maps"
in_ns bpftool prog pin pinned "$fs/progs/ipt_xdp_relay" "$fs/relay"
in_ns bpftool prog pin pinned "$fs/progs/ipt_tc_relay" "$fs/tc"
in_ns bpftool prog load "$work/empty.o" "$fs/empty" type xdp
in_ns bpftool map update pinned "$fs/maps/ipt_interfaces" key $((ifindex & 255)) $((ifindex >> 8 & 255)) 0 0 value 1 0 0 0
for fam in 4 6 4h; do
  while IFS='|' read -r map k v; do
    # shellcheck disable=SC2086
    in_ns bpftool map update pinned "$fs/maps/$map" key $k value $v
  done <"$work/entries$fam"
done
sysctl -qw kernel.bpf_stats_enabled=1

: >"$work/results"
for round in $(seq "$ROUNDS"); do
  for what in empty:4 relay:4 relay:6 relay:4h tc:4 tc:6; do
    prog=${what%%:*} fam=${what##*:} ctx=ctx
    [ "$prog" = tc ] && ctx=ctxtc
    read -r ns_per_run runs verdict < <(in_ns "$work/run" "$fs/$prog" "$work/packet$fam" "$work/$ctx$fam" "$RUNS")
    echo "$prog $fam $ns_per_run $runs $verdict" >>"$work/results"
  done
done
# Every relay run must have forwarded (XDP_REDIRECT = 4, TC_ACT_REDIRECT = 7), or the figure is of another path.
forwarded=$(in_ns bpftool map dump pinned "$fs/maps/ipt_counters" -j | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    k = e.get("formatted", e)
    if k["key"] == 0: print(sum(v["value"] for v in k["values"]))')
python3 - "$work/results" "$forwarded" "$ROUNDS" "$RUNS" <<'PY'
import statistics, sys
rows, forwarded, rounds, runs = {}, int(sys.argv[2]), sys.argv[3], sys.argv[4]
for line in open(sys.argv[1]):
    prog, fam, ns, n, verdict = line.split()
    rows.setdefault((prog, fam), []).append((float(ns), int(n), int(verdict)))
empty = statistics.median(x[0] for x in rows[("empty", "4")])
print(f"XDP program (and its tc twin) alone (BPF_PROG_TEST_RUN, bpf_stats on; medians of {rounds} interleaved rounds of {runs} runs):")
print()
print("| program, packet | ns/pkt (bpf_stats) | ns/pkt of the program (minus the empty one) |")
print("|---|---:|---:|")
print(f"| empty program (what bpf_stats itself costs), IPv4 | {empty:.1f} | - |")
ok = True
for prog, name, redirect, fam, how in (
        ("relay", "ipt_xdp_relay", 4, "4", "in the fast index"), ("relay", "ipt_xdp_relay", 4, "6", "in the fast index"),
        ("relay", "ipt_xdp_relay", 4, "4h", "in the hash map (as when two others hold its index position)"),
        ("tc", "ipt_tc_relay (tc)", 7, "4", "in the fast index"), ("tc", "ipt_tc_relay (tc)", 7, "6", "in the fast index")):
    v = rows[(prog, fam)]
    ns = statistics.median(x[0] for x in v)
    ok &= all(x[2] == redirect for x in v)
    print(f"| {name}, IPv{fam[0]} UDP with 172-byte RTP, stream {how}, forwarded | {ns:.1f} | {ns - empty:.1f} |")
total = sum(x[1] for k, v in rows.items() if k[0] in ("relay", "tc") for x in v)
print()
print(f"forwarded by the program: {forwarded} of {total} runs" + ("" if ok and forwarded == total else " (NOT every run: the figure is not the forwarding path)"))
sys.exit(0 if ok and forwarded == total else 1)
PY
