// SPDX-License-Identifier: GPL-2.0
// iptrtpproxy's XDP fast path (issue 15): forwards the latched streams of the relay in the kernel,
// at the driver (native) or right after it (generic), before any socket or netfilter hook. The same
// path is built a second time as a tc ingress classifier (`ipt_tc_relay`, `--xdp-mode tc`): on the
// skb, before the IP layer, without generic XDP's copy of every packet whose buffer has less than
// 256 bytes of headroom (every packet a local socket sent over a veth). The path itself is in
// iptrtpproxy_relay_path.h, included once per hook below.
//
// The relay fills the program's maps exactly where the nftables offload would be filled: once
// both clients of a stream are latched, one element per direction, keyed by what arrives (the
// latched client's address and port, the relay's gate address and port), in the fast index where
// it can and else in `ipt_streams4` / `ipt_streams6` (see "The fast index" below). A packet
// whose 4-tuple is there leaves from the other gate to the other client: addresses, ports,
// TTL/hop limit and checksums rewritten, MAC addresses from the kernel's FIB and neighbour tables,
// redirected to the interface the route names. Everything else — another source (strict source stays), a packet
// that is short or followed by padding, fragmented, carries IP options or extension headers, has
// a wrong IP or UDP checksum, is too big, or whose next hop is not resolved yet — is passed untouched to the
// normal path (the relay's sockets, or nftables where that fallback is loaded).
//
// Checksums: the UDP checksum is verified before anything is changed, then updated incrementally
// (RFC 1624). A packet from a local sender whose checksum is left to the device (veth or virtio
// with tx offload: CHECKSUM_PARTIAL, the field holds only the pseudo-header sum) fails the check
// and so takes the normal path, which handles it; a packet from a network card carries a full
// checksum and is forwarded here. XDP cannot see the skb's checksum state, so this is the only
// way to never send a wrong checksum.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/// The arrival 4-tuple of a stream's direction, laid out as the packet carries it: the IPv4
/// header's source and destination addresses followed by the UDP header's ports (the bytes at
/// offset 12 of an IPv4 header without options), so the program looks the packet's own bytes up
/// without copying a key (a 12-byte key also hashes in a third of the time of the 40-byte one of
/// the first version). Network order throughout. Mirrors `XDPStreamEntry.key`
/// (Sources/KernelOffload/XDPStreamEntry.swift).
struct ipt_xdp_key4 {
    __be32 source;       // the latched client
    __be32 dest;         // the arrival gate
    __be16 source_port;  // the latched client's port
    __be16 dest_port;    // the relay's port on the arrival gate
};

/// The same for IPv6: the header's two addresses (offset 8) and the UDP ports that follow them
/// when UDP is the next header.
struct ipt_xdp_key6 {
    __u8 source[16];
    __u8 dest[16];
    __be16 source_port;
    __be16 dest_port;
};

/// Where a direction goes, and what the kernel forwarded for it since it was installed. Mirrors
/// `XDPStreamTarget`. The route fields are the program's cache of the FIB answer.
struct ipt_xdp_target {
    __u8 source[16];     // the other gate (the packet's new source)
    __u8 dest[16];       // the other client (the packet's new destination)
    __be16 source_port;
    __be16 dest_port;
    __u32 pad;
    __u64 packets;       // forwarded here
    __u64 bytes;         // UDP payload bytes forwarded here
    // Route cache, written by this program only: the egress interface and MAC addresses, valid
    // for packets arriving on `route_ingress`; looked up again every `ROUTE_REFRESH` packets.
    __u32 route_ifindex;
    __u32 route_ingress;
    __u8 route_source_mac[6];
    __u8 route_dest_mac[6];
    __u32 route_valid;
};

/// One slot per reason a packet of a known stream was passed instead of forwarded, plus the
/// forwarded ones (per CPU: no contention). Read by `XDPStreamOffload.programCounters`.
enum ipt_xdp_counter {
    IPT_XDP_FORWARDED = 0,
    IPT_XDP_BAD_CHECKSUM = 1,   // IP or UDP checksum wrong (or left to the device)
    IPT_XDP_NO_ROUTE = 2,       // no route, next hop not resolved, MTU, or egress not redirectable
    IPT_XDP_MALFORMED = 3,      // lengths that do not agree with each other or with the frame's
    IPT_XDP_COUNTERS = 4,
};

/// Interfaces the relay attached the program to, with its mode: 1 generic, 2 native, 3 tc. A
/// packet that arrived on a native interface may only be redirected to another native one (a
/// driver's redirect needs the target's ndo_xdp_xmit); from a generic or tc one, to any interface.
#define IPT_XDP_GENERIC 1
#define IPT_XDP_NATIVE 2
#define IPT_XDP_TC 3

/// The FIB answer is looked up again every this many packets of a direction, so a changed
/// neighbour (MAC) or route is followed within a few seconds of RTP.
#define ROUTE_REFRESH 256
/// Longest UDP datagram checked and forwarded here (Ethernet MTU); longer ones take the normal path.
#define MAX_UDP_LENGTH 1480

/// The latched directions, one map per family (each sized by the loader: --xdp-streams × 2).
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 131072);
    __type(key, struct ipt_xdp_key4);
    __type(value, struct ipt_xdp_target);
} ipt_streams4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 131072);
    __type(key, struct ipt_xdp_key6);
    __type(value, struct ipt_xdp_target);
} ipt_streams6 SEC(".maps");

/// The fast index. A hash map lookup costs about 40 ns of this program's time on the bench's VM,
/// an array lookup a few (the verifier inlines it). So where it can, the relay gives a direction
/// a slot in `ipt_slots4`/`ipt_slots6` (its key and target) and writes the slot's number plus one
/// into `ipt_index4`/`ipt_index6` at the position `index_position` computes from the gate's
/// address and port. A position holds two slot numbers (the array's elements are 8 bytes
/// whatever their type), so two directions whose positions meet are both indexed. The program
/// compares each slot's key with the packet's 4-tuple and looks the hash map up only when neither
/// matches: a direction whose position two others hold lives in the hash map, as does one that
/// found no free slot.
///
/// The relay writes these arrays through shared memory (BPF_F_MMAPABLE) in an order in which a
/// packet never sees a half-written slot: the whole slot first, its number last with one 64-bit
/// store of the position's pair; a slot taken out of the index is not written again before a grace period has passed
/// (Sources/KernelOffload/XDPFastPath.swift, which mirrors this layout and `index_position`).
#define IPT_XDP_INDEX_BITS 17
#define IPT_XDP_INDEX_SIZE (1u << IPT_XDP_INDEX_BITS)

struct ipt_xdp_slot4 {
    struct ipt_xdp_key4 key;
    __u32 pad;
    struct ipt_xdp_target target;
};

struct ipt_xdp_slot6 {
    struct ipt_xdp_key6 key;
    __u32 pad;
    struct ipt_xdp_target target;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, IPT_XDP_INDEX_SIZE);
    __type(key, __u32);
    __type(value, __u64);   // two slot numbers + 1, the low half first; 0: none
} ipt_index4 SEC(".maps"), ipt_index6 SEC(".maps");

/// The slots (each sized by the loader: XDPFastPath.slotCounts).
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct ipt_xdp_slot4);
} ipt_slots4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, struct ipt_xdp_slot6);
} ipt_slots6 SEC(".maps");

/// A direction's position in the index: the gate's port (as the packet carries it, network
/// order) in the low 16 bits, XORed with 17 bits of the gate's address (IPv4: all of it; IPv6:
/// its last four bytes, as loaded on this host) spread by a multiplicative hash. The ports of one
/// gate address never share a position; two addresses' ports share one only by chance.
static __always_inline __u32 index_position(__u32 address_word, __u16 port) {
    return (((address_word * 0x9E3779B1u) >> (32 - IPT_XDP_INDEX_BITS)) ^ port) & (IPT_XDP_INDEX_SIZE - 1);
}

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);    // ifindex
    __type(value, __u32);  // IPT_XDP_GENERIC or IPT_XDP_NATIVE
} ipt_interfaces SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, IPT_XDP_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} ipt_counters SEC(".maps");

static __always_inline int count(__u32 which, int verdict) {
    __u64 *n = bpf_map_lookup_elem(&ipt_counters, &which);
    if (n) *n += 1;
    return verdict;
}

/// Folds a 64-bit one's complement sum of 32-bit words into 16 bits.
static __always_inline __u16 fold(__u64 sum) {
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)sum;
}

/// Adds to a one's complement sum the change of one 16-bit word (RFC 1624, eqn. 3).
static __always_inline __u64 replace16(__u64 sum, __u16 old, __u16 new) {
    return sum + (__u16)~old + new;
}

/// Same for `words` 16-bit words at `old`/`new`.
static __always_inline __u64 replace_words(__u64 sum, const __u16 *old, const __u16 *new, int words) {
#pragma unroll
    for (int i = 0; i < 8; i++)
        if (i < words) sum = replace16(sum, old[i], new[i]);
    return sum;
}

static __always_inline int forward(struct ethhdr *eth, struct ipt_xdp_target *target, __u32 egress,
                                   __u32 payload) {
    __builtin_memcpy(eth->h_dest, target->route_dest_mac, 6);
    __builtin_memcpy(eth->h_source, target->route_source_mac, 6);
    __sync_fetch_and_add(&target->packets, 1);
    __sync_fetch_and_add(&target->bytes, payload);
    count(IPT_XDP_FORWARDED, 0);
    return bpf_redirect(egress, 0);
}

/// The pair of slot numbers `index` (ipt_index4 or ipt_index6) holds at `position`, read in one
/// load: the relay may store another pair there at any time.
static __always_inline __u64 indexed_slots(void *index, __u32 position) {
    __u64 *pair = bpf_map_lookup_elem(index, &position);
    return pair ? *(volatile __u64 *)pair : 0;
}

/// The IPv4 slot numbered `number` (plus one; 0: none) when its key is the packet's 4-tuple.
static __always_inline struct ipt_xdp_target *slot4(__u32 number, struct iphdr *ip, struct udphdr *udp) {
    if (!number) return NULL;
    number -= 1;
    struct ipt_xdp_slot4 *slot = bpf_map_lookup_elem(&ipt_slots4, &number);
    if (slot && slot->key.source == ip->saddr && slot->key.dest == ip->daddr &&
        *(__u32 *)&slot->key.source_port == *(__u32 *)&udp->source)
        return &slot->target;
    return NULL;
}

/// The same for IPv6 (the key's 36 bytes compared as four 64-bit words and one 32-bit one).
static __always_inline struct ipt_xdp_target *slot6(__u32 number, struct ipv6hdr *ip, struct udphdr *udp) {
    if (!number) return NULL;
    number -= 1;
    struct ipt_xdp_slot6 *slot = bpf_map_lookup_elem(&ipt_slots6, &number);
    if (!slot) return NULL;
    __u64 *want = (__u64 *)&slot->key, *have = (__u64 *)&ip->saddr;
    __u64 differ = (want[0] ^ have[0]) | (want[1] ^ have[1]) | (want[2] ^ have[2]) | (want[3] ^ have[3]);
    differ |= *(__u32 *)&slot->key.source_port ^ *(__u32 *)&udp->source;
    return differ ? NULL : &slot->target;
}

/// The direction of an IPv4 packet: its slot when the index holds it, else the hash map's element.
static __always_inline struct ipt_xdp_target *find4(struct iphdr *ip, struct udphdr *udp) {
    __u64 pair = indexed_slots(&ipt_index4, index_position(ip->daddr, udp->dest));
    struct ipt_xdp_target *target = slot4((__u32)pair, ip, udp);
    if (!target) target = slot4((__u32)(pair >> 32), ip, udp);
    // The key is the packet's own bytes: addresses, then ports (struct ipt_xdp_key4).
    return target ? target : bpf_map_lookup_elem(&ipt_streams4, &ip->saddr);
}

/// The same for IPv6.
static __always_inline struct ipt_xdp_target *find6(struct ipv6hdr *ip, struct udphdr *udp) {
    __u64 pair = indexed_slots(&ipt_index6, index_position(ip->daddr.in6_u.u6_addr32[3], udp->dest));
    struct ipt_xdp_target *target = slot6((__u32)pair, ip, udp);
    if (!target) target = slot6((__u32)(pair >> 32), ip, udp);
    return target ? target : bpf_map_lookup_elem(&ipt_streams6, &ip->saddr);
}

/// The sum of `n` 32-bit words at `words`, for the checksum fix-up of the tc path.
static __always_inline __u64 sum_words(const __u32 *words, int n) {
    __u64 sum = 0;
#pragma unroll
    for (int i = 0; i < 12; i++)
        if (i < n) sum += words[i];
    return sum;
}

// ---- XDP ----------------------------------------------------------------------------------------
#define IPT_CTX struct xdp_md
#define IPT_NAME(x) ipt_xdp_##x
#define IPT_PASS XDP_PASS
#define IPT_CSUM_BEFORE(v, words, n)
#define IPT_CSUM_AFTER(ctx, v, words, n)
#include "iptrtpproxy_relay_path.h"
#undef IPT_CTX
#undef IPT_NAME
#undef IPT_PASS
#undef IPT_CSUM_BEFORE
#undef IPT_CSUM_AFTER

SEC("xdp")
int ipt_xdp_relay(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return XDP_PASS;
    // Untagged Ethernet only: VLAN-tagged frames take the normal path.
    if (eth->h_proto == bpf_htons(ETH_P_IP)) return ipt_xdp_relay4(ctx, eth, end);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) return ipt_xdp_relay6(ctx, eth, end);
    return XDP_PASS;
}

// ---- tc ingress ---------------------------------------------------------------------------------
// TC_ACT_UNSPEC, not TC_ACT_OK, hands a packet on: the next classifier on the interface (an
// operator's own) still sees it, as if this one were not there.
#define IPT_CTX struct __sk_buff
#define IPT_NAME(x) ipt_tc_##x
#define IPT_PASS TC_ACT_UNSPEC
// A network card that hands the stack the sum of the whole packet (CHECKSUM_COMPLETE) would have
// it checked again wherever the packet is delivered next (a veth peer): it learns what the rewrite
// changed. bpf_csum_update does nothing (and says so) for a packet without one.
#define IPT_CSUM_BEFORE(v, words, n) __u64 v = sum_words(words, n)
#define IPT_CSUM_AFTER(ctx, v, words, n) \
    bpf_csum_update(ctx, fold((__u64)fold(sum_words(words, n)) + (__u16)~fold(v)))
#include "iptrtpproxy_relay_path.h"

SEC("tc")
int ipt_tc_relay(struct __sk_buff *ctx) {
    // Several datagrams in one buffer (GRO, GSO), or a VLAN tag the driver moved out of the frame
    // into the buffer's metadata (forwarding the frame would drop it): the normal path.
    if (ctx->gso_size || ctx->vlan_present) return TC_ACT_UNSPEC;
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return TC_ACT_UNSPEC;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) return ipt_tc_relay4(ctx, eth, end);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) return ipt_tc_relay6(ctx, eth, end);
    return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
