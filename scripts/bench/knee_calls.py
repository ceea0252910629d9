#!/usr/bin/env python3
"""Calls for the namespace benchmarks (kernel.sh, knee.sh): sets them up on a relay, sends the
learning packets, and says when our relay has offloaded them.

    knee_calls.py setup ours --control unix:PATH --streams N --caller IP:BASE --callee IP:BASE
    knee_calls.py setup rtpengine --ng HOST:PORT --streams N --caller IP:BASE --callee IP:BASE
        -> one line per call, "PORT_A PORT_B": the caller (IP, BASE+2i) sends to the relay's PORT_A,
           the callee (IP, BASE+2i) to PORT_B (both on the relay's one address)
    knee_calls.py learn --from IP:BASE --to IP --ports P1,P2,... [--count 3]
        sends COUNT packets from IP:BASE+2i to IP:Pi (run in the caller's or the callee's namespace)
    knee_calls.py offloaded --control unix:PATH   -> how many streams say "offloaded" (the RTCP ones,
        which the bench never sends on, stay in user space)
"""
import argparse
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callplan  # noqa: E402
from iptrtpproxy_calls import ControlClient  # noqa: E402
from rtpengine_calls import NGClient, media_endpoint  # noqa: E402


def endpoint(text: str) -> tuple[str, int]:
    ip, port = text.rsplit(":", 1)
    return ip, int(port)


def setup_ours(a) -> list[tuple[int, int]]:
    relay = ControlClient(a.control)
    (cip, cbase), (eip, ebase) = endpoint(a.caller), endpoint(a.callee)
    rows = []
    for i in range(a.streams):
        cp, ep = cbase + 2 * i, ebase + 2 * i
        payload = relay.request(
            f"alloc {a.switchboard} a.rtp={cip}:{cp} a.rtcp={cip}:{cp + 1} b.rtp={eip}:{ep} b.rtcp={eip}:{ep + 1}")
        _, port_a, port_b = payload.split()
        rows.append((int(port_a), int(port_b)))
    return rows


def setup_rtpengine(a) -> list[tuple[int, int]]:
    host, port = endpoint(a.ng)
    ng = NGClient(host, port)
    ng.wait_until_up()
    (cip, cbase), (eip, ebase) = endpoint(a.caller), endpoint(a.callee)
    rows = []
    for i in range(a.streams):
        common = {"call-id": f"knee-{i}", "from-tag": f"caller-{i}", "replace": ["origin", "session-connection"],
                  "ICE": "remove"}
        offer = ng.call(dict(common, command="offer", sdp=callplan.sdp((cip, cbase + 2 * i), 1000 + i)))
        answer = ng.call(dict(common, command="answer", **{"to-tag": f"callee-{i}"},
                              sdp=callplan.sdp((eip, ebase + 2 * i), 2000 + i)))
        rows.append((media_endpoint(answer["sdp"])[1], media_endpoint(offer["sdp"])[1]))
    return rows


def learn(a) -> None:
    ip, base = endpoint(getattr(a, "from"))
    for i, port in enumerate(int(p) for p in a.ports.split(",")):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, base + 2 * i))
        for n in range(a.count):
            s.sendto(b"\x80\x00" + n.to_bytes(2, "big") + bytes(168), (a.to, port))
        s.close()


def offloaded(a) -> str:
    relay = ControlClient(a.control, seconds=2)
    sessions = json.loads(relay.request("list"))["sessions"]
    return str(sum(1 for x in sessions for side in x["sides"] for st in side["streams"] if st.get("offloaded")))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("relay", choices=["ours", "rtpengine"])
    s.add_argument("--control")
    s.add_argument("--ng")
    s.add_argument("--switchboard", default="bench")
    s.add_argument("--streams", type=int, required=True)
    s.add_argument("--caller", required=True)
    s.add_argument("--callee", required=True)
    l = sub.add_parser("learn")
    l.add_argument("--from", required=True)
    l.add_argument("--to", required=True)
    l.add_argument("--ports", required=True)
    l.add_argument("--count", type=int, default=3)
    o = sub.add_parser("offloaded")
    o.add_argument("--control", required=True)
    a = p.parse_args()
    if a.cmd == "setup":
        rows = setup_ours(a) if a.relay == "ours" else setup_rtpengine(a)
        for port_a, port_b in rows:
            print(port_a, port_b)
    elif a.cmd == "learn":
        learn(a)
    else:
        print(offloaded(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
