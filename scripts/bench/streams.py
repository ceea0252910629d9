#!/usr/bin/env python3
"""Turns the first C calls of a calls file into an rtpload streams file (SOURCE DESTINATION SINK).

One-way: the caller's RTP only (caller -> relay -> callee). Both ways: also the callee's RTP
(callee -> relay -> caller), so C calls give 2C streams.

    streams.py calls.txt --calls 500 --both-ways > streams.txt
"""
import argparse
import sys

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("calls_file")
p.add_argument("--calls", type=int, required=True)
p.add_argument("--both-ways", action="store_true")
a = p.parse_args()
rows = [line.split() for line in open(a.calls_file) if line.strip()]
if len(rows) < a.calls:
    sys.exit(f"streams.py: {a.calls_file} has {len(rows)} calls, {a.calls} wanted")
for caller, caller_sends_to, callee, callee_sends_to in rows[:a.calls]:
    print(caller, caller_sends_to, callee)
    if a.both_ways:
        print(callee, callee_sends_to, caller)
