#!/usr/bin/env bash
# A media host lost mid-call and taken over (issues 10 and 12): Kamailio with two media hosts
# (build/iptrtpproxyd over TCP), host 1 keeping its sessions in a real redis-server. A call is set
# up on host 1; host 1 is SIGKILLed during the call and a new relay takes its place (same
# switchboards file and control address, same Redis, another folder, no journal), as a standby
# does after a VRRP failover. The call's RTP flows again, the proxy's session ids (pool@h1:...)
# keep working: the BYE's iptrtpproxy_delete reaches the new relay, and Redis ends empty.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-redis-takeover
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || { kam_log "redis-server is not installed (make deps)"; exit 1; }
RELAYD="$KAM_ROOT/build/iptrtpproxyd"
CLI="$KAM_ROOT/build/iptrtpproxy"
[ -x "$RELAYD" ] || { echo "[$KAM_NAME] $RELAYD is missing (make build)"; exit 1; }
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" >"$KAM_DIR/secret"
PORTS=$(e2e_free_ports 17700 17999 3 --tcp) || { echo "[$KAM_NAME] no free TCP ports"; exit 1; }
REDIS_PORT=$((PORTS + 2))
RELAY_PIDS=(- - -)

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$KAM_DIR/redis.log" 2>&1 &
REDIS_PID=$!
e2e_track "$REDIS_PID"
wait_for 10 "redis-server to answer" bash -c "redis-cli -p $REDIS_PORT ping 2>/dev/null | grep -q PONG"

# start_relay N FOLDER: host N (gates 127.0.N.1 / .2) from $KAM_DIR/FOLDER, control TCP
# 127.0.0.1:PORTS+N-1; host 1 keeps its sessions in Redis.
start_relay() {
  local extra=""
  [ "$1" = 1 ] && extra=$(printf '[relay]\nredis = redis://127.0.0.1:%s' "$REDIS_PORT")
  kam_media_host "$1" "$KAM_DIR/$2" $((PORTS + $1 - 1)) "$extra"
  RELAY_PIDS[$1]=$MEDIA_HOST_PID
}
relays() { kam_rpc iptrtpproxy.relays 2>&1 | kam_rpc_records; }
host_up() { relays | grep "^h$1 " | grep -q "state=up"; }
KEY="iptrtpproxy:sessions:A=127.0.1.1:$GATE_A_PORT;B=127.0.1.2:$GATE_B_PORT"

start_relay 1 host1
start_relay 2 host2
RELAY="tcp:127.0.0.1:$PORTS;weight=1000;id=h1" kam_start \
  -A "IPT_RELAY2=\"tcp:127.0.0.1:$((PORTS + 1));id=h2\"" \
  -A "IPT_RELAY_SECRET=\"$(cat "$KAM_DIR/secret")\"" -A "IPT_SWITCHBOARD=\"pool\"" \
  -A "IPT_RELAY_TIMEOUT=500" -A "IPT_RELAY_PROBE_INTERVAL=300" || kam_finish
both_up() { [ "$(relays | grep -c state=up)" -eq 2 ]; }
e2e_check_within 20 "both hosts up" both_up

# The caller plays its clip, waits 6 s (the takeover happens then), plays it again through
# whatever relay serves host 1's gates by then, and hangs up 2 s later.
KAM_CALL_MS=6000
( kam_call uas-call.xml uac-call-twice.xml long; echo $? >"$KAM_DIR/long.rc" ) &
CALL_PID=$!
e2e_track "$CALL_PID"
e2e_check_within 10 "the call's session is on host 1 and in Redis" \
  bash -c "[ \"\$(redis-cli -p $REDIS_PORT hlen '$KEY')\" = 1 ]"
e2e_check_within 5 "the session ids name host 1" bash -c "grep -q 'sessions pool@h1:' '$KAM_DIR/kamailio.log'"
IDS=$(grep -o 'sessions pool@h1:[^,]*' "$KAM_DIR/kamailio.log" | head -1 | cut -d' ' -f2)
e2e_check_within 5 "Redis holds the callee's latch" bash -c "redis-cli -p $REDIS_PORT hgetall '$KEY' | grep -q '^L pool '"

kill -KILL "${RELAY_PIDS[1]}"
wait "${RELAY_PIDS[1]}" 2>/dev/null
start_relay 1 standby
e2e_check "the standby restored the call's session from Redis" \
  grep -q "restored 1 session" "$KAM_DIR/standby/daemon.log"
e2e_check_within 10 "the proxy finds host 1 up again" host_up 1

wait "$CALL_PID"
e2e_untrack "$CALL_PID"
kam_check "the call completes (BYE answered)" [ "$(cat "$KAM_DIR/long.rc" 2>/dev/null)" = 0 ]
standby_forwarded() { "$CLI" stats --control "unix:$KAM_DIR/standby/control.sock" | grep -oE "packets: [0-9]+ forwarded" | grep -oE "[0-9]+"; }
kam_check "the standby relayed the call's second clip ($(standby_forwarded) packets)" [ "$(standby_forwarded)" -ge 20 ]
e2e_check_within 5 "the BYE's delete by the old ids reached the standby" \
  bash -c "'$CLI' stats --control 'unix:$KAM_DIR/standby/control.sock' | grep -q '1 deleted'"
kam_check "no error about the call's ids in Kamailio's log" bash -c "! grep -q 'ERROR: iptrtpproxy: delete' '$KAM_DIR/kamailio.log'"
e2e_check_within 5 "Redis holds nothing after the BYE" bash -c "[ \"\$(redis-cli -p $REDIS_PORT dbsize)\" = 0 ]"
kam_finish
