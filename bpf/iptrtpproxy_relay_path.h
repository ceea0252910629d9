// SPDX-License-Identifier: GPL-2.0
// The forwarding path of iptrtpproxy's eBPF fast path, written once for both hooks it runs in:
// XDP (`struct xdp_md`) and tc ingress (`struct __sk_buff`). iptrtpproxy_xdp.bpf.c includes this
// file twice, each time with these defined:
//   IPT_CTX                the hook's context type
//   IPT_NAME(x)            the hook's name for function x (a global function is named in the object)
//   IPT_PASS               the verdict that hands a packet to the normal path
//   IPT_CSUM_BEFORE(v, words, n), IPT_CSUM_AFTER(ctx, v, words, n)
//                          around a rewrite of the n 32-bit words at `words`: tc tells the skb's
//                          CHECKSUM_COMPLETE value what changed; XDP has no such value.
// Everything that does not depend on the hook (maps, index, lookups, counters) is in the .c file.

/// One's complement sum, folded to 16 bits, of the packet from `offset` (the UDP header) to its
/// end, as native 32-bit words (byte order does not matter to a check that must come out 0xffff).
/// The callers have made sure that the datagram ends where the packet does, so the packet's end
/// is the only bound: one compare per 64 bytes serves both the verifier and the loop, and each
/// word is one load and one add (32-bit words added into 64 bits lose no carry for any datagram up
/// to MAX_UDP_LENGTH). This is a third of the time of the first version, which compared against
/// the length and split 64-bit loads. A global function: the verifier checks its loop once, not
/// once per caller and path.
__attribute__((noinline)) int IPT_NAME(sum)(IPT_CTX *ctx, __u32 offset) {
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
static __always_inline int IPT_NAME(datagram_checks)(IPT_CTX *ctx, void *udp, __u64 sum) {
    int datagram = IPT_NAME(sum)(ctx, (__u32)(udp - (void *)(long)ctx->data));
    return fold(sum + (__u32)datagram) == 0xffff;
}

/// The route toward `target` for a packet that arrived on `ctx`'s interface: cached in the
/// target, refreshed every ROUTE_REFRESH packets. Returns the egress ifindex, or 0 to pass.
static __always_inline __u32 IPT_NAME(route)(IPT_CTX *ctx, struct ipt_xdp_target *target, int family,
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

static __always_inline int IPT_NAME(relay4)(IPT_CTX *ctx, struct ethhdr *eth, void *end) {
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return IPT_PASS;
    // Options, fragments, other protocols, an expiring TTL: the normal path.
    if (ip->version != 4 || ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return IPT_PASS;
    if (ip->frag_off & bpf_htons(0x3fff)) return IPT_PASS;
    if (ip->ttl <= 1) return IPT_PASS;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end) return IPT_PASS;

    struct ipt_xdp_target *target = find4(ip, udp);
    if (!target) return IPT_PASS;

    __u16 total = bpf_ntohs(ip->tot_len);
    __u16 length = bpf_ntohs(udp->len);
    if (length < sizeof(*udp) || length > MAX_UDP_LENGTH || total != length + sizeof(*ip))
        return count(IPT_XDP_MALFORMED, IPT_PASS);
    // The datagram must end where the packet does (the checksum loop's bound): a frame with bytes
    // after it, such as the Ethernet padding of a datagram under 18 bytes of payload, takes the
    // normal path, which trims them.
    if ((void *)udp + length != end) return count(IPT_XDP_MALFORMED, IPT_PASS);

    // The IP header's checksum, then the UDP one (0 = none, allowed in IPv4).
    __u64 sum = 0;
    __u32 *words = (__u32 *)ip;
#pragma unroll
    for (int i = 0; i < 5; i++) sum += words[i];
    if (fold(sum) != 0xffff) return count(IPT_XDP_BAD_CHECKSUM, IPT_PASS);
    if (udp->check) {
        sum = (__u64)ip->saddr + ip->daddr + bpf_htons(IPPROTO_UDP) + udp->len;
        if (!IPT_NAME(datagram_checks)(ctx, udp, sum)) return count(IPT_XDP_BAD_CHECKSUM, IPT_PASS);
    }

    __u32 egress = IPT_NAME(route)(ctx, target, AF_INET, total);
    if (!egress) return count(IPT_XDP_NO_ROUTE, IPT_PASS);

    // Rewrite: addresses and ports, TTL; both checksums by their change. (The IP header's sum
    // stays what it was, its checksum sees to that; the UDP header's is what changes.)
    IPT_CSUM_BEFORE(was, (__u32 *)udp, 2);
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
    IPT_CSUM_AFTER(ctx, was, (__u32 *)udp, 2);
    return forward(eth, target, egress, length - sizeof(*udp));
}

static __always_inline int IPT_NAME(relay6)(IPT_CTX *ctx, struct ethhdr *eth, void *end) {
    struct ipv6hdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return IPT_PASS;
    // Extension headers (fragments among them), other protocols, an expiring hop limit: the normal path.
    if (ip->version != 6 || ip->nexthdr != IPPROTO_UDP || ip->hop_limit <= 1) return IPT_PASS;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > end) return IPT_PASS;

    struct ipt_xdp_target *target = find6(ip, udp);
    if (!target) return IPT_PASS;

    __u16 length = bpf_ntohs(udp->len);
    if (length < sizeof(*udp) || length > MAX_UDP_LENGTH || bpf_ntohs(ip->payload_len) != length)
        return count(IPT_XDP_MALFORMED, IPT_PASS);
    // As for IPv4, the datagram must end where the packet does (the checksum loop's bound).
    if ((void *)udp + length != end) return count(IPT_XDP_MALFORMED, IPT_PASS);
    // IPv6 has no header checksum; the UDP one is mandatory (RFC 8200 §8.1): 0 is malformed.
    if (!udp->check) return count(IPT_XDP_BAD_CHECKSUM, IPT_PASS);
    __u64 sum = bpf_htons(IPPROTO_UDP) + udp->len;
    __u32 *addresses = (__u32 *)&ip->saddr;
#pragma unroll
    for (int i = 0; i < 8; i++) sum += addresses[i];
    if (!IPT_NAME(datagram_checks)(ctx, udp, sum)) return count(IPT_XDP_BAD_CHECKSUM, IPT_PASS);

    __u32 egress = IPT_NAME(route)(ctx, target, AF_INET6, length + sizeof(*ip));
    if (!egress) return count(IPT_XDP_NO_ROUTE, IPT_PASS);

    // The IPv6 header and the UDP one, 48 bytes, are all that changes.
    IPT_CSUM_BEFORE(was, (__u32 *)ip, 12);
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
    IPT_CSUM_AFTER(ctx, was, (__u32 *)ip, 12);
    return forward(eth, target, egress, length - sizeof(*udp));
}

