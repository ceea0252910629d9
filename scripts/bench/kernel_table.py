#!/usr/bin/env python3
"""The kernel table from scripts/bench/kernel.sh's raw rows ("ROUND ROW PPS LOSS CPU XDP_NS
KERNEL_PCT" lines; XDP_NS is "-" there, KERNEL_PCT, the share of the delivered packets that never
reached the relay's sockets, "-" outside the offload rows; and "stats ROW XDP_NS" lines: the XDP
program's run time per packet from the run with bpf_stats on): per row the medians over the rounds of pps, loss and CPU µs/pkt,
and the ratios to plain routing and to the no-forwarding limit, each the median of the per-round
ratios (rows of one round ran next to each other, so the per-round ratio cancels the machine's
drift between rounds). "hop µs" is the median per-round CPU µs/pkt over the limit's: what the relay
hop itself adds to one packet's path; 1e6 / hop is what one core would forward doing nothing else.

    kernel_table.py RESULTS [--fill 8000] [--seconds 3]
"""
import argparse
import statistics
import sys

NAMES = {
    "limit": "no-forwarding limit (sink in the relay namespace)",
    "plain": "plain routing",
    "nftables": "nftables offload (iptrtpproxyd)",
    "fill": "nftables offload, {fill} more streams (ipt-nft-probe)",
    "xdp-generic": "XDP offload (generic)",
    "xdp-tc": "eBPF at tc ingress (the XDP path as a classifier, --xdp-mode tc)",
    "xdp-native": "XDP offload (native, GRO on the callee's veth)",
    "user": "user space (iptrtpproxyd, 1 thread)",
}
ORDER = list(NAMES)


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("--fill", default="8000")
    p.add_argument("--seconds", default="3")
    a = p.parse_args()
    runs = {}  # row -> round -> (pps, loss, cpu, xdp_ns)
    stats = {}  # row -> program ns per packet (the bpf_stats run)
    with open(a.results) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "stats":
                stats[w[1]] = None if w[2] == "-" else float(w[2])
                continue
            if len(w) != 7:
                continue
            rnd, row = int(w[0]), w[1]
            opt = [None if x == "-" else float(x) for x in w[5:7]]
            runs.setdefault(row, {})[rnd] = (float(w[2]), float(w[3]), float(w[4]), opt[0], opt[1])
    if not runs:
        print("kernel: no results")
        return 1

    def ratios(row, ref, col, invert=False):
        out = []
        for rnd, v in runs.get(row, {}).items():
            r = runs.get(ref, {}).get(rnd)
            if r and r[col] > 0 and v[col] > 0:
                out.append(r[col] / v[col] if invert else v[col] / r[col])
        return median(out)

    def hop(row):
        out = []
        for rnd, v in runs.get(row, {}).items():
            r = runs.get("limit", {}).get(rnd)
            if r:
                out.append(v[2] - r[2])
        return median(out)

    rounds = max(len(v) for v in runs.values())
    print(f"Medians of {rounds} interleaved rounds of {a.seconds} s; ratios are medians of per-round ratios "
          "(pps: row / reference; CPU: reference / row, so above 1 means cheaper).")
    print()
    print("| row | pps | pps × plain | pps × limit | loss | CPU µs/pkt | CPU × plain | CPU × limit | hop µs/pkt | XDP prog ns/pkt | in kernel |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in ORDER:
        if row not in runs:
            continue
        v = list(runs[row].values())
        pps, loss, cpu = median([x[0] for x in v]), median([x[1] for x in v]), median([x[2] for x in v])
        xdp, kernel = stats.get(row), median([x[4] for x in v])
        print(f"| {NAMES[row].format(fill=a.fill)} | {pps:,.0f} | {fmt(ratios(row, 'plain', 0), '.2f')} | "
              f"{fmt(ratios(row, 'limit', 0), '.2f')} | {loss:.3f} % | {cpu:.2f} | "
              f"{fmt(ratios(row, 'plain', 2, True), '.2f')} | {fmt(ratios(row, 'limit', 2, True), '.2f')} | "
              f"{fmt(hop(row), '.2f')} | {fmt(xdp, '.0f')} | {'-' if kernel is None else f'{kernel:.1f} %'} |")
    print()
    for row in ("xdp-generic", "xdp-tc", "xdp-native"):
        if row not in runs:
            continue
        v = list(runs[row].values())
        lim, pl = ratios(row, "limit", 0), ratios(row, "plain", 0)
        loss, xdp, kernel = median([x[1] for x in v]), stats.get(row), median([x[4] for x in v])
        checks = [("forwarded in the kernel", kernel is not None and kernel >= 99, fmt(kernel, ".1f") + " %"),
                  ("≥ 0.9× limit", lim is not None and lim >= 0.9, fmt(lim, ".2f")),
                  ("≥ 1.05× plain", pl is not None and pl >= 1.05, fmt(pl, ".2f")),
                  ("0 loss", loss == 0, f"{loss:.3f} %"),
                  ("≤ 100 ns/pkt in the program", xdp is not None and xdp <= 100, fmt(xdp, ".0f"))]
        print(f"goal, {NAMES[row]}: " + "; ".join(f"{n}: {'met' if ok else 'NOT met'} ({got})" for n, ok, got in checks))
    if "nftables" in runs:
        print(f"nftables offload / plain routing: {fmt(ratios('nftables', 'plain', 0), '.2f')} by pps, "
              f"{fmt(ratios('nftables', 'plain', 2, True), '.2f')} by CPU per packet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
