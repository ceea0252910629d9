#!/usr/bin/env bash
# `make demo`: shows what the module does to a call's SDP, with the command-line tool and the
# example switchboards (no relay, no SIP proxy needed for this part).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/iptrtpproxy
cfg=iptrtpproxy.cfg.example
state=$(mktemp)
trap 'rm -f "$state"' EXIT

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "Switchboards in $cfg"
grep -E '^\[|^(addr|port)-' "$cfg"

section "Caller's offer (INVITE), from gate A's side of switchboard 'pub'"
cat examples/sdp/offer.sdp | tr -d '\r'

section "iptrtpproxy_alloc(\"3\", \"pub\"): the offer as the callee sees it"
$cli alloc --config "$cfg" --switchboard pub --flags 3 --state "$state" < examples/sdp/offer.sdp 2>"$state.sel" | tr -d '\r'
cat "$state.sel"; ids=$(sed -n 's/^session_ids=//p' "$state.sel")

section "Callee's answer (200 OK), from gate B's side"
cat examples/sdp/answer.sdp | tr -d '\r'

section "iptrtpproxy_update(\"0\", \"$ids\"): the answer as the caller sees it (video refused: its session is freed)"
$cli update --config "$cfg" --session-ids "$ids" --flags 0 --state "$state" < examples/sdp/answer.sdp 2>"$state.sel" | tr -d '\r'
cat "$state.sel"; ids=$(sed -n 's/^session_ids=//p' "$state.sel")

section "iptrtpproxy_adjust_timeout(\"1\", \"$ids\") on 200 OK, then iptrtpproxy_delete at BYE"
$cli adjust-timeout --config "$cfg" --session-ids "$ids" --flags 1 --state "$state" 2>&1 | grep -E '^(result|error)'
$cli delete --config "$cfg" --session-ids "$ids" --state "$state" --json
echo "sessions left: $(wc -l < "$state")"
rm -f "$state.sel"

# ---------------------------------------------------------------------------------------------
# Part 2: the real thing. Kamailio loads build/iptrtpproxy.so (embedded relay) with
# examples/kamailio.cfg on loopback; sipp places a call carrying RTP both ways.
rm -f "$state"
trap - EXIT
set +e
if ! command -v kamailio >/dev/null || ! command -v sipp >/dev/null || [ ! -f build/iptrtpproxy.so ]; then
  section "Kamailio part skipped: needs kamailio, sipp (make deps) and build/iptrtpproxy.so (make)"
  exit 0
fi
source Tests/e2e/sipp/harness.sh
KAM_CALL_MS=3000
kam_init demo >/dev/null
editcap -r "$(dpkg -L sip-tester 2>/dev/null | grep -m1 'g711a.pcap$' || echo /usr/share/sip-tester/g711a.pcap)" "$KAM_PCAP" 1-110 >/dev/null 2>&1

section "Kamailio with the module, embedded relay, on udp:127.0.0.1:$KAM_SIP_PORT"
grep -E '^(loadmodule IPT_MODULE|modparam\("iptrtpproxy")' examples/kamailio.cfg
kam_start || { echo "kamailio did not start; log:"; cat "$KAM_DIR/kamailio.log"; exit 1; }
grep -o 'iptrtpproxy: switchboards:.*' "$KAM_DIR/kamailio.log"
grep -o 'iptrtpproxy: relay started.*' "$KAM_DIR/kamailio.log"
echo "Kamailio's processes (kamcmd core.ps); the relay runs in its own:"
kam_rpc core.ps 2>/dev/null | paste - - | sed 's/^/  /; s/\t/  /' 

section "A call: sipp caller :$UAC_SIP_PORT -> Kamailio -> sipp callee :$UAS_SIP_PORT, each playing ~3 s of G.711 RTP"
kam_capture_start
(sleep 2.5; kam_rpc iptrtpproxy.list >"$KAM_DIR/during.txt" 2>&1) &
lister=$!
if kam_call uas-call.xml uac-call.xml demo; then echo "INVITE / 180 / 200 / ACK / RTP / BYE: done"; else echo "the call failed"; fi
wait "$lister"
kam_capture_stop

body() { python3 Tests/e2e/sipp/sip-trace.py --body "$1" "$2" "$KAM_DIR/demo-$3.log" | sed 's/^/    /'; }
section "The offer (INVITE): as the caller sent it, and as the callee received it"
echo "  caller sent:";     body sent "INVITE" uac
echo "  callee received:"; body received "INVITE" uas
section "The answer (200 OK): as the callee sent it, and as the caller received it"
echo "  callee sent:";     body sent "SIP/2.0 200 OK" uas
echo "  caller received:"; body received "SIP/2.0 200 OK" uac
# The relay draws session slots at random: read which one the call got from the callee's offer.
kam_read_session "$KAM_DIR/demo-uas.log" || true
echo "  (the call got session $SID: port $PA on gate A, facing the caller, and $PB on gate B, facing the callee)"

section "During the call: kamcmd iptrtpproxy.list"
cat "$KAM_DIR/during.txt"

section "RTP on the wire (tshark on lo)"
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
echo "  caller -> gate A -> relay -> gate B -> callee: $to_callee packets"
echo "  callee -> gate B -> relay -> gate A -> caller: $to_caller packets"

section "After BYE: what the script logged, and the relay"
grep -o '<script>: call .*' "$KAM_DIR/kamailio.log"
kam_rpc iptrtpproxy.stats | grep -E '^\s(sessions-[a-z]+|packets|bytes|drops): '
kam_rpc iptrtpproxy.list | grep -E '^\s(total|count): '

section "Stopping Kamailio and its relay"
kam_stop
echo "done"
