#!/usr/bin/env bash
# A malformed offer (an m= line before v=): iptrtpproxy_alloc returns -1 with one log line, the
# INVITE goes on byte for byte, the call still completes, and no worker dies.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-malformed-sdp
kam_start || kam_finish

kam_check "call with a malformed offer completes" kam_call uas-call.xml uac-malformed-sdp.xml bad
sent=$(kam_trace "$KAM_DIR/bad-uac.log" | grep "^sent     INVITE" | grep -o "body=[0-9]*:[0-9a-f]*")
got=$(kam_trace "$KAM_DIR/bad-uas.log" | grep "^received INVITE" | grep -o "body=[0-9]*:[0-9a-f]*")
kam_log "offer sent $sent, received $got"
same_offer() { [ -n "$sent" ] && [ "$sent" = "$got" ]; }
kam_check "the callee got the offer byte for byte" same_offer
kam_check "one error line from the module" [ "$(kam_logged 'ERROR: iptrtpproxy: alloc')" -eq 1 ]
kam_check "the script saw alloc return false" [ "$(kam_logged 'iptrtpproxy_alloc failed')" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_finish
