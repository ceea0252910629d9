#!/usr/bin/env python3
"""CPU time (ns) used so far by the given processes and all their descendants, every thread
counted (sum of /proc/PID/task/*/schedstat), printed as "TOTAL RELAY": RELAY is the part of the
media relay's processes (rtpengine, or the module's embedded relay process, known by its threads
named ipt-* or by having threads at all: Kamailio's own processes are single-threaded). For "proxy and relay CPU per call": Kamailio's main process (its workers and the
module's embedded relay are its children) plus an external relay.

    tree_cpu.py PID [PID...]
"""
import os
import sys


def children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


RELAY_NAMES = ("rtpengine", "ipt-")


def cpu_ns(pid):
    """(CPU ns of all threads, whether the process is a media relay)."""
    total, relay = 0, False
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, False
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                relay = relay or f.read().startswith(RELAY_NAMES)
        except (OSError, ValueError, IndexError):
            pass
    return total, relay or len(tids) > 1


kids = children_map()
seen, todo, total, relay_total = set(), [int(p) for p in sys.argv[1:]], 0, 0
while todo:
    pid = todo.pop()
    if pid in seen:
        continue
    seen.add(pid)
    ns, is_relay = cpu_ns(pid)
    total += ns
    relay_total += ns if is_relay else 0
    todo.extend(kids.get(pid, []))
print(total, relay_total)
