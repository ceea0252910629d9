#!/usr/bin/env bash
# The functions as a script sees them: 1 or -1 (never 0), parameters as literals, variables,
# selects and host:port strings, selects reset before every script run (no value where none was
# set), unknown switchboards and unreadable session ids refused, a second rewrite of one message
# refused, and a full switchboard (max-sess 1) refused with one log line while the call goes on.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-script-semantics
KAM_MAX_SESSIONS=1
KAM_CFG="$KAM_SIPP_DIR/script-semantics.cfg" kam_start || kam_finish

kam_check "first call completes" kam_call uas-call.xml uac-call.xml first
kam_check "second call completes (switchboard full)" kam_call uas-call.xml uac-call.xml second
checks=$(grep -o 'CHECK .*' "$KAM_DIR/kamailio.log")
echo "$checks" | sed 's/^/    /'
has() { grep -qxF -- "CHECK $1" <<<"$checks"; }
count() { grep -cxF -- "CHECK $1" <<<"$checks"; }

kam_check "selects have no value at the start of every request" [ "$(count 'INVITE-start-ids=<null> switchboard=<null> direction=<null>')" -eq 2 ]
kam_check "... also in-dialog (ACK, BYE)" [ "$(grep -c '^CHECK \(ACK\|BYE\)-start-ids=<null> switchboard=<null> direction=<null>$' <<<"$checks")" -eq 4 ]
kam_check "... and at the start of a reply" [ "$(count 'reply-200-start-ids=<null>')" -eq 1 ]
kam_check "find with unknown gates: -1, no switchboard" [ "$(count 'find-unknown=-1 switchboard=<null>')" -eq 2 ]
kam_check "find with a select and host:port: 1, switchboard loop, direction 1" [ "$(count 'find-loop=1 switchboard=loop direction=1')" -eq 2 ]
kam_check "alloc on an unknown switchboard: -1" [ "$(count 'alloc-unknown-switchboard=-1')" -eq 2 ]
kam_check "delete of unreadable ids: -1" [ "$(count 'delete-garbage=-1')" -eq 2 ]
kam_check "update on an unknown switchboard: -1" [ "$(count 'update-unknown-switchboard=-1')" -eq 2 ]
kam_check "alloc with flags from a variable and the found switchboard: 1" grep -qE '^CHECK alloc=1 ids=loop:0/[0-9]+ sdp_ip=127.0.0.1$' <<<"$checks"
kam_check "a second rewrite of the same message: -1" has "update-same-message=-1"
kam_check "... with one line naming the overlap" [ "$(kam_logged 'ERROR: iptrtpproxy: update: another change of the message body')" -eq 1 ]
kam_check "update of the answer: 1, same ids" grep -qE '^CHECK update-answer=1 ids=loop:0/[0-9]+$' <<<"$checks"
kam_check "adjust_timeout: 1" has "adjust=1"
kam_check "alloc on the full switchboard: -1, sdp_ip the empty string" grep -qE '^CHECK alloc=-1 ids=<null> sdp_ip=$' <<<"$checks"
kam_check "the full switchboard logged one line" [ "$(kam_logged 'ERROR: iptrtpproxy: alloc on .loop.*in use')" -eq 1 ]
kam_check "the second callee got the offer untouched" \
  grep -q "^received INVITE .*m=audio $UAC_MEDIA_PORT " <(kam_trace "$KAM_DIR/second-uas.log")
kam_check "no function returned 0" bash -c "! grep -q '^CHECK .*=0\( \|$\)' <<<\"\$1\"" _ "$checks"
kam_finish
