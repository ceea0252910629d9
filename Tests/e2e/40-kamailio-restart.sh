#!/usr/bin/env bash
# Kamailio restarted in the middle of a call, with the embedded relay's journal (relay_journal):
# the new relay restores the call's session on the same ports, RTP flows again, and the BYE that
# reaches the new Kamailio (ids from the Record-Route cookie) deletes the restored session.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-restart
JOURNAL="$KAM_DIR/relay.journal"
# ~7 s of RTP each way, and a call that lasts 7 s after the ACK.
editcap -r "$(dpkg -L sip-tester 2>/dev/null | grep -m1 'g711a.pcap$' || echo /usr/share/sip-tester/g711a.pcap)" \
  "$KAM_PCAP" 1-230 >/dev/null 2>&1
KAM_CALL_MS=7000
kam_start -A "IPT_RELAY_JOURNAL=\"$JOURNAL\"" || kam_finish

kam_call uas-call.xml uac-call.xml call >"$KAM_DIR/call.status" 2>&1 &
caller=$!

# rtp_both_ways NAME: the relay lists the call's session with more than 10 packets from each side
# (its counters start from zero in a restarted relay); the list is kept in list-NAME.txt.
rtp_both_ways() {
  kam_rpc iptrtpproxy.list 2>&1 | kam_sessions >"$KAM_DIR/list-$1.txt" &&
    awk '/^loop:[0-9]+\// && $6 > 10 && $7 > 10 {ok = 1} END {exit !ok}' "$KAM_DIR/list-$1.txt"
}
# Restart in the middle of the call: once its answer is through and RTP flows both ways.
e2e_check_within 20 "the call is up: RTP flows both ways through the first relay" rtp_both_ways before
SID=$(grep -oE "^loop:[0-9]+/" "$KAM_DIR/list-before.txt" | head -1 | grep -oE "[0-9]+")
SID=${SID:-none}
kam_check "the first Kamailio allocated the call's session ($SID)" [ "$(kam_logged "sessions loop:$SID/")" -eq 1 ]
kam_check "the journal holds it" grep -q "^A loop $SID " "$JOURNAL"
kam_stop
kam_start -A "IPT_RELAY_JOURNAL=\"$JOURNAL\"" || kam_finish
kam_check "the new relay restored one session" [ "$(kam_logged 'relay started sessions=1')" -eq 1 ]
e2e_check_within 20 "RTP flows through the restored session (both sides counted)" rtp_both_ways after
sed 's/^/    /' "$KAM_DIR/list-after.txt"
wait "$caller"
rc=$?
kam_check "the call completes across the restart" [ "$rc" -eq 0 ]
kam_check "the BYE through the new Kamailio deleted the restored session" [ "$(kam_logged "ended: sessions loop:$SID/")" -eq 1 ]
kam_check "no session left on the relay" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
