#!/usr/bin/env python3
"""Prints the first port of a run of COUNT free ports inside [LO, HI], picked at random (so that
tests running one after the other, or side by side, do not reuse ports still in use).

    free-ports.py LO HI COUNT [--not P...] [--addr A]... [--tcp]

A port is free when UDP (and, with --tcp, also TCP) can bind it on every --addr (default
127.0.0.1); ports given after --not are avoided. Runs of 10 or more start on a multiple of 10."""
import argparse
import random
import socket
import sys


def bindable(kind, addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, kind)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lo", type=int)
    p.add_argument("hi", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--not", dest="avoid", type=int, nargs="*", default=[])
    p.add_argument("--addr", action="append", default=[])
    p.add_argument("--tcp", action="store_true")
    a = p.parse_args()
    addrs = a.addr or ["127.0.0.1"]
    kinds = [socket.SOCK_DGRAM] + ([socket.SOCK_STREAM] if a.tcp else [])
    avoid = set(a.avoid)
    step = 10 if a.count >= 10 else 1
    first = a.lo + (-a.lo) % step
    starts = list(range(first, a.hi - a.count + 2, step))
    random.shuffle(starts)
    for start in starts:
        run = range(start, start + a.count)
        if avoid.intersection(run):
            continue
        if all(bindable(k, addr, port) for port in run for addr in addrs for k in kinds):
            print(start)
            return 0
    print("no run of %d free ports in %d-%d" % (a.count, a.lo, a.hi), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
