#!/usr/bin/env bash
# A caller behind NAT: its SDP names an address the relay cannot reach (192.0.2.1), its RTP comes
# from the host its SIP came from (127.0.0.1). The module hands the relay the INVITE's source
# address (Kamailio's $si), and the relay learns the caller only from that host or the SDP's:
# the call's RTP flows both ways. (Were the address wrong, the caller's RTP would be dropped as
# unknown-source and the callee's sent to 192.0.2.1.)
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-nat-signal
kam_start || kam_finish
kam_capture_start

# The relay accepted more than 10 packets from the caller's side (PKTS-A): it latched the caller,
# whose packets come from a host the SDP does not name.
latched_caller() {
  kam_rpc iptrtpproxy.list 2>&1 | kam_sessions >"$KAM_DIR/list-during-call.txt" &&
    awk '/^loop:[0-9]+\// && $6 > 10 {ok = 1} END {exit !ok}' "$KAM_DIR/list-during-call.txt"
}
KAM_CALL_MS=2500
kam_call uas-call.xml uac-call-nat.xml nat >"$KAM_DIR/call.status" 2>&1 &
caller=$!
e2e_check_within 15 "during the call the relay took the caller's RTP from its signalling host" latched_caller
wait "$caller"
kam_check "call from behind NAT completes" [ $? -eq 0 ]
kam_capture_stop
sed 's/^/    /' "$KAM_DIR/list-during-call.txt"

kam_check "the callee's offer names a relay port of gate B" kam_read_session "$KAM_DIR/nat-uas.log"
kam_check "the caller's offer named the unreachable address" \
  grep -q "^sent     INVITE .*c=IN IP4 192.0.2.1 " <(kam_trace "$KAM_DIR/nat-uac.log")
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed: caller -> callee $to_callee packets, callee -> caller $to_caller packets"
kam_check "RTP relayed caller -> callee (learned from the signalling host)" [ "$to_callee" -gt 20 ]
kam_check "RTP relayed callee -> caller (sent to the learned source, not the SDP's address)" [ "$to_caller" -gt 20 ]
kam_check "no session left on the relay" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
