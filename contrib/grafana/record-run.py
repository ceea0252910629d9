#!/usr/bin/env python3
"""Records a real run of iptrtpproxyd for contrib/grafana/dashboard.png: the relay's /metrics
scraped every second (as Prometheus would, with `up` 1 or 0 per scrape and the job and instance
labels added) while rtpload pushes up to 340 RTP streams through two switchboards, sessions
are allocated and deleted over the control socket, a stray sender's packets are dropped, and the
relay is restarted from its journal. Writes one JSON line per scrape:

    {"t": UNIX_SECONDS, "samples": [[NAME, {LABEL: VALUE}, VALUE], ...]}

    contrib/grafana/record-run.py --daemon build/iptrtpproxyd --rtpload build/rtpload \
        --out /tmp/recording.jsonl

It binds 127.0.35.0/24 (gates .1-.4 on ports 46000-47399, phones .10/.20 on 50000-50999, a stray
sender .66, metrics on .1:49090); run it where those are free. About 70 s.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "bench"))
from iptrtpproxy_calls import ControlClient  # noqa: E402

NET = "127.0.35."
SWITCHBOARDS = {  # name: (gate A, gate B, base port, max sessions)
    "public": (NET + "1", NET + "2", 46000, 300),
    "carrier": (NET + "3", NET + "4", 47000, 200),
}
METRICS = NET + "1:49090"
INSTANCE_LABELS = {"job": "iptrtpproxy", "instance": METRICS}
SAMPLE = re.compile(r'([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text):
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            labels = dict(LABEL.findall(m.group(2) or ""))
            labels.update(INSTANCE_LABELS)
            out.append([m.group(1), labels, float(m.group(3))])
    return out


class Scraper(threading.Thread):
    """Scrapes every second until stopped; a failed scrape records up = 0 and nothing else."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.out = open(path, "w")
        self.stopping = threading.Event()

    def run(self):
        next_at = time.time()
        while not self.stopping.is_set():
            t = time.time()
            try:
                body = urllib.request.urlopen("http://%s/metrics" % METRICS, timeout=0.8).read().decode()
                samples = [["up", dict(INSTANCE_LABELS), 1.0]] + parse(body)
            except OSError:
                samples = [["up", dict(INSTANCE_LABELS), 0.0]]
            self.out.write(json.dumps({"t": t, "samples": samples}) + "\n")
            self.out.flush()
            next_at += 1
            self.stopping.wait(max(0, next_at - time.time()))


class Relay:
    def __init__(self, daemon, work):
        self.daemon, self.work, self.proc = daemon, work, None

    def start(self):
        log = open(os.path.join(self.work, "daemon.log"), "ab")
        self.proc = subprocess.Popen(
            [self.daemon, "--config", os.path.join(self.work, "iptrtpproxy.cfg"),
             "--control", "unix:" + os.path.join(self.work, "control.sock"),
             "--journal", os.path.join(self.work, "journal"), "--metrics", METRICS, "--workers", "2",
             "--log-prefix", "none", "--log-level", "notice"], stderr=log)
        return ControlClient("unix:" + os.path.join(self.work, "control.sock"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def allocate(relay, switchboard, first, count, per_second):
    """Calls first..first+count-1 on a switchboard, paced; returns (handles, streams lines)."""
    gate_a, gate_b, _, _ = SWITCHBOARDS[switchboard]
    handles, streams = [], []
    for i in range(first, first + count):
        port = 50000 + 2 * i
        handle, pa, pb = relay.request(
            f"alloc {switchboard} a.always-learn=0 a.rtp={NET}10:{port} a.rtcp={NET}10:{port + 1} "
            f"b.always-learn=0 b.rtp={NET}20:{port} b.rtcp={NET}20:{port + 1}").split()
        handles.append((switchboard, handle))
        streams.append(f"{NET}10:{port} {gate_a}:{pa} {NET}20:{port}")
        streams.append(f"{NET}20:{port} {gate_b}:{pb} {NET}10:{port}")
        time.sleep(1.0 / per_second)
    return handles, streams


def load(rtpload, work, name, streams, seconds):
    path = os.path.join(work, name + ".streams")
    with open(path, "w") as f:
        f.write("\n".join(streams) + "\n")
    return subprocess.Popen([rtpload, "--streams", path, "--rate", "50", "--duration", str(seconds),
                             "--warmup", "0.5", "--drain", "0.5"],
                            stdout=open(os.path.join(work, name + ".json"), "w"), stderr=subprocess.DEVNULL)


def stray(gate, port, seconds, pps):
    """Packets from a host no session expects: the relay drops them (unknown-source)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((NET + "66", 0))
    end = time.time() + seconds
    while time.time() < end:
        s.sendto(b"\x80\x00" + b"\x00" * 170, (gate, port))
        time.sleep(1.0 / pps)
    s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--daemon", default="build/iptrtpproxyd")
    p.add_argument("--rtpload", default="build/rtpload")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="ipt-dashboard-run.")
    with open(os.path.join(work, "iptrtpproxy.cfg"), "w") as f:
        for name, (ga, gb, port, count) in SWITCHBOARDS.items():
            f.write(f"[switchboard:{name}]\naddr-a = {ga}\naddr-b = {gb}\nport-a = {port}\nport-b = {port}\n"
                    f"max-sess = {count}\nexpires-timeout = 120\n\n")
    relay = Relay(a.daemon, work)
    scraper = Scraper(a.out)
    loads = []
    try:
        control = relay.start()
        scraper.start()
        time.sleep(3)
        # Wave 1: 120 calls (240 streams) over 6 s, then RTP both ways for 62 s (across the restart).
        h1p, s1p = allocate(control, "public", 0, 80, 20)
        h1c, s1c = allocate(control, "carrier", 80, 40, 20)
        loads.append(load(a.rtpload, work, "wave1", s1p + s1c, 62))
        time.sleep(6)
        # Wave 2: 100 more calls for 22 s, media one way only (side a's callers to side b), so
        # that the directions differ.
        h2p, s2p = allocate(control, "public", 120, 60, 15)
        h2c, s2c = allocate(control, "carrier", 180, 40, 15)
        loads.append(load(a.rtpload, work, "wave2", s2p[0::2] + s2c[0::2], 22))
        time.sleep(4)
        # A stray sender hits a latched public session's gate A port for 8 s.
        gate_a, _, _, _ = SWITCHBOARDS["public"]
        stray(gate_a, int(s1p[0].split()[1].split(":")[1]), 8, 300)
        loads[-1].wait()
        # Wave 2's calls end: deleted over 5 s.
        for sw, handle in h2p + h2c:
            control.request(f"delete {sw} {handle}")
            time.sleep(0.05)
        time.sleep(4)
        # The relay restarts from its journal (sessions and latches restored); wave 1 goes on.
        relay.stop()
        time.sleep(3)
        control = relay.start()
        loads[0].wait()
        time.sleep(3)
        for sw, handle in h1p + h1c:
            control.request(f"delete {sw} {handle}")
            time.sleep(0.02)
        time.sleep(4)
    finally:
        for l in loads:
            if l.poll() is None:
                l.kill()
                l.wait()
        scraper.stopping.set()
        scraper.join(3)
        relay.stop()
        for name in ("wave1", "wave2"):
            path = os.path.join(work, name + ".json")
            if os.path.exists(path):
                print(name, open(path).read().strip())
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
