#!/usr/bin/env bash
# Other modules' body changes and the relay's coexist: the module changes the SDP token by token
# (one body lump per token), so that sdpops, textops and the like can change the same body before
# or after it.
#  1. examples/kamailio.cfg with IPT_FILTER_CODEC="PCMA": sdpops removes PCMA from the caller's
#     offer (PCMU, PCMA, telephone-event), then iptrtpproxy_alloc relays the call. The callee's
#     INVITE has both PCMA removed and the relay's address and port; RTP flows through the relay.
#  2. The same script with a textops change of the offer's c= line (the bytes alloc rewrites):
#     iptrtpproxy_alloc returns -1 with one log line, the callee gets the offer with the other
#     modules' changes only, and nothing stays allocated.
#  3. sdpops after iptrtpproxy_alloc (the filter moved behind route(MEDIA_OFFER)): both changes
#     reach the callee.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-sdpops
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/sdpops.so ] ||
  { kam_log "sdpops.so is missing (Debian's kamailio package ships it)"; e2e_fail "sdpops.so present"; kam_finish; }

# ---- 1: sdpops, then alloc ----
kam_start -A 'IPT_FILTER_CODEC="PCMA"' || kam_finish
kam_capture_start
KAM_CALL_MS=2500
kam_check "call completes through sdpops + iptrtpproxy_alloc" kam_call uas-call.xml uac-call-codecs.xml filtered
kam_capture_stop

trace() { kam_trace "$KAM_DIR/filtered-$1.log"; }
offer() { kam_trace --body received INVITE "$KAM_DIR/filtered-uas.log"; }
kam_check "the callee's offer names a relay port of gate B" kam_read_session "$KAM_DIR/filtered-uas.log"
kam_log "the call got session $SID: ports $PA (gate A), $PB (gate B)"
kam_check "caller offered PCMU, PCMA and telephone-event on its own port" \
  grep -q "^sent     INVITE .*c=IN IP4 127.0.0.1 | m=audio $UAC_MEDIA_PORT RTP/AVP 0 8 101" <(trace uac)
kam_check "callee got the relay's address and port, PCMA removed from m=" \
  grep -q "^received INVITE .*c=IN IP4 127.0.0.1 | m=audio $PB RTP/AVP 0 101\( \|$\)" <(trace uas)
kam_check "... and PCMA's rtpmap removed" bash -c '! grep -q "a=rtpmap:8 " <<<"$1"' _ "$(offer)"
kam_check "... the other codecs' lines kept" bash -c 'grep -q "a=rtpmap:0 PCMU/8000" <<<"$1" && grep -q "a=rtpmap:101 telephone-event/8000" <<<"$1" && grep -q "a=fmtp:101 0-15" <<<"$1"' _ "$(offer)"
kam_check "caller got the answer rewritten to gate A (port $PA)" \
  grep -q "^received SIP/2.0 200 OK | .*m=audio $PA " <(trace uac)
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed: caller -> callee $to_callee packets, callee -> caller $to_caller packets"
kam_check "RTP relayed caller -> callee (gate B -> callee)" [ "$to_callee" -gt 20 ]
kam_check "RTP relayed callee -> caller (gate A -> caller)" [ "$to_caller" -gt 20 ]
kam_check "BYE deleted the call's sessions" [ "$(kam_logged "ended: sessions loop:$SID/")" -eq 1 ]
kam_check "no session left on the relay" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_stop

# ---- 2: textops changed the bytes alloc rewrites ----
# The c= line replaced by itself: a body lump over the address alloc would rewrite.
cfg="$KAM_DIR/kamailio-textops.cfg"
sed 's|^\(\t*\)\(if (has_body("application/sdp")) sdp_remove_codecs_by_name(IPT_FILTER_CODEC);\)$|\1\2\n\1if (has_body("application/sdp")) replace_body("c=IN IP4 127.0.0.1", "c=IN IP4 127.0.0.1");|' \
  "$KAM_ROOT/examples/kamailio.cfg" >"$cfg"
kam_check "the test script has the textops change" grep -q 'replace_body("c=IN IP4' "$cfg"
KAM_CFG="$cfg" kam_start -A 'IPT_FILTER_CODEC="PCMA"' || kam_finish
kam_check "call completes without the relay" kam_call uas-call.xml uac-call-codecs.xml overlap
kam_check "callee got the caller's address and port (no change of the module), PCMA removed (sdpops)" \
  grep -q "^received INVITE .*c=IN IP4 127.0.0.1 | m=audio $UAC_MEDIA_PORT RTP/AVP 0 101\( \|$\)" \
  <(kam_trace "$KAM_DIR/overlap-uas.log")
sent=$(kam_trace --body sent INVITE "$KAM_DIR/overlap-uac.log" | grep -v "a=rtpmap:8 " | sed 's/ 0 8 101/ 0 101/')
got=$(kam_trace --body received INVITE "$KAM_DIR/overlap-uas.log")
same_offer() { [ -n "$sent" ] && [ "$sent" = "$got" ]; }
kam_check "the callee got the caller's offer with only sdpops' change" same_offer
kam_check "one error line from the module" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 1 ]
kam_check "... naming the overlap" [ "$(kam_logged 'ERROR: iptrtpproxy: alloc: another change of the message body')" -eq 1 ]
kam_check "the script saw alloc return false" [ "$(kam_logged 'iptrtpproxy_alloc failed')" -eq 1 ]
kam_check "no session left on the relay" kam_no_sessions_left
stats=$(kam_stats_allocated_deleted)
kam_check "relay stats: the refused call's session was allocated and deleted" [ "$stats" = 1/1 ]
grep 'ERROR: iptrtpproxy' "$KAM_DIR/kamailio.log" | sed 's/^/    /'
kam_stop

# ---- 3: sdpops after alloc ----
cfg="$KAM_DIR/kamailio-after.cfg"
awk '/sdp_remove_codecs_by_name\(IPT_FILTER_CODEC\);$/ { filter = $0; next }
     /^\t\troute\(MEDIA_OFFER\);$/ { print; print filter; next } { print }' "$KAM_ROOT/examples/kamailio.cfg" >"$cfg"
filters_after() { grep -A1 -P '^\t\troute\(MEDIA_OFFER\);$' "$cfg" | grep -q sdp_remove_codecs_by_name; }
kam_check "the test script filters after route(MEDIA_OFFER)" filters_after
KAM_CFG="$cfg" kam_start -A 'IPT_FILTER_CODEC="PCMA"' || kam_finish
kam_check "call completes through iptrtpproxy_alloc + sdpops" kam_call uas-call.xml uac-call-codecs.xml after
kam_check "the callee's offer names a relay port of gate B" kam_read_session "$KAM_DIR/after-uas.log"
kam_check "callee got the relay's address and port, PCMA removed from m=" \
  grep -q "^received INVITE .*c=IN IP4 127.0.0.1 | m=audio $PB RTP/AVP 0 101\( \|$\)" <(kam_trace "$KAM_DIR/after-uas.log")
kam_check "... and PCMA's rtpmap removed" \
  bash -c '! grep -q "a=rtpmap:8 " <<<"$1"' _ "$(kam_trace --body received INVITE "$KAM_DIR/after-uas.log")"

# ICE lines of a relayed media go (ice=remove, the default), each run of lines with one lump.
kam_check "a call whose offer carries ICE lines completes" kam_call uas-call.xml uac-call-ice.xml ice
ice_offer() { kam_trace --body received INVITE "$KAM_DIR/ice-uas.log"; }
kam_check "the callee's offer has no candidate and no ICE attribute left" \
  bash -c '! grep -qE "a=(candidate|ice-|end-of-candidates)" <<<"$1" && grep -q "a=rtpmap:0 PCMU/8000" <<<"$1"' _ "$(ice_offer)"
kam_check "... and no LAN address of the caller" bash -c '! grep -q "10.0.1.1" <<<"$1"' _ "$(ice_offer)"
kam_check "no session left on the relay" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
