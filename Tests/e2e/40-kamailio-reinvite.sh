#!/usr/bin/env bash
# Re-INVITEs in one dialog: the first adds a video stream (update allocates a second session and
# the new ids are kept for the dialog), the second puts audio and video on hold (c=0.0.0.0,
# a=sendonly: the sessions stay, the hold address is not rewritten). BYE frees both sessions.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-reinvite
kam_start || kam_finish

kam_check "dialog with two re-INVITEs completes" kam_call uas-reinvite.xml uac-reinvite.xml reinvite

uas=$(kam_trace "$KAM_DIR/reinvite-uas.log")
uac=$(kam_trace "$KAM_DIR/reinvite-uac.log")
offers=$(grep "^received INVITE" <<<"$uas")
answers=$(grep "^received SIP/2.0 200 OK | " <<<"$uac")
kam_check "initial offer: audio on a relay port of gate B" kam_read_session "$KAM_DIR/reinvite-uas.log"
# The video's session, drawn by the relay: its port in the re-INVITE's m=video.
V_B=$(sed -n 2p <<<"$offers" | grep -oE "m=video [0-9]+" | grep -oE "[0-9]+")
V_B=${V_B:-0} V_ID=$(((${V_B:-0} - GATE_B_PORT) / 2)) V_A=$((GATE_A_PORT + ${V_B:-0} - GATE_B_PORT))
kam_check "re-INVITE with video: audio and video on gate B (two sessions)" \
  grep -q "m=audio $PB .*m=video $V_B " <(sed -n 2p <<<"$offers")
kam_check "the video got its own session" [ "$V_B" -ne "$PB" ]
kam_check "its answer: audio and video on gate A" \
  grep -q "m=audio $PA .*m=video $V_A " <(sed -n 2p <<<"$answers")
kam_check "hold offer keeps c=0.0.0.0 and the relay's ports" \
  grep -q "c=IN IP4 0.0.0.0 | m=audio $PB .*m=video $V_B " <(sed -n 3p <<<"$offers")
kam_check "hold answer: audio and video on gate A" \
  grep -q "m=audio $PA .*m=video $V_A " <(sed -n 3p <<<"$answers")
kam_check "BYE deleted both sessions" [ "$(kam_logged "ended: sessions loop:$SID/[0-9]*,$V_ID/[0-9]*")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
