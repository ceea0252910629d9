// SPDX-License-Identifier: GPL-2.0
// iptrtpproxy's shared-socket steering (issue 15 item 3, `iptrtpproxyd --shared-sockets`): a
// BPF_PROG_TYPE_SK_LOOKUP program attached to the relay's network namespace. Every UDP packet for
// a gate address and a port of its switchboard's range is handed to the one receive socket of the
// forwarding thread that owns the session (`ipt_sockets`), before the kernel's own socket lookup.
// So the relay needs no socket per port, and a port of the range stays the relay's: another
// program that binds it receives nothing.
//
// The relay fills `ipt_ranges` (one element per gate of each switchboard) and `ipt_config` once at
// start; the arithmetic mirrors `GatePortMap` (Sources/RTPRelay/Shared/GatePortMap.swift): session
// id = (port - first) / 2, global index = base + id, thread = global % threads, socket index =
// 2 * thread + (IPv6 ? 1 : 0).
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define IPT_MAX_RANGES 64

/// One gate of one switchboard. Mirrors `GatePortRange.bytes`.
struct ipt_range {
    __u32 family;      // AF_INET or AF_INET6
    __u32 addr[4];     // network order; IPv4 in addr[0]; all zero: any address of the family
    __u32 first_port;  // host order: RTP port of session 0
    __u32 last_port;   // host order: RTCP port of the last session
    __u32 base;        // global index of session 0
};

/// How many ranges are filled and how many forwarding threads there are.
struct ipt_config {
    __u32 ranges;
    __u32 threads;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, IPT_MAX_RANGES);
    __type(key, __u32);
    __type(value, struct ipt_range);
} ipt_ranges SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ipt_config);
} ipt_config SEC(".maps");

/// The forwarding threads' receive sockets; sized by the relay before load (2 per thread).
struct {
    __uint(type, BPF_MAP_TYPE_SOCKMAP);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} ipt_sockets SEC(".maps");

static __always_inline int ipt_matches(const struct bpf_sk_lookup *ctx, const struct ipt_range *r) {
    if (r->family != ctx->family) return 0;
    if (ctx->local_port < r->first_port || ctx->local_port > r->last_port) return 0;
    if (r->family == AF_INET)
        return r->addr[0] == 0 || r->addr[0] == ctx->local_ip4;
    if ((r->addr[0] | r->addr[1] | r->addr[2] | r->addr[3]) == 0) return 1;
    return r->addr[0] == ctx->local_ip6[0] && r->addr[1] == ctx->local_ip6[1] &&
           r->addr[2] == ctx->local_ip6[2] && r->addr[3] == ctx->local_ip6[3];
}

SEC("sk_lookup")
int ipt_steer(struct bpf_sk_lookup *ctx) {
    if (ctx->protocol != IPPROTO_UDP) return SK_PASS;
    __u32 zero = 0;
    struct ipt_config *config = bpf_map_lookup_elem(&ipt_config, &zero);
    if (!config || config->threads == 0) return SK_PASS;
    for (__u32 i = 0; i < IPT_MAX_RANGES; i++) {
        if (i >= config->ranges) break;
        struct ipt_range *r = bpf_map_lookup_elem(&ipt_ranges, &i);
        if (!r) break;
        if (!ipt_matches(ctx, r)) continue;
        __u32 global = r->base + (ctx->local_port - r->first_port) / 2;
        __u32 key = (global % config->threads) * 2 + (ctx->family == AF_INET6 ? 1 : 0);
        struct bpf_sock *sk = bpf_map_lookup_elem(&ipt_sockets, &key);
        // A port of the range is the relay's even when its socket is missing: dropped, never
        // handed to another program.
        if (!sk) return SK_DROP;
        long err = bpf_sk_assign(ctx, sk, 0);
        bpf_sk_release(sk);
        return err ? SK_DROP : SK_PASS;
    }
    return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
