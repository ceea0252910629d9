#!/usr/bin/env python3
"""Reads a sipp -trace_msg log and prints one line per SIP message with its SDP's c= and m= lines:

    sent     INVITE sip:service@127.0.0.1:15060 SIP/2.0 | c=IN IP4 127.0.0.1 | m=audio 46200 RTP/AVP 8
    received SIP/2.0 200 OK | c=IN IP4 127.0.0.1 | m=audio 46000 RTP/AVP 8

so that the end-to-end tests can compare what a phone sent with what the other phone received.
A message with a body ends with `| body=LENGTH:SHA1` (first 12 hex digits), to compare bodies
byte for byte.
Usage: sip-trace.py LOG [LOG...]
       sip-trace.py --body sent|received PREFIX LOG   # the body of the first such message
"""
import hashlib
import re
import signal
import sys

HEADER = re.compile(r"^(UDP|TCP) message (sent|received)", re.M)


def messages(text):
    marks = list(HEADER.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        chunk = text[m.end():end]
        # Drop the rest of the header line ("[len] bytes :") and the separator of the next entry.
        body = chunk.split("\n", 1)[1] if "\n" in chunk else ""
        body = re.sub(r"\n-{20,}.*$", "", body, flags=re.S)
        lines = [l.rstrip("\r") for l in body.strip("\n").split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        sdp = [l.strip() for l in lines if re.match(r"^\s*[cm]=", l)]
        if "" in lines:
            body = "\r\n".join(lines[lines.index("") + 1:]).encode()
            if body.strip():
                sdp.append("body=%d:%s" % (len(body), hashlib.sha1(body).hexdigest()[:12]))
        yield m.group(2), lines[0].strip(), sdp, lines


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # callers may stop reading early (grep -q)
    if len(sys.argv) == 5 and sys.argv[1] == "--body":
        want, prefix, path = sys.argv[2:]
        with open(path, errors="replace") as f:
            for direction, first, _, lines in messages(f.read()):
                if direction == want and first.startswith(prefix) and "" in lines:
                    print("\n".join(lines[lines.index("") + 1:]).strip("\n"))
                    return 0
        return 1
    for path in sys.argv[1:]:
        with open(path, errors="replace") as f:
            for direction, first, sdp, _ in messages(f.read()):
                print(" | ".join([f"{direction:8} {first}"] + sdp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
