#!/usr/bin/env bash
# `make demo`: shows what the module does to a call's SDP, with the command-line tool and the
# example switchboards (no relay, no SIP proxy needed for this part).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/iptrtpproxy
cfg=iptrtpproxy.cfg.example
state=$(mktemp)
trap 'rm -f "$state"' EXIT

section() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

section "Switchboards in $cfg"
grep -E '^\[|^(addr|port)-' "$cfg"

section "Caller's offer (INVITE), from gate A's side of switchboard 'pub'"
cat examples/sdp/offer.sdp | tr -d '\r'

section "iptrtpproxy_alloc(\"3\", \"pub\"): the offer as the callee sees it"
$cli alloc --config "$cfg" --switchboard pub --flags 3 --state "$state" < examples/sdp/offer.sdp 2>"$state.sel" | tr -d '\r'
cat "$state.sel"; ids=$(sed -n 's/^session_ids=//p' "$state.sel")

section "Callee's answer (200 OK), from gate B's side"
cat examples/sdp/answer.sdp | tr -d '\r'

section "iptrtpproxy_update(\"0\", \"$ids\"): the answer as the caller sees it (video refused: its session is freed)"
$cli update --config "$cfg" --session-ids "$ids" --flags 0 --state "$state" < examples/sdp/answer.sdp 2>"$state.sel" | tr -d '\r'
cat "$state.sel"; ids=$(sed -n 's/^session_ids=//p' "$state.sel")

section "iptrtpproxy_adjust_timeout(\"1\", \"$ids\") on 200 OK, then iptrtpproxy_delete at BYE"
$cli adjust-timeout --config "$cfg" --session-ids "$ids" --flags 1 --state "$state" 2>&1 | grep -E '^(result|error)'
$cli delete --config "$cfg" --session-ids "$ids" --state "$state" --json
echo "sessions left: $(wc -l < "$state")"
rm -f "$state.sel"
