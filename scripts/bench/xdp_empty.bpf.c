// SPDX-License-Identifier: GPL-2.0
// The reference for scripts/bench/xdp_prog.sh: a program that does nothing, so its bpf_stats run
// time per packet is what the measurement itself costs (two clock reads around every run).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int ipt_xdp_empty(struct xdp_md *ctx) { return XDP_PASS; }

char LICENSE[] SEC("license") = "GPL";
