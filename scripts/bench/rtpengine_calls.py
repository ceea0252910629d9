#!/usr/bin/env python3
"""Sets up N calls on a running rtpengine through its ng protocol (bencode over UDP) and writes a
calls file (see callplan.py): offer with the caller's SDP, answer with the callee's SDP; the port
in the offer's reply is where the callee sends, the port in the answer's reply where the caller sends.

    rtpengine_calls.py --ng 127.0.0.30:44990 --calls 500 --out calls.txt
"""
import argparse
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bencode  # noqa: E402
import callplan  # noqa: E402


class NGClient:
    def __init__(self, host: str, port: int, timeout: float = 0.5):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.serial = 0

    def wait_until_up(self, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.call({"command": "ping"})
                return
            except (socket.timeout, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"rtpengine did not answer ping at {self.addr} within {seconds} s")
                time.sleep(0.1)

    def call(self, command: dict) -> dict:
        self.serial += 1
        cookie = f"bench{os.getpid()}_{self.serial}".encode()
        self.sock.sendto(cookie + b" " + bencode.encode(command), self.addr)
        while True:
            data, _ = self.sock.recvfrom(65535)
            got, _, body = data.partition(b" ")
            if got == cookie:
                break
        reply = bencode.decode(body)
        if reply.get("result") not in ("ok", "pong"):
            raise RuntimeError(f"rtpengine {command['command']}: {reply.get('error-reason', reply)}")
        return reply


def media_endpoint(sdp: str) -> tuple[str, int]:
    ip = re.search(r"^c=IN IP4 (\S+)", sdp, re.M).group(1)
    port = int(re.search(r"^m=audio (\d+)", sdp, re.M).group(1))
    return ip, port


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ng", required=True, help="rtpengine ng address HOST:PORT")
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    host, port = a.ng.rsplit(":", 1)
    ng = NGClient(host, int(port))
    ng.wait_until_up()
    rows = []
    for i in range(a.calls):
        call_id, from_tag, to_tag = f"bench-call-{i}", f"caller-{i}", f"callee-{i}"
        common = {"call-id": call_id, "from-tag": from_tag, "replace": ["origin", "session-connection"],
                  "ICE": "remove"}
        offer = ng.call(dict(common, command="offer", sdp=callplan.sdp(callplan.caller(i), 1000 + i)))
        answer = ng.call(dict(common, command="answer", **{"to-tag": to_tag},
                              sdp=callplan.sdp(callplan.callee(i), 2000 + i)))
        callee_sends_to = media_endpoint(offer["sdp"])
        caller_sends_to = media_endpoint(answer["sdp"])
        rows.append((callplan.caller(i), caller_sends_to, callplan.callee(i), callee_sends_to))
    callplan.write_calls(a.out, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
