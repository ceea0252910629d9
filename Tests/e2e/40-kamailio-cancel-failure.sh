#!/usr/bin/env bash
# Calls that never get answered free their sessions in the failure route: one cancelled by the
# caller while it rings (CANCEL / 487), one refused by the callee (486 Busy Here).
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-cancel-failure
kam_start || kam_finish

kam_check "cancelled call: INVITE / 180 / CANCEL / 487 / ACK" kam_call uas-cancel.xml uac-cancel.xml cancel
kam_check "callee saw the offer rewritten to a relay port of gate B" kam_read_session "$KAM_DIR/cancel-uas.log"
kam_check "the failure route deleted the cancelled call's session ($SID)" [ "$(kam_logged "failed: sessions loop:$SID/")" -eq 1 ]

kam_check "refused call: INVITE / 486 / ACK" kam_call uas-busy.xml uac-busy.xml busy
# (Its slot is drawn at random and may be the cancelled call's again: slots rest 0 s here.)
kam_check "the failure route deleted the refused call's session too" [ "$(kam_logged "failed: sessions loop:[0-9]*/")" -eq 2 ]

kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
