#!/usr/bin/env python3
"""fill_relay.py SOCKET SWITCHBOARD COUNT: allocates COUNT sessions on a relay's Unix control
socket (one connection, one request at a time, as docs/control-protocol.md describes; each
named by a Call-ID fillN@e2e and From tag tN) and prints
each session's id as the module writes it (SWITCHBOARD:ID/CREATED). Exits 1 on the first refusal."""
import sys

from relay_control import UnixControl

path, switchboard, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
control = UnixControl(path)
for i in range(1, count + 1):
    port = 10000 + 2 * (i % 4000)  # below the test's gate ports (a relay never sends to itself)
    status, payload = control.req(f"alloc {switchboard} call-id=fill{i}@e2e from-tag=t{i} a.rtp=127.0.0.1:{port} a.rtcp=127.0.0.1:{port + 1}")
    if status != "ok":
        sys.exit(f"alloc {i} refused: {status} {payload}")
    print(f"{switchboard}:{payload.split()[0]}")
