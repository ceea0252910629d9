#!/usr/bin/env python3
"""Prints the first port of a run of COUNT free UDP ports on 127.0.0.1 inside [LO, HI], picked at
random (so that tests running one after the other do not reuse ports still in TIME_WAIT-like use),
avoiding the ports given after --not.  Usage: free-ports.py LO HI COUNT [--not P...]"""
import random
import socket
import sys


def free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    lo, hi, count = (int(a) for a in sys.argv[1:4])
    avoid = {int(a) for a in sys.argv[5:]} if len(sys.argv) > 4 and sys.argv[4] == "--not" else set()
    step = 10 if count >= 10 else 1
    starts = list(range(lo - lo % step + (step if lo % step else 0), hi - count + 2, step))
    random.shuffle(starts)
    for start in starts:
        run = range(start, start + count)
        if avoid.intersection(run):
            continue
        if all(free(p) for p in run):
            print(start)
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
