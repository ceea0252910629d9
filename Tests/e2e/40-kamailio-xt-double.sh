#!/usr/bin/env bash
# `relay xt` against a TEST DOUBLE of libipt_RTPPROXY (the real library and the xt_RTPPROXY kernel
# target exist on no current system): Kamailio loads the module, the module finds the switchboard
# "in the kernel" through the double at init, and a call issues alloc on INVITE, update on the
# answer, and delete on BYE, with the SDP rewritten to the ports the double handed out. No RTP
# flows: the double forwards nothing.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-xt-double
double="$KAM_DIR/libipt_RTPPROXY_double.so"
bash "$KAM_ROOT/Tests/doubles/build.sh" "$double" >/dev/null || { kam_log "cannot build the double"; exit 1; }
export IPT_RTPPROXY_DOUBLE_LOG="$KAM_DIR/xt-calls.log"
RELAY="xt:$double"
kam_start || kam_finish
kam_check "the module looked the switchboard up through the double at init" \
  grep -q "^get_switchboards .* -> ports=$GATE_A_PORT,$GATE_B_PORT" "$IPT_RTPPROXY_DOUBLE_LOG"

KAM_CALL_MS=500
kam_check "call completes through the record-routing proxy" kam_call uas-call.xml uac-call.xml xt
trace() { kam_trace "$KAM_DIR/xt-$1.log"; }
kam_check "callee got the offer rewritten to gate B (session 0: port $GATE_B_PORT)" \
  grep -q "^received INVITE .*c=IN IP4 127.0.0.1 | m=audio $GATE_B_PORT " <(trace uas)
kam_check "caller got the answer rewritten to gate A (port $GATE_A_PORT)" \
  grep -q "^received SIP/2.0 200 OK | .*m=audio $GATE_A_PORT " <(trace uac)
calls=$(grep -E '^(alloc_session|update_session|delete_session)' "$IPT_RTPPROXY_DOUBLE_LOG" | sed 's/ .*//' | tr '\n' ' ')
kam_log "library calls: $calls"
kam_check "INVITE allocated one session" [ "$(grep -c '^alloc_session' "$IPT_RTPPROXY_DOUBLE_LOG")" -eq 1 ]
kam_check "the answer updated it (and 200 OK adjusted its timeout)" [ "$(grep -c '^update_session' "$IPT_RTPPROXY_DOUBLE_LOG")" -ge 2 ]
kam_check "BYE deleted it" [ "$(grep -c '^delete_session' "$IPT_RTPPROXY_DOUBLE_LOG")" -eq 1 ]
kam_check "no function failed" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
