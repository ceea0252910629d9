#!/usr/bin/env bash
# A failed re-INVITE: an established call's re-INVITE adds video and the callee refuses it (488 Not
# Acceptable Here). The offer's update allocated a session for the video; the re-INVITE's
# failure_route frees it and gives the dialog its old ids back. The old call goes on: RTP flows
# again through the same relay ports after the failure, BYE frees the one session left.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-reinvite-failed
kam_start || kam_finish
kam_capture_start

kam_check "call, re-INVITE refused with 488, RTP again, BYE completes" \
  kam_call uas-reinvite-failed.xml uac-reinvite-failed.xml refused
kam_capture_stop

trace() { kam_trace "$KAM_DIR/refused-$1.log"; }
kam_check "initial offer: audio on a relay port of gate B" kam_read_session "$KAM_DIR/refused-uas.log"
kam_log "the call got session $SID: ports $PA (gate A), $PB (gate B)"
V_B=$(trace uas | grep "^received INVITE" | sed -n 2p | grep -oE "m=video [0-9]+" | grep -oE "[0-9]+")
V_B=${V_B:-0} V_ID=$(((${V_B:-0} - GATE_B_PORT) / 2))
kam_check "the re-INVITE reached the callee with audio on the same port and video on a new session" \
  grep -q "m=audio $PB .*m=video $V_B " <(trace uas | grep "^received INVITE" | sed -n 2p)
kam_check "the caller got the 488" grep -q "^received SIP/2.0 488" <(trace uac)
kam_check "the failure route freed the video's session" \
  [ "$(kam_logged "re-INVITE failed, new session loop:$V_ID/[0-9]* deleted")" -eq 1 ]
kam_check "the failure route gave the dialog its old ids back" \
  [ "$(kam_logged "re-INVITE failed, sessions back to loop:$SID/[0-9]*$")" -eq 1 ]
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed (30 packets played by each phone before and 30 after the 488): caller -> callee $to_callee, callee -> caller $to_caller"
kam_check "RTP relayed caller -> callee before and after the failed re-INVITE" [ "$to_callee" -gt 50 ]
kam_check "RTP relayed callee -> caller before and after the failed re-INVITE" [ "$to_caller" -gt 50 ]
stats=$(kam_stats_allocated_deleted)
kam_check "relay stats: two sessions allocated (audio, video), two deleted" [ "$stats" = 2/2 ]
kam_check "BYE deleted the call's audio session only (the old ids)" \
  [ "$(kam_logged "ended: sessions loop:$SID/[0-9]* deleted")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
