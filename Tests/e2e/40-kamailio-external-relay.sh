#!/usr/bin/env bash
# The module against an external build/iptrtpproxyd: over its Unix control socket, then over TCP
# and over TLS (client certificate asked) with the shared secret's challenge; then the relay stopped (SIGSTOP: slow) and gone (killed). A relay that
# does not answer costs one bounded wait (relay_timeout) and one log line; the function returns
# -1, the call goes on without the relay, and no Kamailio worker dies.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-external-relay
RELAYD="$KAM_ROOT/build/iptrtpproxyd"
CLI="$KAM_ROOT/build/iptrtpproxy"
[ -x "$RELAYD" ] || { echo "[$KAM_NAME] $RELAYD is missing (make build)"; exit 1; }
kam_write_switchboards

RELAY_SOCK="$KAM_DIR/relay.sock"
RELAY_TCP_PORT=$((GATE_A_PORT + 390))
RELAY_TLS_PORT=$((GATE_A_PORT + 391))
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" >"$KAM_DIR/secret"
bash "$KAM_ROOT/Tests/e2e/lib/make-certs.sh" "$KAM_DIR/certs" >/dev/null
CERTS="$KAM_DIR/certs"
"$RELAYD" --config "$KAM_DIR/iptrtpproxy.cfg" --control "unix:$RELAY_SOCK" \
  --control-tcp "127.0.0.1:$RELAY_TCP_PORT" --secret-file "$KAM_DIR/secret" --workers 1 \
  --control-tls "127.0.0.1:$RELAY_TLS_PORT" --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
  --tls-ca "$CERTS/ca.pem" \
  >"$KAM_DIR/iptrtpproxyd.log" 2>&1 &
RELAYD_PID=$!
e2e_track "$RELAYD_PID"
e2e_check_within 30 "iptrtpproxyd is listening on $RELAY_SOCK" test -S "$RELAY_SOCK"

relay_stats() { "$CLI" stats --control "unix:$RELAY_SOCK" 2>&1; }
# iptrtpproxy_delete does not wait for the relay: its count may trail the call's end a little.
relay_counted() { relay_stats | grep -q "$1"; }

# 1. Unix control socket.
RELAY="unix:$RELAY_SOCK" kam_start || kam_finish
kam_capture_start
kam_check "call over the relay's Unix socket completes" kam_call uas-call.xml uac-call.xml unix
kam_capture_stop
kam_check "callee got the offer rewritten to a relay port of gate B" kam_read_session "$KAM_DIR/unix-uas.log"
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed by iptrtpproxyd: caller -> callee $to_callee, callee -> caller $to_caller"
relayed_both_ways() { [ "$to_callee" -gt 20 ] && [ "$to_caller" -gt 20 ]; }
kam_check "iptrtpproxyd relayed RTP both ways" relayed_both_ways
e2e_check_within 5 "iptrtpproxyd: one session allocated and deleted" relay_counted "1 allocated, 1 deleted"
kam_check "kamcmd iptrtpproxy.list reaches the external relay" kam_no_sessions_left
kam_stop

# 2. TCP with the shared secret.
RELAY="tcp:127.0.0.1:$RELAY_TCP_PORT" kam_start -A "IPT_RELAY_SECRET=\"$(cat "$KAM_DIR/secret")\"" || kam_finish
kam_check "call over the relay's TCP control port completes" kam_call uas-call.xml uac-call.xml tcp
kam_check "callee got the offer rewritten (a relay port of gate B)" kam_read_session "$KAM_DIR/tcp-uas.log"
e2e_check_within 5 "iptrtpproxyd: two sessions allocated and deleted" relay_counted "2 allocated, 2 deleted"
kam_stop

# 2b. TLS: the relay's certificate verified, the module's client certificate asked for.
RELAY="tls:127.0.0.1:$RELAY_TLS_PORT" kam_start -A "IPT_RELAY_SECRET=\"$(cat "$KAM_DIR/secret")\"" \
  -A "IPT_RELAY_TLS_CA=\"$CERTS/ca.pem\"" -A "IPT_RELAY_TLS_CERT=\"$CERTS/client.pem\"" \
  -A "IPT_RELAY_TLS_KEY=\"$CERTS/client.key\"" || kam_finish
kam_check "call over the relay's TLS control port completes" kam_call uas-call.xml uac-call.xml tls
kam_check "callee got the offer rewritten (a relay port of gate B)" kam_read_session "$KAM_DIR/tls-uas.log"
e2e_check_within 5 "iptrtpproxyd: three sessions allocated and deleted" relay_counted "3 allocated, 3 deleted"
kam_check "the CLI reaches the relay over TLS too" \
  "$CLI" stats --control "tls:localhost:$RELAY_TLS_PORT" --tls-ca "$CERTS/ca.pem" --tls-cert "$CERTS/client.pem" \
  --tls-key "$CERTS/client.key" --secret-file "$KAM_DIR/secret"
kam_stop

# 3. A relay that does not answer (stopped), then one that is gone.
RELAY="unix:$RELAY_SOCK" kam_start -A "IPT_RELAY_TIMEOUT=300" || kam_finish
kill -STOP "$RELAYD_PID"
kam_check "call completes while the relay hangs (media not relayed)" kam_call uas-call.xml uac-call.xml slow
kill -CONT "$RELAYD_PID"
kam_check "callee got the offer untouched (caller's own port)" \
  grep -q "^received INVITE .*m=audio $UAC_MEDIA_PORT " <(kam_trace "$KAM_DIR/slow-uas.log")
kam_check "the log says the relay gave no reply within the timeout" [ "$(kam_logged 'ERROR: iptrtpproxy: .*within the timeout')" -ge 1 ]

e2e_stop "$RELAYD_PID"
kam_check "call completes with the relay gone (media not relayed)" kam_call uas-call.xml uac-call.xml gone
kam_check "callee got the offer untouched" \
  grep -q "^received INVITE .*m=audio $UAC_MEDIA_PORT " <(kam_trace "$KAM_DIR/gone-uas.log")
kam_check "one log line: the relay's socket does not answer" \
  [ "$(kam_logged "ERROR: iptrtpproxy: .*relay.sock\|ERROR: iptrtpproxy: .*connect")" -ge 1 ]
# The worker learns the relay's switchboards from its info when first needed, so its find (or,
# once it knows them, its alloc) is what returns false.
kam_check "the script saw find or alloc return false twice" \
  [ "$(kam_logged 'iptrtpproxy_alloc failed\|no switchboard between')" -eq 2 ]
kam_check "the relay was marked down once per outage, not once per call" \
  [ "$(kam_logged 'is down: ')" -le 2 ]
kam_check "kamcmd iptrtpproxy.list reports the relay down, not a crash" \
  bash -c "kamcmd -s 'unix:$KAM_CTL' iptrtpproxy.list 2>&1 | grep -qi 'error\|relay'"
kam_finish
