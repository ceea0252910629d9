#!/usr/bin/env python3
"""Draws the panels of iptrtpproxy-dashboard.json from a recorded run (record-run.py) with
matplotlib, laid out by their gridPos, where Grafana itself cannot be installed. Each panel's
PromQL is evaluated over the recording: the dashboard uses only `AGG [by (LABELS)] (INNER)` with
AGG sum, max or min, INNER a selector or `rate(SELECTOR[$__rate_interval])`; selectors match on
their literal labels, and template variables ($job, $instance, $switchboard) stand for All. Any
other form is refused, so the picture cannot silently differ from what Grafana would draw.

    contrib/grafana/render-panels.py contrib/grafana/iptrtpproxy-dashboard.json /tmp/recording.jsonl \
        contrib/grafana/dashboard.png
"""
import datetime
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402

RATE_WINDOW = 4.0  # $__rate_interval at a 1 s scrape interval: four scrapes
BG, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff", "#96d98d", "#fade2a", "#ff9830"]
COLOR_NAMES = {"green": "#73bf69", "red": "#f2495c", "blue": "#5794f2", "yellow": "#fade2a", "orange": "#ff9830"}

AGGREGATION = re.compile(r"^(sum|max|min)\s*(?:by\s*\(([^)]*)\))?\s*\((.*)\)$", re.S)
RATE = re.compile(r"^rate\((.*)\[\$__rate_interval\]\)$", re.S)
SELECTOR = re.compile(r"^([a-zA-Z_:][\w:]*)\s*(?:\{(.*)\})?$", re.S)
MATCHER = re.compile(r'\s*(\w+)\s*(=~|=)\s*"([^"]*)"\s*,?')


def parse_selector(text):
    m = SELECTOR.match(text.strip())
    if not m:
        raise ValueError("unsupported selector: " + text)
    matchers = []
    rest = m.group(2) or ""
    pos = 0
    while pos < len(rest):
        mm = MATCHER.match(rest, pos)
        if not mm:
            raise ValueError("unsupported label matcher in: " + text)
        label, op, value = mm.groups()
        if "$" not in value:  # a template variable is All
            matchers.append((label, op, value))
        pos = mm.end()
    return m.group(1), matchers


def parse(expr):
    expr = expr.strip()
    agg, by, inner = None, None, expr
    m = AGGREGATION.match(expr)
    if m:
        agg, by, inner = m.group(1), [l.strip() for l in (m.group(2) or "").split(",") if l.strip()], m.group(3)
    r = RATE.match(inner.strip())
    name, matchers = parse_selector(r.group(1) if r else inner)
    return {"agg": agg, "by": by, "rate": bool(r), "name": name, "matchers": matchers}


def matches(labels, matchers):
    for label, op, value in matchers:
        v = labels.get(label, "")
        if (op == "=" and v != value) or (op == "=~" and not re.fullmatch(value, v)):
            return False
    return True


def evaluate(q, scrapes):
    """{legend labels (frozen): [(t, value)]} for one parsed query over the recording."""
    history = {}  # series key -> [(t, value)]
    for s in scrapes:
        for name, labels, value in s["samples"]:
            if name == q["name"] and matches(labels, q["matchers"]):
                key = tuple(sorted(labels.items()))
                history.setdefault(key, []).append((s["t"], value))
    out = {}
    for s in scrapes:
        t = s["t"]
        groups = {}
        for key, points in history.items():
            if q["rate"]:
                window = [(pt, pv) for pt, pv in points if t - RATE_WINDOW <= pt <= t]
                if len(window) < 2 or window[-1][0] != t:
                    continue
                increase = 0.0
                for (t0, v0), (t1, v1) in zip(window, window[1:]):
                    increase += v1 - v0 if v1 >= v0 else v1  # a counter reset (restart) starts from 0
                value = increase / (window[-1][0] - window[0][0])
            else:
                now = [pv for pt, pv in points if pt == t]
                if not now:
                    continue
                value = now[0]
            labels = dict(key)
            gkey = tuple((l, labels.get(l, "")) for l in q["by"]) if q["agg"] else key
            groups.setdefault(gkey, []).append(value)
        for gkey, values in groups.items():
            v = {"sum": sum, "max": max, "min": min, None: lambda x: x[0]}[q["agg"]](values)
            out.setdefault(gkey, []).append((t, v))
    return out


def legend(fmt, key):
    labels = dict(key)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt) if fmt else str(labels)


def unit_label(unit):
    return {"pps": "packets/s", "Bps": "bytes/s", "ops": "per second", "reqps": "requests/s", "s": "seconds"}.get(unit, "")


def draw_timeseries(ax, panel, scrapes):
    i = 0
    for target in panel["targets"]:
        for key, points in sorted(evaluate(parse(target["expr"]), scrapes).items()):
            xs = [datetime.datetime.fromtimestamp(t) for t, _ in points]
            ys = [v for _, v in points]
            color = COLORS[i % len(COLORS)]
            ax.plot(xs, ys, color=color, linewidth=1.2, label=legend(target.get("legendFormat"), key))
            ax.fill_between(xs, ys, color=color, alpha=0.08)
            i += 1
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.grid(color=GRID, linewidth=0.6)
    ax.tick_params(colors=TEXT, labelsize=7)
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
    if unit_label(unit):
        ax.set_ylabel(unit_label(unit), color=TEXT, fontsize=7)
    ax.set_ylim(bottom=0)
    if unit != "s":
        ax.yaxis.set_major_formatter(mticker.EngFormatter(sep=""))
    if i:
        ax.legend(loc="upper left", fontsize=6.5, facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, ncol=2)


def draw_stat(ax, panel, scrapes):
    mappings = {}
    for m in panel.get("fieldConfig", {}).get("defaults", {}).get("mappings", []):
        for value, o in m.get("options", {}).items():
            mappings[float(value)] = (o.get("text", value), COLOR_NAMES.get(o.get("color"), o.get("color", "#333")))
    cells = []
    for target in panel["targets"]:
        for key, points in sorted(evaluate(parse(target["expr"]), scrapes).items()):
            last = points[-1][1]
            text, color = mappings.get(last, ("%g" % last, "#3274d9"))
            cells.append((legend(target.get("legendFormat"), key), text, color))
    ax.set_axis_off()
    n = max(1, len(cells))
    for i, (name, text, color) in enumerate(cells):
        y0 = 1 - (i + 1) / n
        ax.add_patch(plt.Rectangle((0.02, y0 + 0.04), 0.96, 1 / n - 0.08, color=color, transform=ax.transAxes))
        ax.text(0.06, y0 + 0.5 / n, name, color="white", fontsize=8, va="center", transform=ax.transAxes)
        ax.text(0.94, y0 + 0.5 / n, text, color="white", fontsize=15, weight="bold", va="center", ha="right",
                transform=ax.transAxes)


def main():
    dashboard_path, recording_path, out = sys.argv[1:4]
    dash = json.load(open(dashboard_path))
    scrapes = [json.loads(l) for l in open(recording_path) if l.strip()]
    panels = dash["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    unit = 0.36  # inches per grid unit of height
    fig = plt.figure(figsize=(20, rows * unit + 0.8), facecolor=BG)
    span = "%s - %s" % (datetime.datetime.fromtimestamp(scrapes[0]["t"]).strftime("%Y-%m-%d %H:%M:%S"),
                        datetime.datetime.fromtimestamp(scrapes[-1]["t"]).strftime("%H:%M:%S"))
    fig.text(0.01, 1 - 0.3 / (rows * unit + 0.8), "%s  (rendered from a recorded run, %d scrapes, %s)"
             % (dash["title"], len(scrapes), span), color=TEXT, fontsize=12, weight="bold", va="center")
    height = rows * unit + 0.8
    for p in panels:
        g = p["gridPos"]
        left, width = g["x"] / 24, g["w"] / 24
        top = 1 - (0.6 + g["y"] * unit) / height
        h = g["h"] * unit / height
        if p["type"] == "row":
            fig.text(left + 0.005, top - h / 2, p["title"], color=TEXT, fontsize=10, weight="bold", va="center")
            continue
        ax = fig.add_axes([left + 0.05 * width + 0.006, top - h + 0.045 * g["h"] * unit / height + 0.012,
                           width * 0.93 - 0.008, h - 0.06 * g["h"] * unit / height - 0.03], facecolor=PANEL)
        for s in ax.spines.values():
            s.set_color(GRID)
        fig.text(left + 0.006, top - 0.006, p["title"], color=TEXT, fontsize=9, weight="bold", va="top")
        if p["type"] == "timeseries":
            draw_timeseries(ax, p, scrapes)
        elif p["type"] == "stat":
            draw_stat(ax, p, scrapes)
        else:
            raise ValueError("panel type %s is not drawn" % p["type"])
    fig.savefig(out, dpi=80, facecolor=BG)


if __name__ == "__main__":
    main()
