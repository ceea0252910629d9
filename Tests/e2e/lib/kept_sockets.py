#!/usr/bin/env python3
"""kept_sockets.py SOCKET SWITCHBOARD GATE_A PORT_A GATE_B PORT_B MODE: plays an operator's relay
whose sessions outnumber its descriptors, over the daemon's Unix control socket (one connection,
one request at a time). Prints "ok WHAT" / "FAIL WHAT" per check (e2e_checks_from).

MODE "fill": allocate until the relay refuses (it runs out of descriptors before sessions), note
how many; delete them all; check that some sessions kept their ports bound (the file limit caps
how many); allocate again while those slots rest (resurrection-timeout), so only new slots can be
taken: the relay must close kept sockets rather than refuse, and reach the same count as before.
MODE "none" (--keep-sockets 0): after a delete the ports are free at once.
MODE "killed-before" (then SIGKILL of the relay) and "killed-after" (on the relay started again
with the same journal): sessions ended on a relay that then dies leave no port bound, and the new
relay allocates as many sessions as the file limit allows. The ids go through the file named by KEPT_IDS."""
import errno
import os
import socket
import sys

from relay_control import Checks, UnixControl

path, switchboard = sys.argv[1], sys.argv[2]
gate_a, port_a, gate_b, port_b = sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
mode = sys.argv[7]
check = Checks()
req = UnixControl(path).req


def alloc_until_refused(limit):
    ids, refusal = [], ""
    for i in range(limit):
        st, payload = req(f"alloc {switchboard} a.rtp=127.0.0.1:{10000 + 2 * i} a.rtcp=127.0.0.1:{10001 + 2 * i}")
        if st != "ok":
            refusal = payload
            break
        ids.append(payload.split()[0])
    return ids, refusal


def bound(address, port):
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind((address, port))
        return False
    except OSError as e:
        return e.errno == errno.EADDRINUSE
    finally:
        t.close()


def ports_of(session):
    n = int(session.split("/")[0])
    return [(gate_a, port_a + 2 * n), (gate_a, port_a + 2 * n + 1), (gate_b, port_b + 2 * n), (gate_b, port_b + 2 * n + 1)]


if mode == "fill":
    first, refusal = alloc_until_refused(200)
    check(10 < len(first) < 200 and "open files" in refusal.lower(),
          f"the relay runs out of descriptors before sessions: {len(first)} sessions, then '{refusal}'")
    for sid in first:
        st, _ = req(f"delete {switchboard} {sid}")
        if st != "ok":
            check(False, f"delete {sid}")
    kept = [sid for sid in first if all(bound(a, p) for a, p in ports_of(sid))]
    freed = [sid for sid in first if not any(bound(a, p) for a, p in ports_of(sid))]
    check(0 < len(kept) < len(first) and len(kept) + len(freed) == len(first),
          f"{len(kept)} ended sessions keep their four ports bound (live and kept within 3/4 of the file limit), "
          f"the other {len(freed)} closed theirs")
    second, refusal = alloc_until_refused(200)
    reused = set(sid.split("/")[0] for sid in second) & set(sid.split("/")[0] for sid in first)
    check(not reused, "the ended sessions' slots rest (resurrection-timeout): none is handed out again")
    check(len(second) == len(first),
          f"with those slots resting, new sessions get the kept sockets' descriptors: {len(second)} sessions as before "
          f"({len(first)}), then '{refusal}'")
    check(not any(any(bound(a, p) for a, p in ports_of(sid)) for sid in kept),
          "the kept sockets were closed for them")
    st, payload = req("ping")
    check(st == "ok", "the relay still answers")
elif mode == "killed-before":
    ids, refusal = alloc_until_refused(8)
    check(len(ids) == 8, f"8 sessions ({refusal})")
    for sid in ids:
        req(f"delete {switchboard} {sid}")
    check(all(all(bound(a, p) for a, p in ports_of(sid)) for sid in ids), "the 8 ended sessions keep their ports bound")
    with open(os.environ["KEPT_IDS"], "w") as out:
        out.write(" ".join(ids))
elif mode == "killed-after":
    ids = open(os.environ["KEPT_IDS"]).read().split()
    check(len(ids) == 8 and not any(any(bound(a, p) for a, p in ports_of(sid)) for sid in ids),
          "the killed relay's kept sockets are gone with it: the new relay holds none of their ports")
    again, refusal = alloc_until_refused(30)
    check(len(again) == 30, f"the new relay allocates 30 sessions under the same file limit ({refusal})")
    st, _ = req("ping")
    check(st == "ok", "the new relay answers")
else:
    st, payload = req(f"alloc {switchboard} a.rtp=127.0.0.1:10000 a.rtcp=127.0.0.1:10001")
    if check(st == "ok", "alloc"):
        sid = payload.split()[0]
        check(all(bound(a, p) for a, p in ports_of(sid)), "a live session's four ports are bound")
        req(f"delete {switchboard} {sid}")
        check(not any(bound(a, p) for a, p in ports_of(sid)), "--keep-sockets 0: its ports are free once it is deleted")
check.exit()
