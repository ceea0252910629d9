#!/usr/bin/env python3
"""CPU per call of a running iptrtpproxyd (and of a redis-server, if given), driven by
scripts/bench/redis.sh: CALLS calls over the relay's control socket, each `alloc` (offer),
`update` (answer), `delete` (hang-up), one request after the other on one connection. CPU is
utime+stime of the whole process (every thread) from /proc/PID/stat, read before the first call and
after the last (for Redis: after its hash for the switchboard is empty again, i.e. the relay's
writer has caught up, or after 10 s). Prints one JSON line.

    redis_cpu.py CONTROL CALLS RELAY_PID [REDIS_PID REDIS_PORT REDIS_DB KEY]
"""
import json
import os
import socket
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def redis(port, db, *args):
    return subprocess.run(["redis-cli", "-p", str(port), "-n", str(db), *args],
                          capture_output=True, text=True, timeout=10).stdout.strip()


def commands_processed(port):
    """Commands Redis served so far, but for this script's own (INFO, HLEN)."""
    total = 0
    for line in redis(port, 0, "info", "commandstats").splitlines():
        if line.startswith("cmdstat_") and not line.startswith(("cmdstat_info:", "cmdstat_hlen:")):
            total += int(line.split("calls=")[1].split(",")[0])
    return total


def main():
    control, calls, relay_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rd = sys.argv[4:8] if len(sys.argv) >= 8 else None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(control)
    s.settimeout(5)
    f = s.makefile("rwb")
    f.readline()  # greeting
    n = 0

    def req(cmd):
        nonlocal n
        n += 1
        f.write(f"iptrtp/2 {n} {cmd}\n".encode())
        f.flush()
        r = f.readline().decode().rstrip("\n").split(" ", 3)
        if r[2] != "ok":
            sys.exit(f"redis_cpu: '{cmd}': {' '.join(r[2:])}")
        return r[3] if len(r) > 3 else ""

    redis_cmds0 = commands_processed(rd[1]) if rd else 0
    redis0 = cpu_s(int(rd[0])) if rd else 0.0
    relay0 = cpu_s(relay_pid)
    t0 = time.monotonic()
    for i in range(calls):
        port = 20000 + 2 * (i % 5000)
        sid = req(f"alloc redis a.rtp=127.0.6.10:{port} a.rtcp=127.0.6.10:{port + 1}").split()[0]
        req(f"update redis {sid} b.rtp=127.0.6.20:{port} b.rtcp=127.0.6.20:{port + 1}")
        req(f"delete redis {sid}")
    wall = time.monotonic() - t0
    relay1 = cpu_s(relay_pid)
    out = {"calls": calls, "wall_s": round(wall, 2), "calls_per_s": round(calls / wall),
           "relay_us_per_call": round((relay1 - relay0) / calls * 1e6, 1)}
    if rd:
        deadline = time.monotonic() + 10
        left = redis(rd[1], rd[2], "hlen", rd[3])
        while left != "0" and time.monotonic() < deadline:
            time.sleep(0.05)
            left = redis(rd[1], rd[2], "hlen", rd[3])
        redis1 = cpu_s(int(rd[0]))
        out.update({"redis_us_per_call": round((redis1 - redis0) / calls * 1e6, 1),
                    "redis_commands_per_call": round((commands_processed(rd[1]) - redis_cmds0) / calls, 2),
                    "left_in_redis": int(left or -1)})
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
