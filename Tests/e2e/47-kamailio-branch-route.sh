#!/usr/bin/env bash
# alloc, update and delete per branch (Tests/e2e/sipp/branch-route.cfg: the request route leaves
# the body alone, branch_route allocates each branch's sessions, failure_route re-offers):
#  serial:   callee 1 answers 486; its sessions are freed; failure_route allocates anew and
#            forwards to callee 2, which answers; the call's RTP flows through callee 2's session.
#  parallel: two branches, each offer with its own sessions (each branch's body carries only its
#            own rewrite); branch 1 answers, its session carries the call; branch 2 is cancelled
#            and its sessions are freed.
# Both: every session freed at the end, no module error.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-branch-route
UAS2_SIP_PORT=$(kam_free_ports 15060 15599 1) || exit 1
UAS2_MEDIA_PORT=$((UAS_MEDIA_PORT + 50))
KAM_CFG="$KAM_SIPP_DIR/branch-route.cfg"

sipp_uas() { # SCENARIO NAME SIP_PORT MEDIA_PORT
  sipp -sf "$KAM_SIPP_DIR/$1" -i 127.0.0.1 -p "$3" -mp "$4" -m 1 -nostdin \
    -trace_msg -message_file "$KAM_DIR/$2.log" -trace_err -error_file "$KAM_DIR/$2.err" \
    -key pcap "$KAM_PCAP" -timeout 30 -timeout_error >"$KAM_DIR/$2.out" 2>&1
}
# call NAME UAS1 UAS2 UAC: both callees, then the caller; all three must succeed.
call() {
  sipp_uas "$2" "$1-uas1" "$UAS_SIP_PORT" "$UAS_MEDIA_PORT" & local p1=$!
  sipp_uas "$3" "$1-uas2" "$UAS2_SIP_PORT" "$UAS2_MEDIA_PORT" & local p2=$!
  e2e_track "$p1"; e2e_track "$p2"
  wait_for 20 "both callees (sipp) to listen" bash -c "[ -n \"\$(ss -Hnul 'sport = :$UAS_SIP_PORT')\" ] && [ -n \"\$(ss -Hnul 'sport = :$UAS2_SIP_PORT')\" ]"
  sipp -sf "$KAM_SIPP_DIR/$4" "127.0.0.1:$KAM_SIP_PORT" -i 127.0.0.1 -p "$UAC_SIP_PORT" -mp "$UAC_MEDIA_PORT" \
    -m 1 -nostdin -trace_msg -message_file "$KAM_DIR/$1-uac.log" -trace_err -error_file "$KAM_DIR/$1-uac.err" \
    -key pcap "$KAM_PCAP" -d "${KAM_CALL_MS:-1500}" -timeout 30 -timeout_error >"$KAM_DIR/$1-uac.out" 2>&1
  local rc=$?
  wait "$p1"; local rc1=$?
  wait "$p2"; local rc2=$?
  kam_log "$1: caller exit $rc, callee 1 exit $rc1, callee 2 exit $rc2"
  [ $rc -eq 0 ] && [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
}
trace() { kam_trace "$KAM_DIR/$1.log"; }
# The offer's SDP as callee FILE got it: exactly one c= line (127.0.0.1) and one m=audio.
one_rewrite() {
  local invite
  invite=$(trace "$1" | grep "^received INVITE" | head -1)
  [ "$(grep -o 'c=IN IP4 [0-9.]*' <<<"$invite" | sort -u)" = "c=IN IP4 127.0.0.1" ] && [ "$(grep -o 'm=audio' <<<"$invite" | wc -l)" -eq 1 ]
}

# --- serial forking: failure_route re-offers ---
kam_start -A SERIAL -A "NEXT_HOP2=\"sip:127.0.0.1:$UAS2_SIP_PORT\"" || kam_finish
kam_capture_start
kam_check "serial: callee 1 answers 486, the call reaches callee 2 and completes" \
  call serial uas-busy.xml uas-call.xml uac-call.xml
kam_capture_stop
kam_check "serial: callee 1's offer came on a relay port of gate B (branch_route's alloc)" kam_read_session "$KAM_DIR/serial-uas1.log"
S1=$SID PB1=$PB
kam_check "serial: callee 2's offer came on another session's port (failure_route's alloc)" kam_read_session "$KAM_DIR/serial-uas2.log"
kam_log "serial: callee 1 got session $S1 (port $PB1), callee 2 session $SID (ports $PA/$PB)"
# (The relay may hand the freed slot out again: the new session is another incarnation of it.)
first=$(grep -oE "branch 0 of .*: offer relayed, sessions loop:[0-9]+/[0-9]+" "$KAM_DIR/kamailio.log" | grep -oE "loop:[0-9]+/[0-9]+")
second=$(grep -oE "re-offer of .* on branch 1: sessions loop:[0-9]+/[0-9]+" "$KAM_DIR/kamailio.log" | grep -oE "loop:[0-9]+/[0-9]+")
kam_log "serial: branch_route allocated $first, failure_route $second"
two_sessions() { [ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ]; }
kam_check "serial: two different sessions (id/created)" two_sessions
kam_check "serial: callee 2's offer carries one rewrite (no lump of the first branch left)" one_rewrite serial-uas2
kam_check "serial: the caller got the 200 rewritten to callee 2's session on gate A" \
  grep -q "^received SIP/2.0 200 OK | c=IN IP4 127.0.0.1 | m=audio $PA " <(trace serial-uac)
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS2_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "serial: RTP relay -> callee 2 $to_callee, relay -> caller $to_caller"
both_ways() { [ "$to_callee" -gt 20 ] && [ "$to_caller" -gt 20 ]; }
kam_check "serial: the call's RTP flowed through the relay both ways" both_ways
kam_check "serial: the failed branch's sessions were freed on its 486" [ "$(kam_logged "branch 0 of .* failed (486): sessions loop:$S1/")" -eq 1 ]
kam_check "serial: failure_route allocated on branch 1" [ "$(kam_logged "re-offer of .* on branch 1: sessions loop:$SID/")" -eq 1 ]
kam_check "serial: BYE freed the answered branch's sessions" [ "$(kam_logged "ended: sessions loop:$SID/[0-9]* deleted")" -eq 1 ]
kam_check "serial: relay stats: two sessions allocated, two deleted" [ "$(kam_stats_allocated_deleted)" = 2/2 ]
kam_check "serial: no session left on the relay" kam_no_sessions_left
kam_check "serial: the module logged no error" [ "$(kam_logged 'ERROR: ')" -eq 0 ]
kam_stop

# --- parallel forking: branch_route offers per branch ---
kam_start -A PARALLEL -A "NEXT_HOP2=\"sip:127.0.0.1:$UAS2_SIP_PORT\"" || kam_finish
kam_capture_start
kam_check "parallel: both branches ring, branch 1 answers, branch 2 is cancelled" \
  call parallel uas-fork-answer.xml uas-fork-cancelled.xml uac-fork.xml
kam_capture_stop
kam_check "parallel: branch 2's offer came on a relay port of gate B" kam_read_session "$KAM_DIR/parallel-uas2.log"
S2=$SID PA2=$PA
kam_check "parallel: branch 1's offer came on a relay port of gate B" kam_read_session "$KAM_DIR/parallel-uas1.log"
kam_log "parallel: branch 1 session $SID (ports $PA/$PB), branch 2 session $S2"
kam_check "parallel: each branch got its own session" [ "$S2" != "$SID" ]
both_one_rewrite() { one_rewrite parallel-uas1 && one_rewrite parallel-uas2; }
kam_check "parallel: each branch's offer carries its own rewrite only" both_one_rewrite
kam_check "parallel: the caller got each branch's 183 on that branch's session port of gate A" \
  bash -c "grep -q '^received SIP/2.0 183 Session Progress | c=IN IP4 127.0.0.1 | m=audio $PA ' <(python3 '$KAM_SIPP_DIR/sip-trace.py' '$KAM_DIR/parallel-uac.log') &&
    grep -q '^received SIP/2.0 183 Session Progress | c=IN IP4 127.0.0.1 | m=audio $PA2 ' <(python3 '$KAM_SIPP_DIR/sip-trace.py' '$KAM_DIR/parallel-uac.log')"
kam_check "parallel: the caller got the 200 on branch 1's session port" \
  grep -q "^received SIP/2.0 200 OK | c=IN IP4 127.0.0.1 | m=audio $PA " <(trace parallel-uac)
to_b1=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
kam_log "parallel: RTP relay -> branch 1 $to_b1"
kam_check "parallel: after the 200, the caller's RTP reached branch 1 through its session" [ "$to_b1" -gt 20 ]
kam_check "parallel: branch 2's sessions were freed on its 487" [ "$(kam_logged "branch 1 of .* failed (487): sessions loop:$S2/")" -eq 1 ]
kam_check "parallel: BYE freed branch 1's sessions" [ "$(kam_logged "ended: sessions loop:$SID/[0-9]* deleted")" -eq 1 ]
kam_check "parallel: relay stats: two sessions allocated, two deleted" [ "$(kam_stats_allocated_deleted)" = 2/2 ]
kam_check "parallel: no session left on the relay" kam_no_sessions_left
kam_check "parallel: the module logged no error" [ "$(kam_logged 'ERROR: ')" -eq 0 ]
kam_finish
