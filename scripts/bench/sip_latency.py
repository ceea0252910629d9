#!/usr/bin/env python3
"""Call set-up latency from a caller's sipp message trace (-trace_msg -message_file FILE): for each
call, the time from the first INVITE sent to the first 200 of that INVITE received, in ms with
microsecond stamps (sipp's own rtd/-trace_rtt figures are whole milliseconds). One line per
call, in the order the INVITEs were sent.

    sip_latency.py FILE
"""
import datetime
import re
import sys

STAMP = re.compile(r"^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$", re.M)
CALL_ID = re.compile(r"^Call-ID:\s*(\S+)", re.M | re.I)

text = open(sys.argv[1], errors="replace").read()
marks = list(STAMP.finditer(text))
sent, answered, order = {}, {}, []
for n, m in enumerate(marks):
    block = text[m.end(): marks[n + 1].start() if n + 1 < len(marks) else len(text)]
    lines = block.strip("\n").split("\n")
    if len(lines) < 3:
        continue
    direction, start = lines[0], next((l for l in lines[1:] if l.strip()), "")
    cid = CALL_ID.search(block)
    if not cid:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    cid = cid.group(1)
    if "sent" in direction and start.startswith("INVITE ") and cid not in sent:
        sent[cid] = t
        order.append(cid)
    elif ("received" in direction and start.startswith("SIP/2.0 200")
          and re.search(r"^CSeq:\s*\d+ INVITE", block, re.M | re.I) and cid not in answered):
        answered[cid] = t
for cid in order:
    if cid in answered:
        print(f"{(answered[cid] - sent[cid]) * 1000:.3f}")
