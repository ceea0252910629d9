#!/usr/bin/env python3
"""rpc_pages.py URL LIMIT: reads iptrtpproxy.list page by page over JSON-RPC (POST URL) until
OFFSET reaches the answer's total; prints every session's id, one a line. Checks on the way that
every page has the same total, holds min(LIMIT, total - OFFSET) records, and that each record
has the fields of a session (with the Call-ID fill_relay.py gave it); exits 1 (with the reason) otherwise."""
import json
import re
import sys
import urllib.error
import urllib.request

url, limit = sys.argv[1], int(sys.argv[2])
FIELDS = ["id", "switchboard", "host", "call-id", "from-tag", "port-a", "port-b", "address-a", "address-b",
          "latched-a", "latched-b", "packets-a", "packets-b", "bytes-a", "bytes-b", "drops-a",
          "drops-b", "age", "idle"]


def call(method, params):
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {params}: HTTP {e.code} {e.read()[:300]!r}")
    except (OSError, ValueError) as e:
        sys.exit(f"{method} {params}: {e!r}")


offset, total, pages = 0, None, 0
while total is None or offset < total:
    answer = call("iptrtpproxy.list", [offset, limit])
    if "result" not in answer:
        sys.exit(f"page at {offset}: {answer}")
    page = answer["result"]
    if total is None:
        total = page["total"]
    if page["total"] != total or page["offset"] != offset:
        sys.exit(f"page at {offset}: total {page['total']} offset {page['offset']}, expected {total} {offset}")
    want = min(limit, total - offset)
    if page["count"] != want or len(page["sessions"]) != want:
        sys.exit(f"page at {offset}: {page['count']} / {len(page['sessions'])} records, expected {want}")
    for s in page["sessions"]:
        missing = [f for f in FIELDS if f not in s]
        if missing or not re.fullmatch(r"fill[0-9]+@e2e", s["call-id"]) or not isinstance(s["port-a"], int):
            sys.exit(f"record {s} lacks {missing} or has the wrong types")
        print(s["id"])
    offset += limit
    pages += 1
print(f"pages {pages}", file=sys.stderr)
