#!/usr/bin/env bash
# ICE force (issue 13 item 3) with real WebRTC peers: two aiortc peer connections (Debian's
# python3-aiortc: ICE, DTLS-SRTP, Opus), each in its own network namespace, call each other through
# iptrtpproxyd in a third (caller 203.0.113.2 — relay, gate A 203.0.113.1 / gate B 198.51.100.1 —
# callee 198.51.100.2; IP forwarding off, so media can only pass through the relay's sockets).
# Each SDP goes through the CLI (alloc on the offer, update on the answer) on a switchboard with
# ice=force: each peer sees only the relay's host candidates and credentials with a=ice-lite,
# completes ICE against the relay's ICE-lite answers, runs DTLS end to end through it and receives
# audio. Run twice: with the caller's full offer, and with it made a trickle offer (port 9 at
# 0.0.0.0, no candidates), which the relay must learn from the caller's checks alone.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/three-hosts.sh"
set -o pipefail
e2e_init relay-ice-browsers ip
cd "$E2E_ROOT"
cli=build/iptrtpproxy daemon=build/iptrtpproxyd py=/usr/bin/python3
for b in "$cli" "$daemon"; do [ -x "$b" ] || { e2e_log "$b is missing (make build)"; exit 1; }; done
if [ "$(id -u)" -ne 0 ]; then echo "skip: needs root (network namespaces)"; exit 0; fi
"$py" -c "import aiortc" 2>/dev/null || { e2e_log "python3-aiortc is not installed (make deps)"; exit 1; }
work=$E2E_DIR
check() { e2e_check "$@"; }

tag=ipti$$
caller=${tag}c relay=${tag}r callee=${tag}e
E2E_CLEANUP_HOOKS+=(three_hosts_delete)
three_hosts_create || { e2e_fail "the namespaces are created"; e2e_finish; }
ip netns exec "$relay" sysctl -qw net.ipv4.ip_forward=0

cat > "$work/ipt.cfg" <<CFG
[switchboard:web]
addr-a = 203.0.113.1
addr-b = 198.51.100.1
port-a = 40000
max-sess = 8
ice = force
CFG
ip netns exec "$relay" "$daemon" --config "$work/ipt.cfg" --control "unix:$work/ctl.sock" --workers 1 2>"$work/daemon.log" &
e2e_track $!
wait_for 10 "the relay's control socket" test -S "$work/ctl.sock" || { cat "$work/daemon.log"; e2e_fail "iptrtpproxyd starts"; e2e_finish; }
ctl="unix:$work/ctl.sock"
field() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# A trickle offer as a browser sends it before it has gathered (RFC 8840): port 9, 0.0.0.0, no candidates.
trickle() {
  sed -E -e 's/^(m=audio )[0-9]+/\19/' -e 's/^c=IN IP4 .*/c=IN IP4 0.0.0.0\r/' -e '/^a=candidate/d' -e '/^a=end-of-candidates/d' \
    -e 's/^a=rtcp:[0-9]+.*/a=rtcp:9 IN IP4 0.0.0.0\r/' -e 's/^(t=.*)$/\1\na=ice-options:trickle\r/' "$1"
}

call() {
  local name=$1 mode=$2 dir=$work/$1
  mkdir -p "$dir"
  ip netns exec "$caller" "$py" Tests/e2e/lib/webrtc_peer.py offer "$dir" 2>"$dir/offer.log" & local a=$!
  ip netns exec "$callee" "$py" Tests/e2e/lib/webrtc_peer.py answer "$dir" 2>"$dir/answer.log" & local b=$!
  e2e_track $a; e2e_track $b
  wait_for 20 "the caller's offer" test -s "$dir/offer.sdp" || { e2e_fail "$name: aiortc makes an offer"; return; }
  if [ "$mode" = trickle ]; then trickle "$dir/offer.sdp" > "$dir/offer.in.sdp"; else cp "$dir/offer.sdp" "$dir/offer.in.sdp"; fi
  $cli alloc --control "$ctl" --switchboard web --flags 1 --json < "$dir/offer.in.sdp" > "$dir/alloc.json"
  check "$name: alloc on the offer exits 0" test $? -eq 0
  field "$dir/alloc.json" "['sdp']" > "$dir/offer.relayed.tmp" && mv "$dir/offer.relayed.tmp" "$dir/offer.relayed.sdp"
  local ids; ids=$(field "$dir/alloc.json" "['session_ids']")
  wait_for 20 "the callee's answer" test -s "$dir/answer.sdp" || { e2e_fail "$name: aiortc answers"; return; }
  $cli update --control "$ctl" --session-ids "$ids" --flags 0 --json < "$dir/answer.sdp" > "$dir/update.json"
  check "$name: update on the answer exits 0" test $? -eq 0
  field "$dir/update.json" "['sdp']" > "$dir/answer.relayed.tmp" && mv "$dir/answer.relayed.tmp" "$dir/answer.relayed.sdp"

  local ported
  ported=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$dir/offer.relayed.sdp" | tr -d '\r')
  check "$name: the callee sees only the relay's candidates, with a=ice-lite" \
    eval "grep -q '^a=ice-lite' '$dir/offer.relayed.sdp' && grep -q 'a=candidate:1 1 UDP 2130706431 198.51.100.1 $ported typ host' '$dir/offer.relayed.sdp' && ! grep -q '203.0.113.2' '$dir/offer.relayed.sdp'"
  check "$name: the caller sees only the relay's candidates on gate A" \
    eval "grep -q '^a=ice-lite' '$dir/answer.relayed.sdp' && grep -q 'a=candidate:1 1 UDP 2130706431 203.0.113.1 ' '$dir/answer.relayed.sdp' && ! grep -q '198.51.100.2' '$dir/answer.relayed.sdp'"
  check "$name: the DTLS fingerprints pass untouched" \
    eval "diff <(grep '^a=fingerprint' '$dir/offer.sdp') <(grep '^a=fingerprint' '$dir/offer.relayed.sdp') && diff <(grep '^a=fingerprint' '$dir/answer.sdp') <(grep '^a=fingerprint' '$dir/answer.relayed.sdp')"

  wait_for 40 "both peers' results" eval "test -s '$dir/offer.json' && test -s '$dir/answer.json'"
  for role in offer answer; do
    check "$name: the $role side is connected through ICE and DTLS" test "$(field "$dir/$role.json" "['state']" 2>/dev/null)" = connected
    check "$name: the $role side received 50 audio frames" test "$(field "$dir/$role.json" "['frames']" 2>/dev/null)" -ge 50
  done
  check "$name: the caller's ICE pair ends at gate A" test "$(field "$dir/offer.json" "['remote'][0]" 2>/dev/null)" = 203.0.113.1
  check "$name: the callee's ICE pair ends at gate B" test "$(field "$dir/answer.json" "['remote'][0]" 2>/dev/null)" = 198.51.100.1
  $cli list --control "$ctl" --json > "$dir/list.json"
  touch "$dir/stop"
  e2e_checks_from "$name: the relay latched both peers by their checks and forwarded both ways" "$py" - "$dir/list.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["sessions"][0]
a, b = s["sides"][0]["streams"][0], s["sides"][1]["streams"][0]
print(("ok" if str(a["latched"]).startswith("203.0.113.2:") else "FAIL") + " side A latched at the caller: " + str(a["latched"]))
print(("ok" if str(b["latched"]).startswith("198.51.100.2:") else "FAIL") + " side B latched at the callee: " + str(b["latched"]))
pa, pb = a["counters"]["packets"], b["counters"]["packets"]
print(("ok" if pa >= 50 and pb >= 50 else "FAIL") + f" packets both ways: {pa} / {pb}")
PY
  $cli delete --control "$ctl" --session-ids "$ids" >/dev/null 2>&1
  check "$name: delete exits 0" test $? -eq 0
  e2e_stop $a >/dev/null; e2e_stop $b >/dev/null
}

call full full
call trickle trickle
e2e_finish
