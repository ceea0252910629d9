#!/usr/bin/env bash
# The RPC commands answer with structs and arrays, over kamcmd (ctl's binrpc) and JSON-RPC on HTTP
# (jsonrpcs + xhttp), with no truncation at any size:
#  1. the relay holds 2,100 sessions (allocated on its control socket, ids kept);
#  2. kamcmd reads iptrtpproxy.list page by page (OFFSET, LIMIT 100 by default): every session
#     once, `total` 2,100 on every page; JSON-RPC reads it in pages of 1,000: the same ids, each
#     record with its fields (call-id and from-tag as the alloc named them);
#  3. a page larger than kamcmd's own 128 KiB reply buffer fails loudly in kamcmd, never short;
#  4. iptrtpproxy.stats is an object of numbers with one per switchboard, over both transports;
#  5. bad parameters (negative, not a number, too large, too many, unknown switchboard) are an RPC
#     fault 400 with a message over both; iptrtpproxy.relays without media hosts is a fault 501;
#  6. Kamailio logged no overflow, no module error, and kept every process;
#  7. with ctl's room per array cut to 1 KiB, a page too large for it is a fault 500 (logged once).
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-rpc
SESSIONS=2100
# One free block for both gates: RTP+RTCP per session on each.
base=$(kam_free_ports 20000 45999 $((4 * SESSIONS))) || { kam_log "no free block of $((4 * SESSIONS)) ports"; exit 1; }
GATE_A_PORT=$base GATE_B_PORT=$((base + 2 * SESSIONS)) KAM_MAX_SESSIONS=$SESSIONS
HTTP_PORT=$(kam_free_ports 15060 15599 1) || exit 1
URL="http://127.0.0.1:$HTTP_PORT/RPC"
KAM_CFG="$KAM_SIPP_DIR/rpc.cfg" kam_start -A "HTTP_LISTEN=tcp:127.0.0.1:$HTTP_PORT" || kam_finish
wait_for 10 "xhttp to listen on tcp:$HTTP_PORT" bash -c "ss -Hntl 'sport = :$HTTP_PORT' | grep -q ."

# JSON-RPC: METHOD [PARAMS-JSON] -> the whole response.
jsonrpc() {
  curl -sS --max-time 30 -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":${2:-[]},\"id\":1}" "$URL"
}
# json_get EXPR: evaluates EXPR on the JSON on stdin (as `j`) and prints it.
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# 1.
python3 "$KAM_ROOT/Tests/e2e/lib/fill_relay.py" "$(kam_relay_socket)" loop "$SESSIONS" >"$KAM_DIR/allocated.txt" 2>"$KAM_DIR/fill.err"
kam_check "the relay holds $SESSIONS sessions" [ "$(sort -u "$KAM_DIR/allocated.txt" | wc -l)" -eq "$SESSIONS" ]
sort -u "$KAM_DIR/allocated.txt" >"$KAM_DIR/want.txt"

# 2. kamcmd, default pages.
kamcmd_pages() {
  local offset=0 total out pages=0
  : >"$KAM_DIR/kamcmd-ids.txt"
  while :; do
    out=$(kam_rpc iptrtpproxy.list "$offset" 2>&1) || { echo "page $offset: $out"; return 1; }
    total=$(kam_rpc_value total <<<"$out")
    [ "$total" = "$SESSIONS" ] || { echo "page $offset: total '$total'"; return 1; }
    kam_rpc_records <<<"$out" | awk '{print $1}' >>"$KAM_DIR/kamcmd-ids.txt"
    pages=$((pages + 1))
    offset=$((offset + $(kam_rpc_value limit <<<"$out")))
    [ "$offset" -lt "$total" ] || break
  done
  kam_log "kamcmd: $pages pages"
}
t0=$(e2e_now_us)
kam_check "kamcmd reads iptrtpproxy.list page by page, total $SESSIONS on each" kamcmd_pages
kam_log "kamcmd read $SESSIONS sessions in $((($(e2e_now_us) - t0) / 1000)) ms"
same_ids() { [ "$(wc -l <"$1")" -eq "$SESSIONS" ] && diff -q <(sort "$1") "$KAM_DIR/want.txt" >/dev/null; }
kam_check "kamcmd got every session exactly once" same_ids "$KAM_DIR/kamcmd-ids.txt"
one=$(kam_rpc iptrtpproxy.list 0 1 loop 2>&1)
kam_log "a record as kamcmd shows it: $(kam_rpc_records <<<"$one")"
record_has_fields() {
  kam_rpc_records <<<"$one" | grep -qE '^loop:[0-9]+/[0-9]+ switchboard=loop host= call-id=fill[0-9]+@e2e from-tag=t[0-9]+ port-a=[0-9]+ port-b=[0-9]+ address-a=127\.0\.0\.1:[0-9]+ .* packets-a=0 .* age=[0-9]+ idle=[0-9]+$'
}
kam_check "a kamcmd record names its fields (id, ports, addresses, counters, age, call-id)" record_has_fields

# JSON-RPC over HTTP, pages of 1,000.
t0=$(e2e_now_us)
python3 "$KAM_ROOT/Tests/e2e/lib/rpc_pages.py" "$URL" 1000 >"$KAM_DIR/json-ids.txt" 2>"$KAM_DIR/json-pages.err"
kam_log "JSON-RPC read $SESSIONS sessions in $((($(e2e_now_us) - t0) / 1000)) ms ($(tail -1 "$KAM_DIR/json-pages.err"))"
kam_check "JSON-RPC over HTTP reads every session exactly once, each record with its fields" \
  same_ids "$KAM_DIR/json-ids.txt" || cat "$KAM_DIR/json-pages.err"

# 3. kamcmd's own buffer.
big=$(kam_rpc iptrtpproxy.list 0 1000 2>&1); rc=$?
kam_log "kamcmd iptrtpproxy.list 0 1000: exit $rc, $(head -c 200 <<<"$big" | tr '\n' ' ')"
# The largest page kamcmd takes (the README advises pages of at most 300 with kamcmd).
largest=0
for n in 250 300 350 400 450 500; do
  [ "$(kam_rpc iptrtpproxy.list 0 "$n" 2>/dev/null | grep -c '^[[:space:]]*id: ')" -eq "$n" ] && largest=$n
done
kam_log "kamcmd takes pages of up to $largest records (of 250..500 tried)"
kam_check "kamcmd takes a page of 300 records" [ "$largest" -ge 300 ]
whole_or_loud() { [ "$rc" -ne 0 ] || [ "$(grep -c '^[[:space:]]*id: ' <<<"$big")" -eq 1000 ]; }
kam_check "a page over kamcmd's reply buffer fails loudly in kamcmd or comes whole, never short" whole_or_loud

# 4. stats.
stats=$(kam_rpc iptrtpproxy.stats 2>&1)
stats_numbers() {
  grep -qx $'\tsessions-active: '"$SESSIONS" <<<"$stats" && grep -qE $'^\tpackets: [0-9]+$' <<<"$stats" &&
    grep -qx $'\t\t\tname: loop' <<<"$stats"
}
kam_check "kamcmd iptrtpproxy.stats: sessions-active $SESSIONS, packets a number, one switchboard" stats_numbers
jstats=$(jsonrpc iptrtpproxy.stats)
kam_check "JSON-RPC iptrtpproxy.stats: numbers, per switchboard too" \
  [ "$(json_get 'j["result"]["sessions-active"], j["result"]["sessions-allocated"], j["result"]["switchboards"][0]["name"], j["result"]["switchboards"][0]["sessions-active"], type(j["result"]["drops-throttled"]).__name__' <<<"$jstats")" = "$SESSIONS $SESSIONS loop $SESSIONS int" ]
kam_check "iptrtpproxy.stats loop is that switchboard's object" \
  [ "$(jsonrpc iptrtpproxy.stats '["loop"]' | json_get 'j["result"]["name"], j["result"]["sessions-active"]')" = "loop $SESSIONS" ]

# 5. Bad parameters.
fault() { # METHOD ARGS... -> kamcmd's fault line
  kam_rpc -- "$@" 2>&1 | tr '\n' ' '
}
for args in "iptrtpproxy.list -5" "iptrtpproxy.list abc" "iptrtpproxy.list 0 5000" "iptrtpproxy.list 0 10 nosuch" \
    "iptrtpproxy.list 0 10 loop extra" "iptrtpproxy.stats nosuch" "iptrtpproxy.relays 1"; do
  # shellcheck disable=SC2086
  out=$(fault $args)
  kam_log "kamcmd $args -> $out"
  kam_check "kamcmd $args: fault 400 with a message" grep -q "error: 400 - iptrtpproxy\.[a-z]*: ..." <<<"$out"
done
out=$(fault iptrtpproxy.relays)
kam_check "kamcmd iptrtpproxy.relays without media hosts: fault 501" grep -q "error: 501 - .*external relays" <<<"$out"
for params in '[-1]' '["abc"]' '[0, 100000]' '[0, "1.5"]' '[0, 10, "nosuch"]' '[0, 10, "loop", 1]'; do
  out=$(jsonrpc iptrtpproxy.list "$params")
  kam_log "JSON-RPC iptrtpproxy.list $params -> $out"
  kam_check "JSON-RPC iptrtpproxy.list $params: error 400 with a message" \
    [ "$(json_get 'j["error"]["code"], j["error"]["message"].startswith("iptrtpproxy.list")' <<<"$out")" = "400 True" ]
done

# 6.
kam_check "Kamailio logged no overflow" [ "$(kam_logged 'overflow\|buffer too small')" -eq 0 ]
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_check "no Kamailio process died" e2e_running "$KAM_PID"
kam_stop

# 7. A transport that refuses part of an answer makes it a fault, never a short list: ctl with
#    1 KiB per array (2 bytes per record) takes a page of 300 sessions, not one of 600.
KAM_CFG="$KAM_SIPP_DIR/rpc.cfg" kam_start -A "HTTP_LISTEN=tcp:127.0.0.1:$HTTP_PORT" -A CTL_STRUCT_KB=1 || kam_finish
python3 "$KAM_ROOT/Tests/e2e/lib/fill_relay.py" "$(kam_relay_socket)" loop 600 >/dev/null 2>"$KAM_DIR/fill2.err"
small=$(kam_rpc iptrtpproxy.list 0 300 2>&1)
kam_check "ctl with 1 KiB per array: a page of 300 comes whole" [ "$(kam_rpc_records <<<"$small" | wc -l)" -eq 300 ]
refused=$(kam_rpc iptrtpproxy.list 0 600 2>&1 | tr '\n' ' ')
kam_log "kamcmd iptrtpproxy.list 0 600 -> $(head -c 300 <<<"$refused")"
kam_check "a page of 600 is a fault 500 that says the transport refused it" \
  grep -q "error: 500 - iptrtpproxy.list: the host's RPC transport refused the answer at item [0-9]* of [0-9]*" <<<"$refused"
kam_check "the module logged that once" [ "$(kam_logged "ERROR: iptrtpproxy: iptrtpproxy.list: the host's RPC transport refused")" -eq 1 ]
kam_check "no Kamailio process died" e2e_running "$KAM_PID"
kam_finish
