#!/usr/bin/env bash
# Several media hosts behind one Kamailio (issue 10): three build/iptrtpproxyd, each with its own
# switchboards file declaring switchboard 'pool' on its own loopback addresses (host N: gates
# 127.0.N.1 and 127.0.N.2), reached over TCP with the shared secret, weights 2, 1, 1.
#  1. calls spread over the hosts by weight (4, 2, 2 of 8), media relayed by each, ids name the host;
#  2. host 2 SIGKILLed: every following call completes on the others;
#  3. host 3 SIGSTOPped (hung: it accepts, never replies): calls complete on host 1, at most one
#     of them waits relay_timeout on host 3, which is marked down once;
#  4. both come back (SIGCONT, restart): the prober marks them up and they take calls again;
#  5. no session left on any host; iptrtpproxy.relays shows each host;
#  6. hostile hosts (a relay that lies in its info, in its alloc replies, or sends noise): marked
#     down, calls go to the honest host, no worker dies; a full host: skipped, not marked down;
#  7. a bad relay modparam stops Kamailio at start with the modparam and the value named.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-relay-pool
RELAYD="$KAM_ROOT/build/iptrtpproxyd"
CLI="$KAM_ROOT/build/iptrtpproxy"
[ -x "$RELAYD" ] || { echo "[$KAM_NAME] $RELAYD is missing (make build)"; exit 1; }
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" >"$KAM_DIR/secret"
SECRET=$(cat "$KAM_DIR/secret")
CONTROL_PORT=$(e2e_free_ports 17700 17999 4 --tcp) || { echo "[$KAM_NAME] no free TCP ports"; exit 1; }
KAM_CALL_MS=500
RELAY_PIDS=(- - - -)

# A stopped host must not outlive the test: cleanup's SIGTERM only reaches it once it runs.
resume_relays() { local p; for p in "${RELAY_PIDS[@]}"; do [ "$p" = - ] || kill -CONT "$p" 2>/dev/null || true; done; }
E2E_CLEANUP_HOOKS+=(resume_relays)

# start_relay N: host N (gates 127.0.N.1 / 127.0.N.2) in $KAM_DIR/hostN, control TCP 127.0.0.1:CONTROL_PORT+N-1.
start_relay() {
  kam_media_host "$1" "$KAM_DIR/host$1" $((CONTROL_PORT + $1 - 1))
  RELAY_PIDS[$1]=$MEDIA_HOST_PID
}
host_stats() { "$CLI" stats --control "unix:$KAM_DIR/host$1/control.sock" 2>&1; }
allocated_on() { host_stats "$1" | grep -oE "[0-9]+ allocated" | grep -oE "[0-9]+"; }
relays() { kam_rpc iptrtpproxy.relays 2>&1 | kam_rpc_records; }
# relay_has ID PATTERN: host ID's line of relays matches PATTERN (fields in the answer's order).
relay_has() { relays | grep "^$1 " | grep -q -- "$2"; }
host_state() { relays | grep "^h$1 " | grep -oE "state=[a-z]+" | cut -d= -f2; }
all_up() { [ "$(relays | grep -c 'state=up')" -eq "$1" ]; }
# The host (N of 127.0.N.2) whose gate B the callee of call NAME was sent to.
call_host() { kam_trace "$KAM_DIR/$1-uas.log" | grep "^received INVITE" | head -1 | grep -oE "c=IN IP4 127\.0\.[0-9]+\.2" | cut -d. -f3; }

for n in 1 2 3; do start_relay "$n"; done
RELAY="tcp:127.0.0.1:$CONTROL_PORT;weight=2;id=h1" kam_start \
  -A "IPT_RELAY2=\"tcp:127.0.0.1:$((CONTROL_PORT + 1));id=h2\"" \
  -A "IPT_RELAY3=\"tcp:127.0.0.1:$((CONTROL_PORT + 2));id=h3\"" \
  -A "IPT_RELAY_SECRET=\"$SECRET\"" -A "IPT_SWITCHBOARD=\"pool\"" \
  -A "IPT_RELAY_TIMEOUT=500" -A "IPT_RELAY_PROBE_INTERVAL=300" || kam_finish
kam_check_within() { e2e_check_within "$@"; }
e2e_check_within 20 "the prober finds the three hosts up (iptrtpproxy.relays)" all_up 3

# 1. Spread by weight.
hosts=""
for i in 1 2 3 4 5 6 7 8; do
  kam_call uas-call.xml uac-call.xml "spread$i" || e2e_fail "call spread$i completes"
  hosts="$hosts$(call_host "spread$i")"
done
kam_log "hosts of the 8 calls: $hosts"
count_of() { tr -cd "$1" <<<"$2" | wc -c; }
kam_check "weights 2:1:1 give host 1 four calls, hosts 2 and 3 two each" \
  [ "$(count_of 1 "$hosts")" -eq 4 -a "$(count_of 2 "$hosts")" -eq 2 -a "$(count_of 3 "$hosts")" -eq 2 ]
kam_check "every relay allocated what the callee saw (4, 2, 2)" \
  [ "$(allocated_on 1)" -eq 4 -a "$(allocated_on 2)" -eq 2 -a "$(allocated_on 3)" -eq 2 ]
forwarded() { host_stats "$1" | grep -oE "packets: [0-9]+ forwarded" | grep -oE "[0-9]+"; }
kam_check "each host relayed its calls' RTP" [ "$(forwarded 1)" -gt 100 -a "$(forwarded 2)" -gt 50 -a "$(forwarded 3)" -gt 50 ]
kam_check "session ids name their host (pool@h1:..., pool@h2:...)" \
  bash -c "grep -q 'sessions pool@h1:' '$KAM_DIR/kamailio.log' && grep -q 'sessions pool@h2:' '$KAM_DIR/kamailio.log'"

# 2. Host 2 killed.
kill -KILL "${RELAY_PIDS[2]}"
wait "${RELAY_PIDS[2]}" 2>/dev/null
hosts=""
for i in 1 2 3 4; do
  kam_call uas-call.xml uac-call.xml "killed$i" || e2e_fail "call killed$i completes with host 2 killed"
  hosts="$hosts$(call_host "killed$i")"
done
kam_log "hosts with host 2 killed: $hosts"
kam_check "with host 2 killed every call was relayed by host 1 or 3" [ "${#hosts}" -eq 4 -a -z "${hosts//[13]/}" ]
e2e_check_within 5 "iptrtpproxy.relays shows host 2 down" relay_has h2 "state=down"

# 3. Host 3 hung.
kill -STOP "${RELAY_PIDS[3]}"
hosts=""
for i in 1 2 3; do
  kam_call uas-call.xml uac-call.xml "hung$i" || e2e_fail "call hung$i completes with host 3 hung"
  hosts="$hosts$(call_host "hung$i")"
done
kam_log "hosts with host 3 hung: $hosts"
kam_check "with host 3 hung every call was relayed by host 1" [ "$hosts" = 111 ]
kam_check "at most one call waited on the hung host" [ "$(kam_logged "h3 .*failed (.*); the call goes to the next host")" -le 1 ]
e2e_check_within 5 "host 3 is down" relay_has h3 "state=down"
kam_check "host 3 was marked down once, not once per call or probe" \
  relay_has h3 "failures=1 "
kam_check "its last error says it did not answer in time" \
  relay_has h3 "within the timeout"

# 4. Both come back.
kill -CONT "${RELAY_PIDS[3]}"
start_relay 2
e2e_check_within 20 "the prober finds hosts 2 and 3 up again" all_up 3
hosts=""
for i in 1 2 3 4; do
  kam_call uas-call.xml uac-call.xml "back$i" || e2e_fail "call back$i completes"
  hosts="$hosts$(call_host "back$i")"
done
kam_log "hosts after the return: $hosts"
kam_check "hosts 2 and 3 take calls again" [ "$(count_of 2 "$hosts")" -ge 1 -a "$(count_of 3 "$hosts")" -ge 1 ]
kam_check "the module logged each return" [ "$(kam_logged "media host h[23] .* is up")" -ge 4 ]

# 5. Nothing left anywhere.
no_sessions_anywhere() {
  local out n
  out=$(kam_rpc iptrtpproxy.list 2>&1) || return 1
  [ "$(kam_rpc_value total <<<"$out")" = 0 ] && [ "$(kam_rpc_records <<<"$out" | wc -l)" -eq 0 ] || { echo "$out"; return 1; }
  for n in 1 2 3; do
    host_stats "$n" | grep -q "sessions: 0 active" || return 1
  done
}
e2e_check_within 5 "no session left on any host" no_sessions_anywhere
kam_check "iptrtpproxy.stats has a record per host, each up" [ "$(kam_rpc iptrtpproxy.stats | kam_rpc_records | grep -c ' state=up ')" -eq 3 ]
relays | sed "s/^/[$KAM_NAME]   /"
WORKERS=$(pgrep -c -s "$KAM_PID")
kam_stop

# 6. Hostile hosts: each as the preferred host (weight 1000) beside honest host 1.
for mode in bad-info bad-alloc garbage full; do
  port=$((CONTROL_PORT + 3))
  python3 "$KAM_ROOT/Tests/e2e/lib/hostile_relay.py" "$port" "$mode" >"$KAM_DIR/hostile-$mode.log" 2>&1 &
  HOSTILE_PID=$!
  e2e_track "$HOSTILE_PID"
  wait_for 10 "the hostile relay to listen" bash -c "ss -Hntl 'sport = :$port' | grep -q ."
  RELAY="tcp:127.0.0.1:$port;weight=1000;id=liar" kam_start -A "IPT_RELAY_SECRET=\"$SECRET\"" \
    -A "IPT_RELAY2=\"tcp:127.0.0.1:$CONTROL_PORT;id=h1\"" \
    -A "IPT_SWITCHBOARD=\"pool\"" -A "IPT_RELAY_TIMEOUT=500" || kam_finish
  kam_check "$mode: the call completes" kam_call uas-call.xml uac-call.xml "$mode"
  kam_check "$mode: relayed by the honest host" [ "$(call_host "$mode")" = 1 ]
  # (A host that answers its probes sanely but lies to allocs is taken up again by the next probe,
  # and down again by the next call: each costs one round trip, never a wait.)
  if [ "$mode" = full ]; then
    kam_check "full: the full host is skipped for the call, not marked down" \
      relay_has liar "state=up .*failures=0 "
  else
    e2e_check_within 5 "$mode: the lying host was marked down, with the reason" \
      relay_has liar 'failures=[1-9][0-9]* last-error="[^"]'
  fi
  kam_check "$mode: no Kamailio process died" [ "$(pgrep -c -s "$KAM_PID")" -eq "$WORKERS" ]
  kam_check "$mode: no crash in the log" bash -c "! grep -qi 'signal\|segfault\|fatal' '$KAM_DIR/kamailio.log'"
  kam_stop
  e2e_stop "$HOSTILE_PID"
done
e2e_check_within 5 "no session left on host 1" bash -c "'$CLI' stats --control 'unix:$KAM_DIR/host1/control.sock' | grep -q 'sessions: 0 active'"

# 7. Bad relay modparams: Kamailio refuses to start and names the modparam and the value.
refuses_start() {
  local value=$1 log="$KAM_DIR/refused.log"
  kamailio -f "$KAM_ROOT/examples/kamailio.cfg" -c -A "IPT_MODULE=\"$KAM_MODULE\"" -A "LISTEN=udp:127.0.0.1:$KAM_SIP_PORT" \
    -A "IPT_RELAY=\"$value\"" ${2:+-A "IPT_RELAY2=\"$2\""} >"$log" 2>&1 && { echo "kamailio accepted relay '$value'"; return 1; }
  grep -q "modparam 'relay'" "$log" && grep -qF "${3:-$value}" "$log" || { tail -3 "$log"; return 1; }
}
kam_check "relay 'foo:bar' refused at start" refuses_start "foo:bar"
kam_check "relay 'tcp:127.0.0.1:99999' refused at start" refuses_start "tcp:127.0.0.1:99999"
kam_check "relay with weight=0 refused at start" refuses_start "tcp:127.0.0.1:7722;weight=0"
kam_check "embedded mixed with a media host refused at start" refuses_start "embedded" "tcp:127.0.0.1:7722" "embedded"
kam_finish
