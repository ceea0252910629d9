#!/usr/bin/env python3
"""journal_full.py SOCKET SWITCHBOARD JOURNAL: plays the calls of a relay whose journal's file
system is full, over the daemon's Unix control socket (one connection, one request at a time).
Prints "ok WHAT" / "FAIL WHAT" per check (e2e_checks_from).

It allocates 40 sessions and updates them again and again, far past what the file system holds,
then deletes them. Every request must still be answered "ok" (a journal that cannot write costs
the restart, not the call) and the relay must stay up: a journal written through a memory mapping
must never meet a full disk in a page fault (SIGBUS), only in a call that can fail."""
import os
import sys

from relay_control import Checks, UnixControl

path, switchboard, journal = sys.argv[1], sys.argv[2], sys.argv[3]
check = Checks()
req = UnixControl(path).req

sessions, refused = [], []
for i in range(40):
    st, payload = req(f"alloc {switchboard} a.rtp=127.0.0.1:{10000 + 2 * i} a.rtcp=127.0.0.1:{10001 + 2 * i}")
    (sessions if st == "ok" else refused).append(payload.split()[0] if st == "ok" else payload)
check(len(sessions) == 40, f"40 sessions allocated ({refused[:1]})")

answers = {}
for round_ in range(60):
    for n, sid in enumerate(sessions):
        port = 20000 + 2 * ((round_ * 40 + n) % 5000)
        st, _ = req(f"update {switchboard} {sid} b.rtp=127.0.0.2:{port} b.rtcp=127.0.0.2:{port + 1}")
        answers[st] = answers.get(st, 0) + 1
check(answers == {"ok": 2400}, f"2,400 updates with the journal's file system full: all answered ok ({answers})")
size = os.stat(journal).st_size if os.path.exists(journal) else -1
check(0 < size <= 64 * 1024, f"the journal holds what fits ({size} bytes of a 64 KiB file system)")
deleted = sum(1 for sid in sessions if req(f"delete {switchboard} {sid}")[0] == "ok")
check(deleted == 40, f"the 40 sessions deleted ({deleted})")
st, _ = req("ping")
check(st == "ok", "the relay still answers")
check.exit()
