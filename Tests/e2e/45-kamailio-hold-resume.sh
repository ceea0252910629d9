#!/usr/bin/env bash
# Hold and resume: an established call is put on hold (re-INVITE with a=sendonly, c= kept; answer
# a=recvonly), then made inactive (a=inactive both ways), then resumed (a=sendrecv). Every offer
# and answer keeps the call's one session and its relay ports (only a port 0 frees a session),
# RTP flows again through them after the resume, and BYE frees the session.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-hold-resume
kam_start || kam_finish
kam_capture_start

kam_check "call, hold (sendonly), inactive, resume (sendrecv), RTP again, BYE completes" \
  kam_call uas-hold-resume.xml uac-hold-resume.xml hold
kam_capture_stop

trace() { kam_trace "$KAM_DIR/hold-$1.log"; }
kam_check "initial offer: audio on a relay port of gate B" kam_read_session "$KAM_DIR/hold-uas.log"
kam_log "the call got session $SID: ports $PA (gate A), $PB (gate B)"
offers=$(trace uas | grep "^received INVITE")
answers=$(trace uac | grep "^received SIP/2.0 200 OK | ")
kam_check "four offers reached the callee, four answers the caller" \
  [ "$(wc -l <<<"$offers")" -eq 4 ] && [ "$(wc -l <<<"$answers")" -eq 4 ]
kam_check "every offer (initial, sendonly, inactive, sendrecv) names the same port of gate B ($PB)" \
  [ "$(grep -c "c=IN IP4 127.0.0.1 | m=audio $PB " <<<"$offers")" -eq 4 ]
kam_check "every answer (sendrecv, recvonly, inactive, sendrecv) names the same port of gate A ($PA)" \
  [ "$(grep -c "c=IN IP4 127.0.0.1 | m=audio $PA " <<<"$answers")" -eq 4 ]
kam_check "the direction attributes reached the other phone" \
  bash -c "grep -q 'a=sendonly' '$KAM_DIR/hold-uas.log' && grep -q 'a=recvonly' '$KAM_DIR/hold-uac.log' &&
    [ \$(grep -c 'a=inactive' '$KAM_DIR/hold-uas.log') -ge 2 ] && grep -q 'a=sendrecv' '$KAM_DIR/hold-uac.log'"
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed (30 packets played by each phone before the hold and 30 after the resume): caller -> callee $to_callee, callee -> caller $to_caller"
kam_check "RTP relayed caller -> callee before the hold and after the resume" [ "$to_callee" -gt 50 ]
kam_check "RTP relayed callee -> caller before the hold and after the resume" [ "$to_caller" -gt 50 ]
stats=$(kam_stats_allocated_deleted)
kam_check "relay stats: one session allocated and deleted (hold kept it)" [ "$stats" = 1/1 ]
kam_check "BYE deleted the call's session" [ "$(kam_logged "ended: sessions loop:$SID/[0-9]* deleted")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
