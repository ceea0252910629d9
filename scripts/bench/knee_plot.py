#!/usr/bin/env python3
"""The knee from scripts/bench/knee.sh's steps (JSON lines): per relay the highest offered rate with
no loss and a p99 one-way latency under 10 ms (--summary, a Markdown table), and the plots
(--plots DIR): DIR/knee.png (forwarded pps, loss and p99 against the offered rate, one line per
relay) and DIR/latency.png (the latency distribution of each relay at one common rate: the highest
rate every relay passed, else the lowest rate they all ran).

    knee_plot.py .build-bench/knee-results.jsonl --summary --plots docs/bench
    knee_plot.py --step FILE         prints the step in FILE (one JSON line) as a row; exits 0 if it passed, 1 if it failed,
                                     2 if it lost more than 20 % (knee.sh stops that relay's steps)
"""
import argparse
import json
import os
import sys

P99_LIMIT_MS = 10.0


def passed(step: dict) -> bool:
    return step["loss_pct"] == 0 and step["p99_ms"] < P99_LIMIT_MS


def load(path: str) -> dict:
    relays = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                s = json.loads(line)
                relays.setdefault(s["relay"], []).append(s)
    for steps in relays.values():
        steps.sort(key=lambda s: s["rate"])
    return relays


def summary(relays: dict) -> None:
    print(f"Knee: the highest offered rate with 0 loss and p99 < {P99_LIMIT_MS:g} ms, the relay on one core.")
    print()
    print("| relay | knee (pps) | forwarded there | p99 there (ms) | relay core µs/pkt there | next step |")
    print("|---|---:|---:|---:|---:|---|")
    for steps in relays.values():
        good = [s for s in steps if passed(s)]
        label = steps[0]["label"]
        if not good:
            print(f"| {label} | below {steps[0]['rate']:,} | - | - | - | {steps[0]['loss_pct']:.2f} % loss, p99 {steps[0]['p99_ms']:.2f} ms |")
            continue
        k = good[-1]
        later = [s for s in steps if s["rate"] > k["rate"]]
        nxt = (f"{later[0]['rate']:,}: {later[0]['loss_pct']:.2f} % loss, p99 {later[0]['p99_ms']:.2f} ms"
               if later else "none (the top step: the knee is at least this)")
        cpu = "-" if k["relay_core_us_per_pkt"] is None else f"{k['relay_core_us_per_pkt']:.2f}"
        at_least = "" if later else "≥ "
        print(f"| {label} | {at_least}{k['rate']:,} | {k['forwarded_pps']:,} | {k['p99_ms']:.2f} | {cpu} | {nxt} |")


def plots(relays: dict, folder: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5))
    top = 0
    for steps in relays.values():
        x = [s["offered_pps"] / 1000 for s in steps]
        top = max(top, max(x))
        label = steps[0]["label"]
        ax1.plot(x, [s["forwarded_pps"] / 1000 for s in steps], marker="o", label=label)
        ax2.plot(x, [s["loss_pct"] for s in steps], marker="o", label=label)
        ax3.plot(x, [max(s["p99_ms"], 0.01) for s in steps], marker="o", label=label)
    ax1.plot([0, top], [0, top], color="grey", linestyle=":", label="forwarded = offered")
    ax1.set(title="Forwarded against offered", xlabel="offered (k packets/s)", ylabel="forwarded (k packets/s)")
    ax2.set(title="Loss", xlabel="offered (k packets/s)", ylabel="loss (%)")
    ax3.axhline(P99_LIMIT_MS, color="grey", linestyle=":", label=f"{P99_LIMIT_MS:g} ms")
    ax3.set(title="p99 one-way latency", xlabel="offered (k packets/s)", ylabel="p99 (ms, log)", yscale="log")
    for ax in (ax1, ax2, ax3):
        ax.grid(True, alpha=0.3)
    ax1.legend(fontsize=8)
    fig.suptitle("Per-core knee: one relay core, 172-byte RTP packets (scripts/bench/knee.sh)")
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "knee.png"), dpi=100)
    plt.close(fig)

    # One common rate for the distributions.
    rates = [set(s["rate"] for s in steps) for steps in relays.values()]
    common = sorted(set.intersection(*rates)) if rates else []
    if not common:
        return
    all_pass = [r for r in common if all(passed(s) for steps in relays.values() for s in steps if s["rate"] == r)]
    rate = all_pass[-1] if all_pass else common[0]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for steps in relays.values():
        s = next(s for s in steps if s["rate"] == rate)
        total = sum(c for _, c in s["hist_us"])
        if not total:
            continue
        xs, ys, seen = [], [], 0
        for us, c in s["hist_us"]:
            seen += c
            xs.append(us / 1000)
            ys.append(seen / total)
        ax.step(xs, ys, where="post", label=f"{s['label']} (p99 {s['p99_ms']:.2f} ms)")
    ax.set(title=f"One-way latency at {rate:,} packets/s offered", xlabel="latency (ms, log; 10 µs buckets)",
           ylabel="fraction of packets", xscale="log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "latency.png"), dpi=100)
    plt.close(fig)
    print(f"plots: {folder}/knee.png, {folder}/latency.png (latency at {rate:,} pps)")


def print_step(path: str) -> int:
    with open(path) as f:
        s = json.loads(f.read())
    cpu = "-" if s["relay_core_us_per_pkt"] is None else f"{s['relay_core_us_per_pkt']:.2f}"
    print(f"knee | {s['label']} | {s['offered_pps']:,} | {s['forwarded_pps']:,} | {s['loss_pct']:.3f} % | "
          f"{s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {cpu}")
    return 0 if passed(s) else (2 if s["loss_pct"] > 20 else 1)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="?")
    p.add_argument("--step", help="a file with one step's JSON line")
    p.add_argument("--summary", action="store_true")
    p.add_argument("--plots", help="folder for knee.png and latency.png")
    a = p.parse_args()
    if a.step:
        return print_step(a.step)
    if not a.results:
        p.error("the results file is missing")
    relays = load(a.results)
    if not relays:
        print("knee: no steps measured")
        return 1
    if a.summary:
        summary(relays)
    if a.plots:
        plots(relays, a.plots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
