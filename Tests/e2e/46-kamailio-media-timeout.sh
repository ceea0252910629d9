#!/usr/bin/env bash
# Media timeout reaches the proxy: a call whose phones never send RTP. Once its learning windows
# close, the relay frees the session after the switchboard's expires-timeout (3 s here) and tells
# the module (control protocol `subscribe`, event `expired`); the module's "iptrtpproxy events"
# process runs event_route[iptrtpproxy:timeout] with @iptrtpproxy.session_ids, and the example
# script ends the call with the dialog module's dlg_bye: both phones get a BYE from the proxy and
# answer it. No session is left. A silent call with a delayed offer is ended the same way; a call
# that sends RTP and hangs up itself is not touched.
# Then the same with two media hosts (external iptrtpproxyd over TCP with the shared secret): the
# ids carry the host (`pool@hN:ID/CREATED`), and after both hosts restarted the events process has
# subscribed again and a silent call is still ended.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-media-timeout
KAM_EXPIRES_TIMEOUT=3
kam_start || kam_finish

kam_check "kamcmd core.ps shows the events process" grep -q "iptrtpproxy events" <(kam_rpc core.ps 2>&1)
kam_check "the events process subscribed to the embedded relay" \
  wait_for 10 "the events process to subscribe" grep -q "events: subscribed to the embedded relay" "$KAM_DIR/kamailio.log"

started=$(date +%s)
kam_check "silent call: both phones get a BYE from the proxy and answer it" \
  kam_call uas-call-silent.xml uac-call-silent.xml silent
took=$(( $(date +%s) - started ))
kam_log "the silent call was ended by the proxy after $took s (learning windows 10 s, expires-timeout 3 s)"

kam_check "the callee got a BYE (from the proxy)" grep -q "^received BYE" <(kam_trace "$KAM_DIR/silent-uas.log")
kam_check "the caller got a BYE (from the proxy)" grep -q "^received BYE" <(kam_trace "$KAM_DIR/silent-uac.log")
kam_check "the silent call's offer names a relay port of gate B" kam_read_session "$KAM_DIR/silent-uas.log"
kam_check "the module heard of the expired session" [ "$(kam_logged "events: the embedded relay expired session loop:$SID/")" -eq 1 ]
kam_check "event_route[iptrtpproxy:timeout] ran with @iptrtpproxy.session_ids = loop:$SID/..." \
  [ "$(kam_logged "media timeout: relay freed session loop:$SID/")" -eq 1 ]
kam_check "the route found the call's dialog and ended it" [ "$(kam_logged "media timeout: ending call ")" -eq 1 ]
kam_check "not before the learning windows closed (10 s)" [ "$took" -ge 10 ]
kam_check "no session left on the relay (kamcmd iptrtpproxy.list)" kam_no_sessions_left

# Delayed offer (INVITE without SDP, offer in the 200 OK, answer in the ACK): ended the same way.
kam_check "silent delayed-offer call: both phones get a BYE from the proxy and answer it" \
  kam_call uas-delayed-offer-silent.xml uac-delayed-offer-silent.xml delayed
kam_check "the delayed-offer call was ended by the timeout route" [ "$(kam_logged "media timeout: ending call ")" -eq 2 ]
kam_check "no session left after the delayed-offer call" kam_no_sessions_left

# A call with media that the phones end themselves: no event, no BYE from the proxy.
KAM_CALL_MS=2000
kam_check "a call with RTP completes normally (the phones hang up)" kam_call uas-call.xml uac-call.xml normal
sleep 2
kam_check "the normal call caused no timeout event" [ "$(kam_logged "media timeout: relay freed")" -eq 2 ]
kam_check "no session left after the normal call" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_check "kamailio logged no error" [ "$(kam_logged 'ERROR')" -eq 0 ]
kam_stop

# ---- two media hosts ----
RELAYD="$KAM_ROOT/build/iptrtpproxyd"
[ -x "$RELAYD" ] || { echo "[$KAM_NAME] $RELAYD is missing (make build)"; exit 1; }
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" >"$KAM_DIR/secret"
SECRET=$(cat "$KAM_DIR/secret")
CONTROL_PORT=$(e2e_free_ports 17700 17999 2 --tcp) || { echo "[$KAM_NAME] no free TCP ports"; exit 1; }
RELAY_PIDS=(- - -)
# start_relay N: host N on 127.0.N.1 / 127.0.N.2, TCP control on 127.0.0.1:CONTROL_PORT+N-1.
start_relay() {
  local n=$1
  cat >"$KAM_DIR/host$n.cfg" <<CFG
[switchboard:pool]
addr-a = 127.0.$n.1
addr-b = 127.0.$n.2
port-a = $GATE_A_PORT
port-b = $GATE_B_PORT
max-sess = $KAM_MAX_SESSIONS
expires-timeout = 3
resurrection-timeout = 0
CFG
  rm -f "$KAM_DIR/host$n.sock"
  "$RELAYD" --config "$KAM_DIR/host$n.cfg" --control "unix:$KAM_DIR/host$n.sock" \
    --control-tcp "127.0.0.1:$((CONTROL_PORT + n - 1))" --secret-file "$KAM_DIR/secret" --workers 1 \
    >>"$KAM_DIR/host$n.log" 2>&1 &
  RELAY_PIDS[$n]=$!
  e2e_track "${RELAY_PIDS[$n]}"
  wait_for 30 "host $n to listen" test -S "$KAM_DIR/host$n.sock"
}
subscribed_to() { [ "$(kam_logged "events: subscribed to media host h$1 ")" -ge "$2" ]; }
# silent_call NAME: a silent call ended by the proxy; sets HOST to the host that carried it.
silent_call() {
  local name=$1 before
  before=$(kam_logged "media timeout: ending call ")
  kam_check "$name: both phones get a BYE from the proxy and answer it" \
    kam_call uas-call-silent.xml uac-call-silent.xml "$name"
  HOST=$(kam_trace "$KAM_DIR/$name-uas.log" | grep "^received INVITE" | head -1 | grep -oE "c=IN IP4 127\.0\.[0-9]+\.2" | cut -d. -f3)
  kam_check "$name: the event route ran with @iptrtpproxy.session_ids = pool@h$HOST:..." \
    grep -qE "media timeout: relay freed session pool@h$HOST:[0-9]+/[0-9]+$" "$KAM_DIR/kamailio.log"
  kam_check "$name: the route ended the call" [ "$(kam_logged "media timeout: ending call ")" -eq $((before + 1)) ]
}
hosts_empty() { local n; for n in 1 2; do "$KAM_ROOT/build/iptrtpproxy" list --control "unix:$KAM_DIR/host$n.sock" 2>&1 | grep -q "(no sessions)" || return 1; done; }

for n in 1 2; do start_relay "$n"; done
RELAY="tcp:127.0.0.1:$CONTROL_PORT;id=h1" kam_start \
  -A "IPT_RELAY2=\"tcp:127.0.0.1:$((CONTROL_PORT + 1));id=h2\"" \
  -A "IPT_RELAY_SECRET=\"$SECRET\"" -A "IPT_SWITCHBOARD=\"pool\"" \
  -A "IPT_RELAY_TIMEOUT=500" -A "IPT_RELAY_PROBE_INTERVAL=300" || kam_finish
e2e_check_within 10 "the events process subscribed to both media hosts (over TCP, authenticated)" \
  eval "subscribed_to 1 1 && subscribed_to 2 1"
silent_call hosts1

# Both hosts restart: the events process subscribes again.
for n in 1 2; do kill -TERM "${RELAY_PIDS[$n]}"; wait "${RELAY_PIDS[$n]}" 2>/dev/null; e2e_untrack "${RELAY_PIDS[$n]}"; start_relay "$n"; done
e2e_check_within 10 "after the restart of both hosts the events process subscribed again to each" \
  eval "subscribed_to 1 2 && subscribed_to 2 2"
silent_call hosts2
e2e_check_within 5 "no session left on either host" hosts_empty
# The prober may find a host down while it restarts (an error an operator must see); nothing else.
module_errors_but_restart() { grep -- 'ERROR: iptrtpproxy' "$KAM_DIR/kamailio.log" | grep -vc -- ') is down: control tcp:' || true; }
kam_check "the module logged no error (but a restarting host found down by a probe)" \
  [ "$(module_errors_but_restart)" -eq 0 ]
kam_finish
