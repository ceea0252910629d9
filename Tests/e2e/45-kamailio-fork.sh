#!/usr/bin/env bash
# A forked INVITE with early media from two branches (NEXT_HOP2: Kamailio forks in parallel with
# append_branch + t_relay). The call keeps one set of sessions (the module's ids name no branch):
# branch 1 answers 183 first, branch 2 answers 183 later and plays early media, which reaches the
# caller through the relay (the latest 18x re-pointed the session); branch 1's 200 OK re-points
# it again, the caller's RTP then reaches branch 1 only, branch 2 gets CANCEL, BYE frees the session.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-fork
UAS2_SIP_PORT=$(kam_free_ports 15060 15599 1) || exit 1
UAS2_MEDIA_PORT=$((UAS_MEDIA_PORT + 50))
kam_start -A "NEXT_HOP2=\"sip:127.0.0.1:$UAS2_SIP_PORT\"" || kam_finish
kam_capture_start

sipp_uas() { # SCENARIO NAME SIP_PORT MEDIA_PORT
  sipp -sf "$KAM_SIPP_DIR/$1" -i 127.0.0.1 -p "$3" -mp "$4" -m 1 -nostdin \
    -trace_msg -message_file "$KAM_DIR/$2.log" -trace_err -error_file "$KAM_DIR/$2.err" \
    -key pcap "$KAM_PCAP" -timeout 30 -timeout_error >"$KAM_DIR/$2.out" 2>&1
}
forked_call() {
  sipp_uas uas-fork-answer.xml fork-uas1 "$UAS_SIP_PORT" "$UAS_MEDIA_PORT" & local p1=$!
  sipp_uas uas-fork-cancelled.xml fork-uas2 "$UAS2_SIP_PORT" "$UAS2_MEDIA_PORT" & local p2=$!
  e2e_track "$p1"; e2e_track "$p2"
  wait_for 20 "both callees (sipp) to listen" bash -c "[ -n \"\$(ss -Hnul 'sport = :$UAS_SIP_PORT')\" ] && [ -n \"\$(ss -Hnul 'sport = :$UAS2_SIP_PORT')\" ]"
  sipp -sf "$KAM_SIPP_DIR/uac-fork.xml" "127.0.0.1:$KAM_SIP_PORT" -i 127.0.0.1 -p "$UAC_SIP_PORT" -mp "$UAC_MEDIA_PORT" \
    -m 1 -nostdin -trace_msg -message_file "$KAM_DIR/fork-uac.log" -trace_err -error_file "$KAM_DIR/fork-uac.err" \
    -key pcap "$KAM_PCAP" -d 1500 -timeout 30 -timeout_error >"$KAM_DIR/fork-uac.out" 2>&1
  local rc=$?
  wait "$p1"; local rc1=$?
  wait "$p2"; local rc2=$?
  kam_log "caller exit $rc, branch 1 exit $rc1, branch 2 exit $rc2"
  [ $rc -eq 0 ] && [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]
}
kam_check "forked call completes: 183 from both branches, 200 from branch 1, CANCEL to branch 2, BYE" forked_call
kam_capture_stop

trace() { kam_trace "$KAM_DIR/fork-$1.log"; }
kam_check "branch 1 got the offer on a relay port of gate B" kam_read_session "$KAM_DIR/fork-uas1.log"
kam_log "the call got session $SID: ports $PA (gate A), $PB (gate B)"
kam_check "branch 2 got the same offer (one set of sessions per call)" \
  grep -q "^received INVITE .*c=IN IP4 127.0.0.1 | m=audio $PB " <(trace uas2)
kam_check "the caller got both 183s rewritten to the session's port of gate A" \
  [ "$(trace uac | grep -c "^received SIP/2.0 183 Session Progress | c=IN IP4 127.0.0.1 | m=audio $PA ")" -eq 2 ]
kam_check "the caller got the 200 rewritten to gate A" \
  grep -q "^received SIP/2.0 200 OK | c=IN IP4 127.0.0.1 | m=audio $PA " <(trace uac)
kam_check "branch 2 got the CANCEL (and answered 487)" \
  bash -c "grep -q '^received CANCEL' <(python3 '$KAM_SIPP_DIR/sip-trace.py' '$KAM_DIR/fork-uas2.log') &&
    grep -q '^sent     SIP/2.0 487' <(python3 '$KAM_SIPP_DIR/sip-trace.py' '$KAM_DIR/fork-uas2.log')"
from_b2=$(kam_count_packets "$UAS2_MEDIA_PORT" "$UAS2_MEDIA_PORT" "$PB")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
to_b1=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_b2=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS2_MEDIA_PORT")
kam_log "RTP: branch 2 -> relay $from_b2, relay -> caller $to_caller (early media), relay -> branch 1 $to_b1, relay -> branch 2 $to_b2"
kam_check "branch 2's early media (the latest 183) reached the caller through the relay" \
  [ "$from_b2" -gt 20 ] && [ "$to_caller" -gt 20 ]
kam_check "after branch 1's 200, the caller's RTP reached branch 1 through the relay" [ "$to_b1" -gt 20 ]
kam_check "and none of it went to the cancelled branch 2" [ "$to_b2" -eq 0 ]
stats=$(kam_stats_allocated_deleted)
kam_check "relay stats: one session allocated and deleted" [ "$stats" = 1/1 ]
kam_check "the failure route did not run (one branch answered)" [ "$(kam_logged "failed: sessions")" -eq 0 ]
kam_check "BYE deleted the call's session" [ "$(kam_logged "ended: sessions loop:$SID/[0-9]* deleted")" -eq 1 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
