#!/usr/bin/env python3
"""Sets up N calls on a running iptrtpproxyd over its control socket (docs/control-protocol.md,
`iptrtp/2` text lines) and writes a calls file (see callplan.py). The caller is the client on
gate A, the callee the client on gate B: `alloc` names both clients' RTP and RTCP addresses (what
the SDP of offer and answer would carry), and the reply `ID/CREATED PORT_A PORT_B` says where each
sends: caller -> gate A:PORT_A, callee -> gate B:PORT_B.

    iptrtpproxy_calls.py --control unix:/tmp/x/control.sock --switchboard bench \
        --gate-a 127.0.0.31 --gate-b 127.0.0.32 --calls 500 --out calls.txt
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callplan  # noqa: E402

VERSION = "iptrtp/2"


class ControlClient:
    def __init__(self, target: str, seconds: float = 10.0):
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.sock = self._connect(target)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"relay control {target} not reachable within {seconds} s")
                time.sleep(0.1)
        self.sock.settimeout(5)
        self.reader = self.sock.makefile("rb")
        self.serial = 0
        # Version 2: the relay speaks first (docs/control-protocol.md); the bench uses the Unix
        # socket, which asks for no authentication.
        greeting = self.reader.readline().decode().rstrip("\r\n").split(" ")
        if greeting[:3] != [VERSION, "-", "hello"]:
            raise RuntimeError(f"relay did not greet with {VERSION}: {' '.join(greeting)}")
        if greeting[-1] != "auth=none":
            raise RuntimeError("the bench drives the relay over its Unix socket (no authentication)")

    @staticmethod
    def _connect(target: str) -> socket.socket:
        kind, _, where = target.partition(":")
        if kind == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(where)
        elif kind == "tcp":
            host, port = where.rsplit(":", 1)
            s = socket.create_connection((host, int(port)))
        else:
            raise ValueError(f"control target must be unix:PATH or tcp:HOST:PORT, not {target}")
        return s

    def request(self, line: str) -> str:
        self.serial += 1
        rid = f"b{self.serial}"
        self.sock.sendall(f"{VERSION} {rid} {line}\n".encode())
        while True:
            reply = self.reader.readline().decode().rstrip("\r\n")
            if not reply:
                raise RuntimeError("relay closed the control connection")
            parts = reply.split(" ", 3)
            if len(parts) >= 3 and parts[1] == rid:
                break
        if parts[2] != "ok":
            raise RuntimeError(f"relay: {line.split()[0]}: {parts[3] if len(parts) > 3 else reply}")
        return parts[3] if len(parts) > 3 else ""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--control", required=True, help="unix:PATH or tcp:HOST:PORT")
    p.add_argument("--switchboard", required=True)
    p.add_argument("--gate-a", required=True, help="gate A address (the callers' side)")
    p.add_argument("--gate-b", required=True, help="gate B address (the callees' side)")
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    relay = ControlClient(a.control)
    relay.request("ping")
    rows = []
    for i in range(a.calls):
        (cip, cport), (eip, eport) = callplan.caller(i), callplan.callee(i)
        payload = relay.request(
            f"alloc {a.switchboard} "
            f"a.always-learn=0 a.rtp={cip}:{cport} a.rtcp={cip}:{cport + 1} "
            f"b.always-learn=0 b.rtp={eip}:{eport} b.rtcp={eip}:{eport + 1}")
        _, port_a, port_b = payload.split()
        rows.append((callplan.caller(i), (a.gate_a, int(port_a)), callplan.callee(i), (a.gate_b, int(port_b))))
    callplan.write_calls(a.out, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
