#!/usr/bin/env python3
"""CPU a relay burns with its calls set up and no packet flowing (timers, polling), in ms per
second: the floor under "relay CPU µs/pkt" at low packet rates. Same clock as rtpload (the sum of
/proc/PID/task/*/schedstat).

    idle_cpu.py PID [SECONDS]
"""
import os
import sys
import time


def cpu_ns(pid: int) -> int:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


pid, seconds = int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
before, t0 = cpu_ns(pid), time.monotonic()
time.sleep(seconds)
after, t1 = cpu_ns(pid), time.monotonic()
print(f"{(after - before) / 1e6 / (t1 - t0):.2f}")
