#!/usr/bin/env bash
# Early media: the callee answers in a 183 Session Progress and plays RTP before the 200 OK.
# Both the 183 and the 200 reach the caller with the relay's port (update on 18x, update +
# adjust_timeout on 2xx), and the early RTP already goes through the relay.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-early-media
kam_start || kam_finish
kam_capture_start

kam_check "call with 183 + SDP, then 200, completes" kam_call uas-early-media.xml uac-call.xml early
kam_capture_stop

trace() { kam_trace "$KAM_DIR/early-$1.log"; }
kam_check "the callee's offer names a relay port of gate B" kam_read_session "$KAM_DIR/early-uas.log"
kam_check "callee sent its own port in the 183" \
  grep -q "^sent     SIP/2.0 183 Session Progress | .*m=audio $UAS_MEDIA_PORT " <(trace uas)
kam_check "caller got the 183 rewritten to gate A" \
  grep -q "^received SIP/2.0 183 Session Progress | c=IN IP4 127.0.0.1 | m=audio $PA " <(trace uac)
kam_check "caller got the 200 rewritten to gate A" \
  grep -q "^received SIP/2.0 200 OK | c=IN IP4 127.0.0.1 | m=audio $PA " <(trace uac)
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "early RTP relayed to the caller: $to_caller packets"
kam_check "early RTP relayed callee -> caller" [ "$to_caller" -gt 20 ]
kam_check "BYE deleted the session" [ "$(kam_logged "ended: sessions loop:$SID/")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
