#!/usr/bin/env bash
# Delayed offer: the caller's INVITE has no SDP (nothing is allocated), the callee's 200 OK carries
# the offer (alloc in the onreply route, from gate B's side), the caller's ACK carries the answer
# (update in the in-dialog route, with the ids kept in the htable). Both SDPs reach the other phone
# rewritten, RTP flows both ways through the relay, BYE frees the session.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-delayed-offer
kam_start || kam_finish
kam_capture_start

KAM_CALL_MS=2000
kam_check "delayed-offer call completes (INVITE without SDP / 200 with the offer / ACK with the answer / BYE)" \
  kam_call uas-delayed-offer.xml uac-delayed-offer.xml delayed
kam_capture_stop

trace() { kam_trace "$KAM_DIR/delayed-$1.log"; }
kam_check "the callee got the INVITE without SDP" grep -q "^received INVITE [^|]*$" <(trace uas)
kam_check "the callee offered its own media port in the 200 OK" \
  grep -q "^sent     SIP/2.0 200 OK | .*m=audio $UAS_MEDIA_PORT " <(trace uas)
PA=$(trace uac | grep "^received SIP/2.0 200 OK" | head -1 | grep -oE "m=audio [0-9]+" | grep -oE "[0-9]+")
PB=$(trace uas | grep "^received ACK" | head -1 | grep -oE "m=audio [0-9]+" | grep -oE "[0-9]+")
PA=${PA:-0} PB=${PB:-0}
kam_log "the call got ports $PA (gate A), $PB (gate B)"
kam_check "the caller got the offer rewritten to a relay port of gate A ($PA)" \
  [ "$PA" -ge "$GATE_A_PORT" ] && [ "$PA" -lt $((GATE_A_PORT + 2 * KAM_MAX_SESSIONS)) ]
kam_check "the caller answered in the ACK with its own media port" \
  grep -q "^sent     ACK .*m=audio $UAC_MEDIA_PORT " <(trace uac)
kam_check "the callee got the answer rewritten to the same session's port of gate B ($PB)" \
  [ "$PB" -eq $((PA + 100)) ]
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed: caller -> callee $to_callee packets, callee -> caller $to_caller packets"
kam_check "RTP relayed caller -> callee" [ "$to_callee" -gt 20 ]
kam_check "RTP relayed callee -> caller" [ "$to_caller" -gt 20 ]
SID=$(((PA - GATE_A_PORT) / 2))
kam_check "the delayed offer was allocated in the reply route" [ "$(kam_logged "delayed offer in 200, sessions loop:$SID/")" -eq 1 ]
kam_check "BYE deleted the session (ids from the htable)" [ "$(kam_logged "ended: sessions loop:$SID/")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_check "the script logged no error" [ "$(kam_logged 'failed')" -eq 0 ]
kam_finish
