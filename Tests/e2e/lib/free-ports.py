#!/usr/bin/env python3
"""Prints the first port of a run of COUNT free ports inside [LO, HI], picked at random.

    free-ports.py LO HI COUNT [--not P...] [--addr A]... [--tcp] [--hold PID]

A port is free when UDP (and, with --tcp, also TCP) can bind it on every --addr (default
127.0.0.1); ports given after --not are avoided. Runs of 10 or more start on a multiple of 10.

Many ports of a test are bound only now and then (a phone's port during a call, a gate's port
while a session lives), so "bindable now" does not keep two tests that run side by side apart.
With --hold PID the run is also reserved for process PID, in a file under RESERVATIONS (one file
per run, named PID-FIRST-COUNT), and no other reservation of a live process may overlap it. The
owner removes its files when it ends (Tests/e2e/lib/harness.sh does at cleanup); files of dead
processes are dropped by the next caller."""
import argparse
import fcntl
import os
import random
import socket
import sys

RESERVATIONS = os.environ.get("IPT_E2E_PORTS_DIR", "/tmp/ipt-e2e-ports")


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


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def reserved_ports():
    """Ports reserved by live processes; reservations of dead ones are removed."""
    taken = set()
    for name in os.listdir(RESERVATIONS):
        parts = name.split("-")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        pid, first, count = (int(p) for p in parts)
        if alive(pid):
            taken.update(range(first, first + count))
        else:
            try:
                os.unlink(os.path.join(RESERVATIONS, name))
            except FileNotFoundError:
                pass
    return taken


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lo", type=int)
    p.add_argument("hi", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--not", dest="avoid", type=int, nargs="*", default=[])
    p.add_argument("--addr", action="append", default=[])
    p.add_argument("--tcp", action="store_true")
    p.add_argument("--hold", type=int, metavar="PID")
    a = p.parse_args()
    addrs = a.addr or ["127.0.0.1"]
    kinds = [socket.SOCK_DGRAM] + ([socket.SOCK_STREAM] if a.tcp else [])
    avoid = set(a.avoid)
    step = 10 if a.count >= 10 else 1
    first = a.lo + (-a.lo) % step
    starts = list(range(first, a.hi - a.count + 2, step))
    random.shuffle(starts)

    lock = None
    if a.hold is not None:
        os.makedirs(RESERVATIONS, exist_ok=True)
        try:
            os.chmod(RESERVATIONS, 0o1777)   # shared by every user's test runs, like /tmp
        except PermissionError:
            pass
        # Read-only is enough for flock, and any user can open it so; released when this process ends.
        lock = os.open(os.path.join(RESERVATIONS, "lock"), os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(lock, fcntl.LOCK_EX)
        avoid |= reserved_ports()

    for start in starts:
        run = range(start, start + a.count)
        if avoid.intersection(run):
            continue
        if all(bindable(k, addr, port) for port in run for addr in addrs for k in kinds):
            if a.hold is not None:
                open(os.path.join(RESERVATIONS, "%d-%d-%d" % (a.hold, start, a.count)), "w").close()
            print(start)
            return 0
    print("no run of %d free ports in %d-%d" % (a.count, a.lo, a.hi), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
