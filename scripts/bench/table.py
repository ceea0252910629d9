#!/usr/bin/env python3
"""Prints rtpload's JSON lines (label "SCENARIO|RELAY") as one side-by-side Markdown table.

    table.py results.jsonl
"""
import json
import sys

COLUMNS = ["scenario", "relay", "offered pps", "forwarded pps", "loss %", "p50 µs", "p99 µs", "relay CPU µs/pkt"]


def cell(v, digits):
    if v is None:
        return "—"
    return f"{v:,.0f}" if digits == 0 else f"{v:.{digits}f}"


def rows(lines):
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        scenario, _, relay = r["label"].partition("|")
        yield [scenario, relay, cell(r["offered_pps"], 0), cell(r["forwarded_pps"], 0), cell(r["loss_pct"], 3),
               cell(r["p50_us"], 1), cell(r["p99_us"], 1), cell(r["relay_cpu_us_per_pkt"], 2)]


def warnings(lines):
    """Runs whose figures need a second look: packets at the wrong sink, or the generator itself failing."""
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        problems = [f"{r[k]} {k.replace('_', ' ')}" for k in ("misdelivered", "foreign", "send_errors") if r.get(k)]
        if problems:
            yield f"warning: {r['label'].replace('|', ', ')}: " + ", ".join(problems)


def main() -> int:
    with open(sys.argv[1]) as f:
        lines = f.readlines()
    body = list(rows(lines))
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(COLUMNS)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    print(line(COLUMNS))
    print("|" + "|".join(("-" * (w + 2)) if i < 2 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|")
    previous = None
    for r in body:
        print(line(r if r[0] != previous else [""] + r[1:]))
        previous = r[0]
    for w in warnings(lines):
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
