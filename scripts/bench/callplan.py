"""Where the bench's phones live, and the calls file that ties them to a relay.

Call i has a caller on CALLER_IP and a callee on CALLEE_IP, both at port BASE_PORT + 2i (RTP; the
RTCP port +1 is announced in SDP but rtpload sends RTP only). A calls file has one line per call:

    CALLER  CALLER_SENDS_TO  CALLEE  CALLEE_SENDS_TO        (a.b.c.d:port each)

where *_SENDS_TO are the relay's ports for that call (or the other phone itself, for the direct
baseline without a relay).
"""

CALLER_IP = "127.0.0.21"
CALLEE_IP = "127.0.0.22"
BASE_PORT = 40000          # rtpload endpoints: 40000-41999 (bench's range is 40000-44999)
MAX_CALLS = 1000


def caller(i: int) -> tuple[str, int]:
    return CALLER_IP, BASE_PORT + 2 * i


def callee(i: int) -> tuple[str, int]:
    return CALLEE_IP, BASE_PORT + 2 * i


def fmt(ep: tuple[str, int]) -> str:
    return f"{ep[0]}:{ep[1]}"


def sdp(ep: tuple[str, int], session_id: int) -> str:
    """A plain G.711 offer/answer for one audio stream at `ep`."""
    ip, port = ep
    return (
        "v=0\r\n"
        f"o=- {session_id} 1 IN IP4 {ip}\r\n"
        "s=bench\r\n"
        f"c=IN IP4 {ip}\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n"
    )


def write_calls(path: str, rows) -> None:
    """rows: (caller, caller_sends_to, callee, callee_sends_to) tuples of (ip, port)."""
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(fmt(ep) for ep in r) + "\n")
