#!/usr/bin/env bash
# A call through Kamailio with the module and its embedded relay: INVITE / 180 / 200 / ACK / BYE,
# RTP played by both phones. Checks that each phone sees the relay's address and port in the other
# side's SDP, that RTP went through the relay both ways, and that BYE freed the session.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-call
kam_start || kam_finish
kam_capture_start

# While the call is up, ask the relay for its sessions through Kamailio's RPC until it shows the
# call's (it can only show it between the INVITE and the BYE).
list_shows_call() {
  kam_rpc iptrtpproxy.list 2>&1 | kam_sessions >"$KAM_DIR/list-during-call.txt" && grep -qE "^loop:[0-9]+/" "$KAM_DIR/list-during-call.txt"
}
wait_for 15 "kamcmd iptrtpproxy.list to show the call's session" list_shows_call &
lister=$!
KAM_CALL_MS=2500
kam_check "call completes (INVITE/180/200/ACK/BYE) through the record-routing proxy" \
  kam_call uas-call.xml uac-call.xml call
wait "$lister"
listed=$?
kam_capture_stop

trace() { kam_trace "$KAM_DIR/call-$1.log"; }
kam_check "the callee's offer names a relay port of gate B (the session the relay drew)" kam_read_session "$KAM_DIR/call-uas.log"
kam_log "the call got session $SID: ports $PA (gate A), $PB (gate B)"
kam_check "caller offered its own media port" \
  grep -q "^sent     INVITE .*m=audio $UAC_MEDIA_PORT " <(trace uac)
kam_check "callee got the offer rewritten to gate B (port $PB)" \
  grep -q "^received INVITE .*c=IN IP4 127.0.0.1 | m=audio $PB " <(trace uas)
kam_check "callee answered with its own media port" \
  grep -q "^sent     SIP/2.0 200 OK | .*m=audio $UAS_MEDIA_PORT " <(trace uas)
kam_check "caller got the answer rewritten to gate A (port $PA)" \
  grep -q "^received SIP/2.0 200 OK | .*m=audio $PA " <(trace uac)
kam_check "the session ids rode in the Record-Route cookie" \
  grep -q "Record-Route: <sip:127.0.0.1:$KAM_SIP_PORT;lr;ftag=.*;ipt=loop:$SID/[0-9]*;iptd=1>" "$KAM_DIR/call-uas.log"

to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed: caller -> callee $to_callee packets, callee -> caller $to_caller packets"
kam_check "RTP relayed caller -> callee (gate B -> callee)" [ "$to_callee" -gt 20 ]
kam_check "RTP relayed callee -> caller (gate A -> caller)" [ "$to_caller" -gt 20 ]

kam_check "during the call, kamcmd iptrtpproxy.list showed its session" [ "$listed" -eq 0 ]
stats=$(kam_stats_allocated_deleted)
kam_log "relay stats: sessions allocated/deleted $stats"
kam_check "relay stats: one session allocated and deleted" [ "$stats" = 1/1 ]
kam_check "BYE deleted the call's sessions" [ "$(kam_logged "ended: sessions loop:$SID/")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
# relay_keep_sockets (default): the ended call's four sockets stay bound for the next call there.
kept_bound() {
  local p
  for p in "$PA" "$((PA + 1))" "$PB" "$((PB + 1))"; do
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$p" || return 1
  done
}
kam_check "the ended call's relay ports stay bound by the embedded relay (relay_keep_sockets)" kept_bound
# The script's per-call htable entries go with the call (dialog:end): left to the htables'
# two-hour autoexpire they would fill Kamailio's shared memory at high call rates.
htables_empty() {
  local t
  for t in ipt ipt_call ipt_tags; do
    kam_rpc htable.dump "$t" >"$KAM_DIR/htable-$t.txt" 2>&1 || return 1
    grep -q "name:" "$KAM_DIR/htable-$t.txt" && return 1
  done
  return 0
}
kam_check "the call left no entry in the script's htables (ipt, ipt_call, ipt_tags)" wait_for 5 "the htables to empty" htables_empty
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
