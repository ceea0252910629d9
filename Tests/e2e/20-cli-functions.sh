#!/usr/bin/env bash
# The command-line tool behaves as the foundation issue promises: SDP out on stdout, selects on
# stderr, --json with null where a select has no value and the exact body bytes in sdp_base64, exit 0 / 1 / 64 / 69 / 78 (the statuses of README section 8.5), --version,
# --state carrying sessions from alloc to update and delete, and the dry run refusing what the relay refuses.
source "$(dirname "$0")/lib/harness.sh"
set -o pipefail
e2e_init cli-functions
cd "$E2E_ROOT"
cli=build/iptrtpproxy
[ -x "$cli" ] || { e2e_log "$cli is missing (make build)"; exit 1; }
work=$E2E_DIR
cfg=iptrtpproxy.cfg.example
check() { e2e_check "$@"; }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(d$2)"; }

# alloc: rewritten SDP on stdout, selects on stderr, exit 0.
$cli alloc --config $cfg --switchboard pub --flags 1 --state "$work/s" < examples/sdp/offer.sdp >"$work/out" 2>"$work/err"
check "alloc exits 0" test $? -eq 0
check "alloc points c= at gate B" grep -q $'^c=IN IP4 127.0.0.2\r$' "$work/out"
check "alloc rewrites m= and a=rtcp" grep -q $'^a=rtcp:35001\r$' "$work/out"
check "alloc keeps the o= line" grep -q $'^o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r$' "$work/out"
check "alloc prints session_ids on stderr" grep -Eq '^session_ids=pub:0/[0-9]+,1/[0-9]+$' "$work/err"
ids=$(sed -n 's/^session_ids=//p' "$work/err")

# update --json with the state file.
$cli update --config $cfg --session-ids "$ids" --flags 0 --state "$work/s" --json < examples/sdp/answer.sdp >"$work/u.json"
check "update exits 0" test $? -eq 0
check "update result is 1" test "$(json "$work/u.json" "['result']")" = 1
check "update json has null switchboard" test "$(json "$work/u.json" "['switchboard']")" = None
check "update json answer points at gate A" grep -q 'c=IN IP4 127.0.0.1' "$work/u.json"
check "update frees the refused video" test "$(json "$work/u.json" "['session_ids']")" = "${ids%%,*},"
ids=$(json "$work/u.json" "['session_ids']")

# malformed SDP: exit 1, input returned unchanged in json, error given.
printf 'v=0\r\nv=0\r\n' > "$work/bad.sdp"
$cli alloc --config $cfg --switchboard pub --flags 1 --json < "$work/bad.sdp" >"$work/bad.json"
check "malformed SDP exits 1" test $? -eq 1
check "malformed SDP result is -1" test "$(json "$work/bad.json" "['result']")" = -1
check "malformed SDP is returned unchanged" test "$(json "$work/bad.json" "['sdp']" | tr -d '\r\n')" = "v=0v=0"
check "malformed SDP error names the line" test "$(json "$work/bad.json" "['error']")" = "alloc: SDP line 2: a second v= line"

# --json keeps every byte: sdp_base64 is the body exactly as the plain output gives it (bytes 0x80-0xFF
# are not UTF-8: sdp shows them as U+FFFD), on success and on -1; sdp_ip is "" when nothing was rewritten.
python3 -c 'import sys; sys.stdout.buffer.write(b"v=0\r\no=a 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=x-bytes:" + bytes(range(0x80, 0x100)) + b"\r\n")' > "$work/bytes.sdp"
$cli alloc --config $cfg --switchboard pub --flags 1 < "$work/bytes.sdp" >"$work/bytes.out" 2>/dev/null
$cli alloc --config $cfg --switchboard pub --flags 1 --json < "$work/bytes.sdp" >"$work/bytes.json"
check "json sdp_base64 is the rewritten body byte for byte" python3 -c "import json,base64,sys; sys.exit(base64.b64decode(json.load(open('$work/bytes.json'))['sdp_base64']) != open('$work/bytes.out','rb').read())"
check "json sdp_base64 carries bytes 0x80-0xFF" python3 -c "import json,base64,sys; sys.exit(bytes(range(0x80, 0x100)) not in base64.b64decode(json.load(open('$work/bytes.json'))['sdp_base64']))"
$cli alloc --config $cfg --switchboard nope --flags 1 --json < "$work/bytes.sdp" >"$work/bytes-fail.json"
check "json sdp_base64 on -1 is the input byte for byte" python3 -c "import json,base64,sys; sys.exit(base64.b64decode(json.load(open('$work/bytes-fail.json'))['sdp_base64']) != open('$work/bytes.sdp','rb').read())"
check "json sdp_ip is the empty string when nothing was rewritten" test "$(json "$work/bytes-fail.json" "['sdp_ip']")" = ""

# The dry run refuses what the relay refuses: an IPv6 caller on gate A (IPv4): -1, the relay's reason.
printf 'v=0\r\no=a 1 1 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n' > "$work/v6.sdp"
$cli alloc --config $cfg --switchboard pub --flags 1 --json < "$work/v6.sdp" >"$work/v6.json"
check "an IPv6 client on an IPv4 gate exits 1" test $? -eq 1
check "an IPv6 client on an IPv4 gate is refused as the relay refuses it" grep -q 'side a client \[2001:db8::7\]:49170 is IPv6 but gate A is IPv4' "$work/v6.json"

# Media the relay does not carry keep the caller's address; one SDP may not take more than max-call-sessions.
printf 'v=0\r\no=a 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\nm=application 5060 TCP/BFCP *\r\na=setup:active\r\n' > "$work/bfcp.sdp"
$cli alloc --config $cfg --switchboard pub --flags 1 < "$work/bfcp.sdp" >"$work/bfcp.out" 2>/dev/null
check "BFCP over TCP gets a c= with the caller's address, after its m= line" grep -Pzq 'm=application 5060 TCP/BFCP \*\r\nc=IN IP4 192.0.2.10\r\na=setup:active\r\n' "$work/bfcp.out"
$cli alloc --config $cfg --switchboard-param 'name=pub;max-call-sessions=1' --switchboard pub --flags 1 < examples/sdp/offer.sdp >/dev/null 2>"$work/cap.err"
check "an SDP over max-call-sessions exits 1" test $? -eq 1
check "an SDP over max-call-sessions says so" grep -q 'more than the 1 one call may hold (max-call-sessions); nothing allocated' "$work/cap.err"

# unknown switchboard: exit 1; a bad file: 78 (EX_CONFIG) with file and line; a bad command line: 64 (EX_USAGE).
$cli alloc --config $cfg --switchboard nope --flags 1 < examples/sdp/offer.sdp >/dev/null 2>"$work/err"
check "unknown switchboard exits 1" test $? -eq 1
printf '[switchboard:x]\naddr-a = 10.0.0.999\n' > "$work/bad.cfg"
$cli alloc --config "$work/bad.cfg" --switchboard x --flags 1 < examples/sdp/offer.sdp >/dev/null 2>"$work/err"
check "bad cfg exits 78" test $? -eq 78
check "bad cfg names file and line" grep -q "bad.cfg:2: 'addr-a' must be an IPv4 or IPv6 address" "$work/err"
$cli alloc --config $cfg --switchboard-param 'name=*;bogus=1' --switchboard pub --flags 1 < examples/sdp/offer.sdp >/dev/null 2>"$work/err"
check "bad switchboard param exits 64" test $? -eq 64
$cli alloc --config $cfg < examples/sdp/offer.sdp >/dev/null 2>&1
check "missing option exits 64 (usage)" test $? -eq 64
$cli alloc --config "$work/none.cfg" --switchboard pub --flags 1 < examples/sdp/offer.sdp >/dev/null 2>&1
check "unreadable cfg exits 78" test $? -eq 78
$cli info --control "unix:$work/no-relay.sock" >/dev/null 2>"$work/err"
check "a relay that cannot be reached exits 69" test $? -eq 69
$cli alloc --control "unix:$work/no-relay.sock" --switchboard pub --flags 1 < examples/sdp/offer.sdp >/dev/null 2>&1
check "a function whose relay cannot be reached exits 69" test $? -eq 69

# --version and the bad-argument status of every binary (one version string, one convention).
version=$($cli --version)
check "iptrtpproxy --version prints X.Y.Z" grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$' <<<"$version"
for b in iptrtpproxyd rtpload iptrtpproxy-bench; do
  check "$b --version is $version" test "$(build/$b --version)" = "$version"
  build/$b --no-such-option >/dev/null 2>&1
  check "$b with a bad argument exits 64" test $? -eq 64
done
$cli --no-such-option >/dev/null 2>&1
check "iptrtpproxy with a bad argument exits 64" test $? -eq 64
build/iptrtpproxyd --config "$work/bad.cfg" --control "unix:$work/d.sock" >/dev/null 2>"$work/err"
check "iptrtpproxyd with a bad cfg exits 78" test $? -eq 78
check "iptrtpproxyd names the bad cfg's line" grep -q "bad.cfg:2:" "$work/err"
build/iptrtpproxyd --config $cfg --metrics nowhere >/dev/null 2>&1
check "iptrtpproxyd with a bad --metrics exits 64" test $? -eq 64

# find, adjust-timeout, delete.
$cli find --config $cfg --gate-a 127.0.0.2:5060 --gate-b 127.0.0.1 --json >"$work/f.json"
check "find reports direction 0" test "$(json "$work/f.json" "['direction']")" = 0
$cli adjust-timeout --config $cfg --session-ids "$ids" --flags 1 --state "$work/s" >/dev/null 2>&1
check "adjust-timeout exits 0" test $? -eq 0
$cli delete --config $cfg --session-ids "$ids" --state "$work/s" >/dev/null 2>&1
check "delete exits 0" test $? -eq 0
check "state is empty after delete" test ! -s "$work/s"
$cli update --config $cfg --session-ids "$ids" --flags 0 --state "$work/s" < examples/sdp/answer.sdp >/dev/null 2>&1
check "update of deleted sessions exits 1" test $? -eq 1

e2e_finish
