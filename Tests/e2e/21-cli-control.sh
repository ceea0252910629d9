#!/usr/bin/env bash
# The CLI drives a running relay with --control: alloc and update set up a call whose RTP really
# flows through build/iptrtpproxyd (UDP on 127.0.21.0/24), list and stats show its counters,
# delete frees it, and a dead relay makes a function return -1 (exit 1).
source "$(dirname "$0")/lib/harness.sh"
set -o pipefail
e2e_init cli-control
cd "$E2E_ROOT"
cli=build/iptrtpproxy
daemon=build/iptrtpproxyd
for b in "$cli" "$daemon"; do [ -x "$b" ] || { e2e_log "$b is missing (make build)"; exit 1; }; done
work=$E2E_DIR
check() { e2e_check "$@"; }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print(d$2)"; }

# One free block of ports on every address the test binds: the gates' 16 (8 sessions), then the
# caller's and the callee's RTP port.
base=$(e2e_free_ports 20000 32000 20 --addr 127.0.21.1 --addr 127.0.21.2 --addr 127.0.21.10 --addr 127.0.21.20) ||
  { e2e_log "no free ports"; exit 1; }
caller_port=$((base + 16)) callee_port=$((base + 17))
e2e_log "gates 127.0.21.1/.2 port $base, caller 127.0.21.10:$caller_port, callee 127.0.21.20:$callee_port"

cat > "$work/ipt.cfg" <<CFG
[switchboard:cli]
addr-a = 127.0.21.1
addr-b = 127.0.21.2
port-a = $base
max-sess = 8
CFG
"$daemon" --config "$work/ipt.cfg" --control "unix:$work/ctl.sock" --workers 1 2>"$work/daemon.log" &
pid=$!
e2e_track "$pid"
wait_for 10 "iptrtpproxyd's control socket $work/ctl.sock" test -S "$work/ctl.sock" ||
  { cat "$work/daemon.log"; e2e_fail "iptrtpproxyd starts"; e2e_finish; }
ctl="unix:$work/ctl.sock"

printf 'v=0\r\no=- 1 1 IN IP4 127.0.21.10\r\ns=-\r\nc=IN IP4 127.0.21.10\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n' "$caller_port" > "$work/offer.sdp"
printf 'v=0\r\no=- 2 2 IN IP4 127.0.21.20\r\ns=-\r\nc=IN IP4 127.0.21.20\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n' "$callee_port" > "$work/answer.sdp"

$cli alloc --control "$ctl" --switchboard cli --flags 1 --json < "$work/offer.sdp" > "$work/a.json"
check "alloc through the relay exits 0" test $? -eq 0
ids=$(json "$work/a.json" "['session_ids']")
check "offer now points at gate B" grep -q 'c=IN IP4 127.0.21.2' "$work/a.json"
portb=$(json "$work/a.json" "['sdp']" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p')
$cli update --control "$ctl" --session-ids "$ids" --flags 0 --json < "$work/answer.sdp" > "$work/u.json"
check "update through the relay exits 0" test $? -eq 0
porta=$(json "$work/u.json" "['sdp']" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p')
check "answer points at gate A" grep -q 'c=IN IP4 127.0.21.1' "$work/u.json"

# The caller sends to gate A; the callee must receive from gate B (each packet within 2 s).
check "RTP flows both ways through the relay" python3 - "$porta" "$portb" "$caller_port" "$callee_port" <<'PY'
import socket, sys
porta, portb, caller_port, callee_port = (int(a) for a in sys.argv[1:5])
caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); caller.bind(("127.0.21.10", caller_port))
callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); callee.bind(("127.0.21.20", callee_port))
callee.settimeout(2); caller.settimeout(2)
for i in range(5):
    caller.sendto(b"\x80\x00" + bytes([0, i]) + b"x" * 168, ("127.0.21.1", porta))
    data, src = callee.recvfrom(2048)
    assert src == ("127.0.21.2", portb), src
    callee.sendto(data, ("127.0.21.2", portb))
    back, src = caller.recvfrom(2048)
    assert src == ("127.0.21.1", porta), src
print("       relayed 5 packets each way")
PY

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
$cli delete --control "$ctl" --session-ids "$ids" > /dev/null 2>"$work/d2.err"
check "deleting it again exits 0 and prints the relay's refusal (the CLI waits for it)" \
  bash -c "[ $? -eq 0 ] && grep -q 'warning: delete cli:.*no session' '$work/d2.err'"

check "the relay stops on SIGTERM" e2e_stop "$pid"
$cli alloc --control "$ctl" --switchboard cli --flags 1 < "$work/offer.sdp" > /dev/null 2>"$work/err"
check "a dead relay makes alloc exit 69 (EX_UNAVAILABLE)" test $? -eq 69
check "and says why" grep -q "relay" "$work/err"
e2e_finish
