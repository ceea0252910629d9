#!/usr/bin/env bash
# End to end: the Grafana dashboard (contrib/grafana/iptrtpproxy-dashboard.json) against a live
# relay. A real iptrtpproxyd (journal, metrics) with one switchboard carries 4 calls of real RTP
# both ways (rtpload); its /metrics is scraped and every metric name any panel or variable queries
# must be in the scrape (Prometheus's own `up` aside: it writes that per target, no relay does).
# With redis-server installed, a relay on --redis shows its store up, then down once Redis stops.
# Prints what it checks; exits 0 when all pass.
source "$(dirname "$0")/lib/harness.sh"
e2e_init relay-dashboard
cd "$E2E_ROOT"
DAEMON=${IPTRTPPROXYD:-build/iptrtpproxyd}
RTPLOAD=${RTPLOAD:-build/rtpload}
DASHBOARD=${IPT_DASHBOARD:-contrib/grafana/iptrtpproxy-dashboard.json}
for b in "$DAEMON" "$RTPLOAD"; do [ -x "$b" ] || { e2e_log "$b is missing (make build)"; exit 1; }; done
WORK=$E2E_DIR

# +0..+31 gate A (16 sessions) on .1, +40..+71 gate B on .2, +80..+87 the phones (.10 callers,
# .20 callees), +90 metrics on .1.
BASE=$(e2e_free_ports 20000 32000 100 --tcp --addr 127.0.34.1 --addr 127.0.34.2 --addr 127.0.34.10 --addr 127.0.34.20) ||
  { e2e_log "no free ports"; exit 1; }
e2e_log "ports $BASE-$((BASE + 99)) on 127.0.34.1/.2/.10/.20"
cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.34.1
addr-b = 127.0.34.2
port-a = $BASE
port-b = $((BASE + 40))
max-sess = 16
CFG
METRICS=127.0.34.1:$((BASE + 90))

"$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/control.sock" --journal "$WORK/journal" \
  --metrics "$METRICS" --workers 1 --log-prefix none 2>"$WORK/daemon.log" &
PID=$!
e2e_track "$PID"
up_or_gone() { grep -q "iptrtpproxyd .* running" "$WORK/daemon.log" || ! e2e_running "$PID"; }
wait_for 10 "iptrtpproxyd to run" up_or_gone
e2e_check "iptrtpproxyd starts" grep -q "iptrtpproxyd .* running" "$WORK/daemon.log" || { cat "$WORK/daemon.log"; e2e_finish; }

# 4 calls over the control socket; the phones' RTP both ways through the relay.
e2e_check "4 sessions allocated over the control socket" python3 - "$WORK" "$BASE" <<'PY'
import os, sys
sys.path.insert(0, "scripts/bench")
from iptrtpproxy_calls import ControlClient
work, base = sys.argv[1], int(sys.argv[2])
relay = ControlClient("unix:" + os.path.join(work, "control.sock"))
with open(os.path.join(work, "streams"), "w") as out:
    for i in range(4):
        port = base + 80 + 2 * i
        _, pa, pb = relay.request(
            f"alloc e2e a.always-learn=0 a.rtp=127.0.34.10:{port} a.rtcp=127.0.34.10:{port + 1} "
            f"b.always-learn=0 b.rtp=127.0.34.20:{port} b.rtcp=127.0.34.20:{port + 1}").split()
        out.write(f"127.0.34.10:{port} 127.0.34.1:{pa} 127.0.34.20:{port}\n")
        out.write(f"127.0.34.20:{port} 127.0.34.2:{pb} 127.0.34.10:{port}\n")
PY
"$RTPLOAD" --streams "$WORK/streams" --rate 50 --duration 1 --warmup 0.3 --drain 0.3 >"$WORK/load.json" 2>"$WORK/load.err"
e2e_check "rtpload: 8 streams through the relay, every packet delivered" python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read())
sys.exit(0 if r["sent"] > 0 and r["received"] == r["sent"] and r["misdelivered"] == 0 else 1)' "$WORK/load.json" ||
  cat "$WORK/load.json" "$WORK/load.err"

e2e_checks_from "every metric the dashboard queries is in a live scrape" python3 - "$DASHBOARD" "$METRICS" <<'PY'
import json, re, sys, urllib.request
dashboard_path, metrics = sys.argv[1], sys.argv[2]

def check(ok, what):
    print(("ok " if ok else "FAIL ") + what)

# PromQL words that are not metric names; functions are told by the "(" after them.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}

def metric_names(expr):
    """The metric names a PromQL expression selects (a conservative reading: strings, label
    matchers, ranges and grouping clauses removed; what is left that is not a call or keyword)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", e):
        if m.group(2) or m.group(1) in KEYWORDS:
            continue
        names.add(m.group(1))
    return names

dash = json.load(open(dashboard_path))
exprs = []
def walk(panels):
    for p in panels:
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
            check(t.get("datasource", p.get("datasource", {})).get("uid") == "${datasource}",
                  "panel '%s' %s queries the $datasource variable" % (p["title"], t["refId"]))
        walk(p.get("panels", []))
walk(dash["panels"])
variables = {v["name"]: v for v in dash["templating"]["list"]}
check(variables.get("datasource", {}).get("type") == "datasource" and variables["datasource"].get("query") == "prometheus",
      "a Prometheus datasource variable")
for v in dash["templating"]["list"]:
    if v["type"] == "query":
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
        check(m is not None, "variable %s is label_values(METRIC, LABEL)" % v["name"])
        if m:
            exprs.append(("variable " + v["name"], m.group(1)))

wanted = {}
for where, e in exprs:
    for n in metric_names(e):
        wanted.setdefault(n, where)
check(len(exprs) >= 20 and len(wanted) >= 20, "the dashboard queries %d expressions naming %d metrics" % (len(exprs), len(wanted)))

text = urllib.request.urlopen("http://%s/metrics" % metrics, timeout=5).read().decode()
samples = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        m = re.match(r"([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m:
            samples.setdefault(m.group(1), []).append((m.group(2) or "", float(m.group(3))))
for name in sorted(wanted):
    if name == "up":
        print("  (up: written by Prometheus for every target it scrapes)")
        continue
    check(name in samples, "%s (%s) is in the scrape" % (name, wanted[name]))

def value(name, labels=""):
    return sum(v for l, v in samples.get(name, []) if all(x in l for x in labels.split(",") if x))
check(value("iptrtpproxy_side_packets_total", 'side="a"') > 0 and value("iptrtpproxy_side_packets_total", 'side="b"') > 0,
      "packets forwarded from both sides (a %d, b %d)" % (value("iptrtpproxy_side_packets_total", 'side="a"'),
                                                           value("iptrtpproxy_side_packets_total", 'side="b"')))
check(value("iptrtpproxy_switchboard_sessions_active") == 4 and value("iptrtpproxy_switchboard_sessions_free") == 12
      and value("iptrtpproxy_switchboard_ports_free") == 48, "capacity: 4 sessions live, 12 free, 48 ports free")
check(value("iptrtpproxy_store_up") == 1, "the journal store is up")
PY

# The store panel with Redis: a relay with --redis shows its store up, and down once Redis is gone.
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  e2e_stop "$PID" >/dev/null
  e2e_untrack "$PID"
  REDIS_PORT=$((BASE + 92))
  redis-server --port "$REDIS_PORT" --bind 127.0.34.1 --save '' --appendonly no --daemonize no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  e2e_track "$REDIS_PID"
  wait_for 10 "redis-server to answer" bash -c "redis-cli -h 127.0.34.1 -p $REDIS_PORT ping 2>/dev/null | grep -q PONG"
  : >"$WORK/daemon.log"
  "$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/control.sock" --redis "redis://127.0.34.1:$REDIS_PORT/5" \
    --metrics "$METRICS" --workers 1 --log-prefix none 2>"$WORK/daemon.log" &
  PID=$!
  e2e_track "$PID"
  wait_for 10 "iptrtpproxyd with Redis to run" up_or_gone
  store_up() {  # the value of iptrtpproxy_store_up for the Redis location is $1
    python3 - "$METRICS" "redis://127.0.34.1:$REDIS_PORT/5" "$1" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=2).read().decode()
m = re.search(r'^iptrtpproxy_store_up\{location="%s"\} (\S+)$' % re.escape(sys.argv[2]), text, re.M)
sys.exit(0 if m and float(m.group(1)) == float(sys.argv[3]) else 1)
PY
  }
  e2e_check_within 10 "Redis store: iptrtpproxy_store_up{location=redis://...} is 1" store_up 1
  e2e_stop "$REDIS_PID" >/dev/null
  e2e_untrack "$REDIS_PID"
  e2e_check_within 20 "Redis gone: iptrtpproxy_store_up falls to 0" store_up 0
else
  e2e_log "redis-server is not installed: the Redis store panel is checked with the journal only"
fi

e2e_finish
