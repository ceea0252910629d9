#!/usr/bin/env bash
# The CLI drives a running relay with --control: alloc and update set up a call whose RTP really
# flows through build/iptrtpproxyd (UDP on 127.0.21.0/24), list and stats show its counters,
# delete frees it, and a dead relay makes a function return -1 (exit 1).
set -uo pipefail
cd "$(dirname "$0")/../.."
cli=build/iptrtpproxy
daemon=build/iptrtpproxyd
work=$(mktemp -d /tmp/iptrtpproxy-e2e-cli.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; sleep 0.3; kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
fails=0; total=0
check() {
  local name=$1; shift; total=$((total + 1))
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(d$2)"; }

cat > "$work/ipt.cfg" <<CFG
[switchboard:cli]
addr-a = 127.0.21.1
addr-b = 127.0.21.2
port-a = 37100
max-sess = 8
CFG
"$daemon" --config "$work/ipt.cfg" --control "unix:$work/ctl.sock" --workers 1 2>"$work/daemon.log" &
pid=$!
for _ in $(seq 1 100); do [ -S "$work/ctl.sock" ] && break; sleep 0.05; done
ctl="unix:$work/ctl.sock"

printf 'v=0\r\no=- 1 1 IN IP4 127.0.21.10\r\ns=-\r\nc=IN IP4 127.0.21.10\r\nt=0 0\r\nm=audio 46100 RTP/AVP 0\r\n' > "$work/offer.sdp"
printf 'v=0\r\no=- 2 2 IN IP4 127.0.21.20\r\ns=-\r\nc=IN IP4 127.0.21.20\r\nt=0 0\r\nm=audio 46200 RTP/AVP 0\r\n' > "$work/answer.sdp"

$cli alloc --control "$ctl" --switchboard cli --flags 1 --json < "$work/offer.sdp" > "$work/a.json"
check "alloc through the relay exits 0" test $? -eq 0
ids=$(json "$work/a.json" "['session_ids']")
check "offer now points at gate B" grep -q 'c=IN IP4 127.0.21.2' "$work/a.json"
portb=$(json "$work/a.json" "['sdp']" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p')
$cli update --control "$ctl" --session-ids "$ids" --flags 0 --json < "$work/answer.sdp" > "$work/u.json"
check "update through the relay exits 0" test $? -eq 0
porta=$(json "$work/u.json" "['sdp']" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p')
check "answer points at gate A" grep -q 'c=IN IP4 127.0.21.1' "$work/u.json"

# Caller 127.0.21.10:46100 sends to gate A; callee 127.0.21.20:46200 must receive from gate B.
python3 - "$porta" "$portb" <<'PY'
import socket, sys
porta, portb = int(sys.argv[1]), int(sys.argv[2])
caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); caller.bind(("127.0.21.10", 46100))
callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); callee.bind(("127.0.21.20", 46200))
callee.settimeout(2); caller.settimeout(2)
for i in range(5):
    caller.sendto(b"\x80\x00" + bytes([0, i]) + b"x" * 168, ("127.0.21.1", porta))
    data, src = callee.recvfrom(2048)
    assert src == ("127.0.21.2", portb), src
    callee.sendto(data, ("127.0.21.2", portb))
    back, src = caller.recvfrom(2048)
    assert src == ("127.0.21.1", porta), src
print("relayed 5 packets each way")
PY
check "RTP flows both ways through the relay" test $? -eq 0

$cli list --control "$ctl" --json > "$work/l.json"
check "list --json shows the session" test "$(python3 -c "import json; print(len(json.load(open('$work/l.json'))['sessions']))")" = 1
$cli list --control "$ctl" > "$work/l.txt"
check "list prints a table" grep -q "^cli:" "$work/l.txt"
$cli stats --control "$ctl" > "$work/s.txt"
check "stats answers" test -s "$work/s.txt"
$cli info --control "$ctl" > "$work/i.txt"
check "info names the switchboard" grep -q "switchboard cli" "$work/i.txt"
$cli delete --control "$ctl" --session-ids "$ids" > /dev/null 2>&1
check "delete exits 0" test $? -eq 0
$cli list --control "$ctl" --json > "$work/l2.json"
check "no session after delete" test "$(python3 -c "import json; print(len(json.load(open('$work/l2.json'))['sessions']))")" = 0

kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=""
$cli alloc --control "$ctl" --switchboard cli --flags 1 < "$work/offer.sdp" > /dev/null 2>"$work/err"
check "a dead relay makes alloc exit 1" test $? -eq 1
check "and says why" grep -q "relay" "$work/err"

echo "cli-control: $((total - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
