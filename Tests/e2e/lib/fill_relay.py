#!/usr/bin/env python3
"""fill_relay.py SOCKET SWITCHBOARD COUNT: allocates COUNT sessions on a relay's Unix control
socket (one connection, one request at a time, as docs/control-protocol.md describes; each
named by a Call-ID fillN@e2e and From tag tN) and prints
each session's id as the module writes it (SWITCHBOARD:ID/CREATED). Exits 1 on the first refusal."""
import socket
import sys

path, switchboard, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
f = s.makefile("rwb")
greeting = f.readline().decode()
if "auth=none" not in greeting:
    sys.exit(f"unexpected greeting: {greeting!r}")
for i in range(1, count + 1):
    port = 10000 + 2 * (i % 4000)  # below the test's gate ports (a relay never sends to itself)
    f.write(f"iptrtp/2 {i} alloc {switchboard} call-id=fill{i}@e2e from-tag=t{i} a.rtp=127.0.0.1:{port} a.rtcp=127.0.0.1:{port + 1}\n".encode())
    f.flush()
    reply = f.readline().decode().split()
    if len(reply) < 4 or reply[2] != "ok":
        sys.exit(f"alloc {i} refused: {' '.join(reply)}")
    print(f"{switchboard}:{reply[3]}")
