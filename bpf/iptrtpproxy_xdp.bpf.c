// SPDX-License-Identifier: GPL-2.0
// iptrtpproxy's XDP fast path (issue 15): forwards the latched streams of the relay in the kernel,
// at the driver (native) or right after it (generic), before any socket or netfilter hook.
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

/// Interfaces the relay attached the program to, with its mode: 1 generic, 2 native. A packet
/// that arrived on a native interface may only be redirected to another native one (a driver's
/// redirect needs the target's ndo_xdp_xmit); from a generic one, to any interface.
#define IPT_XDP_GENERIC 1
#define IPT_XDP_NATIVE 2

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

/// One's complement sum, folded to 16 bits, of the packet from `offset` (the UDP header) to its
/// end, as native 32-bit words (byte order does not matter to a check that must come out 0xffff).
/// The callers have made sure that the datagram ends where the packet does, so the packet's end
/// is the only bound: one compare per 64 bytes serves both the verifier and the loop, and each
/// word is one load and one add (32-bit words added into 64 bits lose no carry for any datagram up
/// to MAX_UDP_LENGTH). This is a third of the time of the first version, which compared against
/// the length and split 64-bit loads. A global function: the verifier checks its loop once, not
/// once per caller and path.
__attribute__((noinline)) int ipt_xdp_sum(struct xdp_md *ctx, __u32 offset) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    // A bound the verifier can see: the compiler may not drop a mask behind this barrier.
    asm volatile("" : "+r"(offset));
    offset &= 127;
    __u32 *p = data + offset;
    __u64 sum = 0;
    for (int i = 0; i < MAX_UDP_LENGTH / 64; i++) {
        if ((void *)(p + 16) > end) break;
#pragma unroll
        for (int w = 0; w < 16; w++) sum += p[w];
        p += 16;
    }
    // The rest, under 64 bytes: 32, 16, 8 and 4 bytes, then a 16-bit word and a byte.
    if ((void *)(p + 8) <= end) {
#pragma unroll
        for (int w = 0; w < 8; w++) sum += p[w];
        p += 8;
    }
    if ((void *)(p + 4) <= end) {
#pragma unroll
        for (int w = 0; w < 4; w++) sum += p[w];
        p += 4;
    }
    if ((void *)(p + 2) <= end) {
        sum += p[0] + (__u64)p[1];
        p += 2;
    }
    if ((void *)(p + 1) <= end) {
        sum += p[0];
        p += 1;
    }
    __u16 *half = (__u16 *)p;
    if ((void *)(half + 1) <= end) {
        sum += *half;
        half += 1;
    }
    __u8 *last = (__u8 *)half;
    if ((void *)(last + 1) <= end) sum += *last;   // the odd last byte, padded with a zero byte after it
    return fold(sum);
}

/// The datagram's sum plus the pseudo-header's partial `sum`: 1 when it checks out (0xffff).
static __always_inline int datagram_checks(struct xdp_md *ctx, void *udp, __u64 sum) {
    int datagram = ipt_xdp_sum(ctx, (__u32)(udp - (void *)(long)ctx->data));
    return fold(sum + (__u32)datagram) == 0xffff;
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

/// The route toward `target` for a packet that arrived on `ctx`'s interface: cached in the
/// target, refreshed every ROUTE_REFRESH packets. Returns the egress ifindex, or 0 to pass.
static __always_inline __u32 route(struct xdp_md *ctx, struct ipt_xdp_target *target, int family,
                                   __u16 length) {
    __u32 ingress = ctx->ingress_ifindex;
    if (target->route_valid && target->route_ingress == ingress && (target->packets % ROUTE_REFRESH) != 0)
        return target->route_ifindex;

    __u32 *in_mode = bpf_map_lookup_elem(&ipt_interfaces, &ingress);
    if (!in_mode) return 0;
    struct bpf_fib_lookup fib = {};
    fib.family = family;
    fib.l4_protocol = IPPROTO_UDP;
    fib.sport = target->source_port;
    fib.dport = target->dest_port;
    fib.tot_len = length;
    fib.ifindex = ingress;
    if (family == AF_INET) {
        __builtin_memcpy(&fib.ipv4_src, target->source, 4);
        __builtin_memcpy(&fib.ipv4_dst, target->dest, 4);
    } else {
        __builtin_memcpy(fib.ipv6_src, target->source, 16);
        __builtin_memcpy(fib.ipv6_dst, target->dest, 16);
    }
    // Looked up as a packet forwarded from the arrival interface: the kernel answers only where
    // forwarding is on for that interface (net.ipv4.conf.IF.forwarding, net.ipv6.conf.IF.forwarding),
    // as for the nftables offload; elsewhere the stream stays in user space.
    long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
    if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
        target->route_valid = 0;
        return 0;
    }
    __u32 egress = fib.ifindex;
    if (*in_mode == IPT_XDP_NATIVE) {
        __u32 *out_mode = bpf_map_lookup_elem(&ipt_interfaces, &egress);
        if (!out_mode || *out_mode != IPT_XDP_NATIVE) {
            target->route_valid = 0;
            return 0;
        }
    }
    target->route_ifindex = egress;
    target->route_ingress = ingress;
    __builtin_memcpy(target->route_source_mac, fib.smac, 6);
    __builtin_memcpy(target->route_dest_mac, fib.dmac, 6);
    target->route_valid = 1;
    return egress;
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

static __always_inline int relay4(struct xdp_md *ctx, struct ethhdr *eth, void *end) {
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return XDP_PASS;
    // Options, fragments, other protocols, an expiring TTL: the normal path.
    if (ip->version != 4 || ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return XDP_PASS;
    if (ip->frag_off & bpf_htons(0x3fff)) return XDP_PASS;
    if (ip->ttl <= 1) return XDP_PASS;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end) return XDP_PASS;

    struct ipt_xdp_target *target = find4(ip, udp);
    if (!target) return XDP_PASS;

    __u16 total = bpf_ntohs(ip->tot_len);
    __u16 length = bpf_ntohs(udp->len);
    if (length < sizeof(*udp) || length > MAX_UDP_LENGTH || total != length + sizeof(*ip))
        return count(IPT_XDP_MALFORMED, XDP_PASS);
    // The datagram must end where the packet does (the checksum loop's bound): a frame with bytes
    // after it, such as the Ethernet padding of a datagram under 18 bytes of payload, takes the
    // normal path, which trims them.
    if ((void *)udp + length != end) return count(IPT_XDP_MALFORMED, XDP_PASS);

    // The IP header's checksum, then the UDP one (0 = none, allowed in IPv4).
    __u64 sum = 0;
    __u32 *words = (__u32 *)ip;
#pragma unroll
    for (int i = 0; i < 5; i++) sum += words[i];
    if (fold(sum) != 0xffff) return count(IPT_XDP_BAD_CHECKSUM, XDP_PASS);
    if (udp->check) {
        sum = (__u64)ip->saddr + ip->daddr + bpf_htons(IPPROTO_UDP) + udp->len;
        if (!datagram_checks(ctx, udp, sum)) return count(IPT_XDP_BAD_CHECKSUM, XDP_PASS);
    }

    __u32 egress = route(ctx, target, AF_INET, total);
    if (!egress) return count(IPT_XDP_NO_ROUTE, XDP_PASS);

    // Rewrite: addresses and ports, TTL; both checksums by their change.
    __u16 old_udp[6], new_udp[6];
    __builtin_memcpy(old_udp, &ip->saddr, 8);
    __builtin_memcpy(&old_udp[4], &udp->source, 4);
    __builtin_memcpy(&ip->saddr, target->source, 4);
    __builtin_memcpy(&ip->daddr, target->dest, 4);
    udp->source = target->source_port;
    udp->dest = target->dest_port;
    __builtin_memcpy(new_udp, &ip->saddr, 8);
    __builtin_memcpy(&new_udp[4], &udp->source, 4);
    if (udp->check) {
        __u16 check = ~fold(replace_words((__u16)~udp->check, old_udp, new_udp, 6));
        udp->check = check ? check : 0xffff;
    }
    ip->ttl -= 1;
    ip->check = 0;
    sum = 0;
#pragma unroll
    for (int i = 0; i < 5; i++) sum += words[i];
    ip->check = ~fold(sum);
    return forward(eth, target, egress, length - sizeof(*udp));
}

static __always_inline int relay6(struct xdp_md *ctx, struct ethhdr *eth, void *end) {
    struct ipv6hdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return XDP_PASS;
    // Extension headers (fragments among them), other protocols, an expiring hop limit: the normal path.
    if (ip->version != 6 || ip->nexthdr != IPPROTO_UDP || ip->hop_limit <= 1) return XDP_PASS;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end) return XDP_PASS;

    struct ipt_xdp_target *target = find6(ip, udp);
    if (!target) return XDP_PASS;

    __u16 length = bpf_ntohs(udp->len);
    if (length < sizeof(*udp) || length > MAX_UDP_LENGTH || bpf_ntohs(ip->payload_len) != length)
        return count(IPT_XDP_MALFORMED, XDP_PASS);
    // As for IPv4, the datagram must end where the packet does (the checksum loop's bound).
    if ((void *)udp + length != end) return count(IPT_XDP_MALFORMED, XDP_PASS);
    // IPv6 has no header checksum; the UDP one is mandatory (RFC 8200 §8.1): 0 is malformed.
    if (!udp->check) return count(IPT_XDP_BAD_CHECKSUM, XDP_PASS);
    __u64 sum = bpf_htons(IPPROTO_UDP) + udp->len;
    __u32 *addresses = (__u32 *)&ip->saddr;
#pragma unroll
    for (int i = 0; i < 8; i++) sum += addresses[i];
    if (!datagram_checks(ctx, udp, sum)) return count(IPT_XDP_BAD_CHECKSUM, XDP_PASS);

    __u32 egress = route(ctx, target, AF_INET6, length + sizeof(*ip));
    if (!egress) return count(IPT_XDP_NO_ROUTE, XDP_PASS);

    __u64 check = (__u16)~udp->check;
    check = replace_words(check, (__u16 *)&ip->saddr, (__u16 *)target->source, 8);
    check = replace_words(check, (__u16 *)&ip->daddr, (__u16 *)target->dest, 8);
    check = replace16(check, udp->source, target->source_port);
    check = replace16(check, udp->dest, target->dest_port);
    __builtin_memcpy(&ip->saddr, target->source, 16);
    __builtin_memcpy(&ip->daddr, target->dest, 16);
    udp->source = target->source_port;
    udp->dest = target->dest_port;
    __u16 folded = ~fold(check);
    udp->check = folded ? folded : 0xffff;
    ip->hop_limit -= 1;
    return forward(eth, target, egress, length - sizeof(*udp));
}

SEC("xdp")
int ipt_xdp_relay(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return XDP_PASS;
    // Untagged Ethernet only: VLAN-tagged frames take the normal path.
    if (eth->h_proto == bpf_htons(ETH_P_IP)) return relay4(ctx, eth, end);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) return relay6(ctx, eth, end);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
