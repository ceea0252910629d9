#!/usr/bin/env bash
# Media timeout reaches the proxy: a call whose phones never send RTP. Once its learning windows
# close, the relay frees the session after the switchboard's expires-timeout (3 s here) and tells
# the module (control protocol `subscribe`, event `expired`); the module's "iptrtpproxy events"
# process runs event_route[iptrtpproxy:timeout] with @iptrtpproxy.session_ids, and the example
# script ends the call with the dialog module's dlg_bye: both phones get a BYE from the proxy and
# answer it. No session is left. A second call that sends RTP and hangs up itself is not touched.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-media-timeout
KAM_EXPIRES_TIMEOUT=3
kam_start || kam_finish

kam_check "kamcmd core.ps shows the events process" grep -q "iptrtpproxy events" <(kam_rpc core.ps 2>&1)
kam_check "the events process subscribed to the embedded relay" \
  wait_for 10 "the events process to subscribe" grep -q "events: subscribed to the embedded relay" "$KAM_DIR/kamailio.log"

started=$(date +%s)
kam_check "silent call: both phones get a BYE from the proxy and answer it" \
  kam_call uas-call-silent.xml uac-call-silent.xml silent
took=$(( $(date +%s) - started ))
kam_log "the silent call was ended by the proxy after $took s (learning windows 10 s, expires-timeout 3 s)"

kam_check "the callee got a BYE (from the proxy)" grep -q "^received BYE" <(kam_trace "$KAM_DIR/silent-uas.log")
kam_check "the caller got a BYE (from the proxy)" grep -q "^received BYE" <(kam_trace "$KAM_DIR/silent-uac.log")
kam_check "the silent call's offer names a relay port of gate B" kam_read_session "$KAM_DIR/silent-uas.log"
kam_check "the module heard of the expired session" [ "$(kam_logged "events: the embedded relay expired session loop:$SID/")" -eq 1 ]
kam_check "event_route[iptrtpproxy:timeout] ran with @iptrtpproxy.session_ids = loop:$SID/..." \
  [ "$(kam_logged "media timeout: relay freed session loop:$SID/")" -eq 1 ]
kam_check "the route found the call's dialog and ended it" [ "$(kam_logged "media timeout: ending call ")" -eq 1 ]
kam_check "not before the learning windows closed (10 s)" [ "$took" -ge 10 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left

# A call with media that the phones end themselves: no event, no BYE from the proxy.
KAM_CALL_MS=2000
kam_check "a call with RTP completes normally (the phones hang up)" kam_call uas-call.xml uac-call.xml normal
sleep 2
kam_check "the normal call caused no timeout event" [ "$(kam_logged "media timeout: relay freed")" -eq 1 ]
kam_check "no session left after the normal call" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_check "kamailio logged no error" [ "$(kam_logged 'ERROR')" -eq 0 ]
kam_finish
