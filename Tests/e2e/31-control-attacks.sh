#!/usr/bin/env bash
# End to end (issue 11): iptrtpproxyd's control listeners against an attacker on the network.
# One relay with a Unix control socket and --control-tcp 127.0.0.1:PORT (a 128-bit secret in hex);
# Tests/e2e/lib/control_attacks.py plays the legitimate clients and the attacker, one phase at a
# time, and prints its measurements as JSON; this script checks them:
#   1. the v2 handshake works (greeting with a nonce, HMAC proof both ways; Unix: auth=none);
#   2. a capture of a legitimate exchange holds no secret;
#   3. the captured lines replayed on new connections are refused and allocate nothing;
#   4. wrong secrets at full speed: under 100 checked per second, logged with the address, a small log;
#   5. garbage and 10 MB lines: an error or a closed connection (a line over 4096 bytes: closed);
#   6. 500 idle connections (and 20 from one address): at most 256 (8) held, the rest closed by
#      the auth deadline; then 500 at once, more than the listen backlog takes;
#   7. 8 authenticated clients that never read: closed, the relay's memory bounded;
#   8. the relay is alive at the end, answers stats, and stops on SIGTERM.
# Through 4-7 a legitimate TCP client (new connection, handshake, ping) and the Unix socket must be
# served within 2 s every time. BIN_DIR (default: build/ of the repository) holds iptrtpproxyd
# (IPTRTPPROXYD, as in 30-relay-daemon.sh, names the binary itself).
source "$(dirname "$0")/lib/harness.sh"
e2e_init control-attacks dumpcap tshark
cd "$E2E_ROOT"
BIN_DIR=${BIN_DIR:-$E2E_ROOT/build}
DAEMON=${IPTRTPPROXYD:-$BIN_DIR/iptrtpproxyd}
[ -x "$DAEMON" ] || { e2e_log "$DAEMON is missing (make build, or set BIN_DIR)"; exit 1; }
ATTACK=$E2E_LIB/control_attacks.py
WORK=$E2E_DIR
SERVE=2   # seconds within which the legitimate clients must be served

# Gates on 127.0.0.21/.22 (+0..+31 and +64..+95 for 16 sessions), control TCP on
# 127.0.0.1 at +99; the clients come from 127.0.0.2-.7 and .100-.224 (SDP addresses: .31).
BASE=$(e2e_free_ports 20000 32000 100 --tcp --addr 127.0.0.21 --addr 127.0.0.22 --addr 127.0.0.1) ||
  { e2e_log "no free ports"; exit 1; }
CTL=127.0.0.1:$((BASE + 99))
e2e_log "ports $BASE-$((BASE + 99)); control TCP $CTL"

cat > "$WORK/iptrtpproxy.cfg" <<CFG
[switchboard:e2e]
addr-a = 127.0.0.21
addr-b = 127.0.0.22
port-a = $BASE
port-b = $((BASE + 64))
max-sess = 16
expires-timeout = 300
CFG
python3 -c 'import os; print(os.urandom(16).hex())' > "$WORK/secret"   # 128 bits, in hex
TLS=127.0.0.1:$((BASE + 98))
bash "$E2E_LIB/make-certs.sh" "$WORK/certs" >/dev/null
chmod 600 "$WORK/secret"

# A shorter auth deadline when the daemon has the option (the spec's default is 5 s).
AUTH_TIMEOUT=5
EXTRA=()
if "$DAEMON" --help 2>&1 | grep -q -- --control-auth-timeout; then
  AUTH_TIMEOUT=3
  EXTRA+=(--control-auth-timeout "$AUTH_TIMEOUT")
fi
e2e_log "auth deadline ${AUTH_TIMEOUT}s${EXTRA[*]:+ (passed as ${EXTRA[*]})}"

"$DAEMON" --config "$WORK/iptrtpproxy.cfg" --control "unix:$WORK/control.sock" --control-tcp "$CTL" \
  --secret-file "$WORK/secret" --workers 1 "${EXTRA[@]}" \
  --control-tls "$TLS" --tls-cert "$WORK/certs/server.pem" --tls-key "$WORK/certs/server.key" 2>>"$WORK/daemon.log" &
PID=$!
e2e_track "$PID"
daemon_up_or_gone() { grep -q "iptrtpproxyd .*running" "$WORK/daemon.log" || ! e2e_running "$PID"; }
wait_for 15 "iptrtpproxyd to log that it is running" daemon_up_or_gone
e2e_check "iptrtpproxyd starts" grep -q "iptrtpproxyd .*running" "$WORK/daemon.log" || { cat "$WORK/daemon.log"; e2e_finish; }

# run PHASE [ARGS...]: one phase of the attacker; its JSON result goes to $WORK/PHASE.json.
run() { run_as "$1" "$@"; }
# run_as NAME PHASE [ARGS...]: the same, its result in $WORK/NAME.json.
run_as() {
  local name=$1 phase=$2; shift 2
  e2e_log "phase $name"
  timeout 180 python3 "$ATTACK" "$phase" --tcp "$CTL" --unix "$WORK/control.sock" --secret-file "$WORK/secret" \
    --pid "$PID" --auth-timeout "$AUTH_TIMEOUT" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
    { e2e_log "phase $name failed:"; tail -5 "$WORK/$name.err"; }
}
# r PHASE KEY: one value of that phase's result ("" when missing).
r() { python3 "$ATTACK" get "$WORK/$1.json" "$2"; }
is() { [ "$(r "$1" "$2")" = "$3" ]; }
num() { [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; }
lt() { num "$1" && num "$2" && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
le() { num "$1" && num "$2" && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
alive() { e2e_check "the relay is alive after $1" e2e_running "$PID" || { tail -20 "$WORK/daemon.log"; e2e_finish; }; }
lines() { wc -l < "$WORK/daemon.log"; }
bytes() { wc -c < "$WORK/daemon.log"; }

# probes PHASE: the legitimate clients during that phase: every one served within $SERVE s.
probes() {
  local p=$1 kind n failed max err
  for kind in tcp unix; do
    n=$(r "$p" "probes.$kind.n"); failed=$(r "$p" "probes.$kind.failed"); max=$(r "$p" "probes.$kind.max")
    err=$(r "$p" "probes.$kind.first_error")
    e2e_check "$p: legitimate $kind client served $n times within ${SERVE}s (failed $failed, slowest ${max}s)" \
      eval 'le 2 "$n" && [ "$failed" = 0 ] && lt "$max" "$SERVE"' || e2e_log "  first error: $err"
  done
}

# 1. Legitimate clients ---------------------------------------------------------------------------
run legit
e2e_check "unix: greeting says auth=none, ping answers without auth ($(r legit unix_ping))" \
  eval 'is legit unix_auth none && is legit unix_ping "ok pong"'
e2e_check "tcp: greeting says auth=required" is legit tcp_auth required
e2e_check "tcp: a request before auth is refused ($(r legit tcp_before_auth))" \
  eval '[[ "$(r legit tcp_before_auth)" == "error authenticate first"* || "$(r legit tcp_before_auth)" == closed ]]'
e2e_check "tcp: the HMAC handshake succeeds and the relay's proof is right" is legit relay_proof_ok true ||
  e2e_log "  $(r legit session)"
e2e_check "tcp: ping after auth ($(r legit ping))" is legit ping "ok pong"
e2e_check "tcp: info says protocol iptrtp/2 ($(r legit info_protocol))" is legit info_protocol iptrtp/2
e2e_check "tcp: alloc succeeds ($(r legit alloc)) and is counted ($(r legit alloc_counted))" \
  eval '[[ "$(r legit alloc)" == "ok "* ]] && is legit alloc_counted 1'
e2e_check "tcp: delete succeeds ($(r legit delete))" is legit delete ok
e2e_check "tcp: three pipelined requests are answered in order ($(r legit pipelined))" is legit pipelined "ok ok ok"
e2e_check "every connection gets a fresh nonce ($(r legit distinct_nonces_of_10) distinct of 10)" \
  is legit distinct_nonces_of_10 10
is legit relay_proof_ok true || { e2e_log "no working v2 handshake: the attacks need one"; e2e_finish; }

# 2. A captured exchange holds no secret --------------------------------------------------------
: > "$WORK/dumpcap.log"
dumpcap -i lo -f "tcp port $((BASE + 99))" -w "$WORK/exchange.pcapng" 2>"$WORK/dumpcap.log" &
CAP=$!
e2e_track "$CAP"
# "File: ..." comes once the capture is open (after "Capturing on ...").
dumpcap_up_or_gone() { grep -q "^File: " "$WORK/dumpcap.log" || ! e2e_running "$CAP"; }
wait_for 10 "dumpcap to start capturing" dumpcap_up_or_gone
e2e_check "dumpcap captures on lo" grep -q "^File: " "$WORK/dumpcap.log" || cat "$WORK/dumpcap.log"
run exchange
# dumpcap gets packets from the kernel in blocks (up to a second late) and drops what it has not
# got when stopped: stop it once the file holds the client's FIN, which ends the exchange.
client_fin_captured() {
  [ "$(tshark -r "$WORK/exchange.pcapng" -Y "tcp.flags.fin == 1 && tcp.dstport == $((BASE + 99))" 2>/dev/null | wc -l)" -ge 1 ]
}
wait_for 10 "the capture file to hold the end of the exchange" client_fin_captured
e2e_stop "$CAP" 5
run analyze --capture "$WORK/exchange.pcapng"
e2e_check "the captured exchange was a working one (ping: $(r exchange ping), alloc: $(r exchange alloc))" \
  eval 'is exchange relay_proof_ok true && is exchange ping "ok pong" && [[ "$(r exchange alloc)" == "ok "* ]]'
e2e_check "the capture holds the greeting and the auth line ($(r analyze bytes_to_relay) bytes to the relay, $(r analyze bytes_from_relay) back)" \
  eval 'is analyze greeting_captured true && is analyze auth_captured true'
e2e_check "the captured proof is genuine (valid for the captured nonce)" is analyze captured_proof_valid true
e2e_check "the secret (hex text, either case, or its 16 raw bytes) is nowhere in the capture" is analyze secret_seen false

# 3. Replay ---------------------------------------------------------------------------------------
run replay --captured "$WORK/analyze.json"
e2e_check "replay: the new connection's nonce differs from the captured one" is replay new_nonce_differs true
e2e_check "replay: the captured auth line is refused ($(r replay first_reply))" \
  eval '[[ "$(r replay first_reply)" == "iptrtp/2 "*" error wrong secret" || "$(r replay first_reply)" == closed ]]'
e2e_check "replay: no replayed line is answered ok (one by one: $(r replay replies); at once: $(r replay replies_pipelined))" \
  is replay any_ok false
e2e_check "replay: nothing allocated (sessions allocated $(r replay allocated_before) -> $(r replay allocated_after))" \
  eval 'num "$(r replay allocated_before)" && [ "$(r replay allocated_before)" = "$(r replay allocated_after)" ]'
alive "the replay"

# 4. Wrong secrets at full speed ----------------------------------------------------------------
L0=$(lines); B0=$(bytes)
run wrong --duration 3 --threads 8
L1=$(lines); B1=$(bytes)
W=$(r wrong wrong); T=$(r wrong elapsed)
e2e_log "guessing: a refused try is told: $(r wrong throttled_example)"
e2e_log "guessing: $(r wrong tries) tries in ${T}s ($(r wrong tries_per_s)/s): $W checked (error wrong secret), $(r wrong throttled) too many failed attempts, $(r wrong closed) closed, $(r wrong refused) refused, $(r wrong timeout) timed out, $(r wrong other) other $(r wrong others)"
e2e_check "guessing: the attack ran at full speed ($(r wrong tries_per_s) tries/s >= 200)" le 200 "$(r wrong tries_per_s)"
e2e_check "guessing: no wrong proof is accepted" is wrong ok 0
e2e_check "guessing: every try is answered (wrong secret, too many failed attempts or closed; $(r wrong timeout) timeouts, $(r wrong other) other)" \
  eval 'is wrong timeout 0 && is wrong other 0'
e2e_check "guessing: $(r wrong checked_per_s) secrets/s checked from one address (< 100/s)" lt "$(r wrong checked_per_s)" 100
e2e_check "guessing: $W checked in ${T}s is within the spec's budget (20 at once + 10/s: <= $(awk -v t="$T" 'BEGIN { printf "%d", 20 + 10 * t + 5 }'))" \
  eval 'num "$W" && le "$W" "$(awk -v t="$T" "BEGIN { print 20 + 10 * t + 5 }")"'
e2e_check "guessing: the extra tries are refused as too many failed attempts or closed ($(r wrong throttled) + $(r wrong closed))" \
  lt 0 "$(( $(r wrong throttled) + $(r wrong closed) ))"
probes wrong
wrong_logged() { tail -c +"$((B0 + 1))" "$WORK/daemon.log" | grep '127\.0\.0\.3' | grep -qiE 'auth|secret|fail'; }
e2e_check_within 2 "guessing: the failures are logged with the peer address 127.0.0.3" wrong_logged
ADDR_LINES=$(tail -c +"$((B0 + 1))" "$WORK/daemon.log" | grep -c '127\.0\.0\.3')
e2e_check "guessing: at most one log line per second names the guesser ($ADDR_LINES lines in ${T}s and the wait after)" \
  le "$ADDR_LINES" "$(awk -v t="$T" 'BEGIN { printf "%d", t + 3 }')"
e2e_check "guessing: the log stays small ($((L1 - L0)) lines, $(((B1 - B0) / 1024)) KB for the attack; < 200 lines, < 50 KB)" \
  eval '[ $((L1 - L0)) -lt 200 ] && [ $((B1 - B0)) -lt 51200 ]'
alive "the guessing"

# 5. Garbage ------------------------------------------------------------------------------------
L0=$(lines); B0=$(bytes)
run garbage
e2e_log "garbage: $(r garbage cases)"
for c in random_bytes binary_line no_newline line_10mb authed_binary_line authed_random_bytes authed_line_10mb \
  unix_line_10mb unix_binary_line; do
  e2e_check "garbage: $c gets an error reply or a closed connection ($(r garbage "cases.$c" | cut -c1-120))" \
    eval '[ -n "$(r garbage "cases.$c")" ] && ! grep -q "\"$c: " <<<"$(r garbage not_refused)"'
done
e2e_check "garbage: a malformed request after auth leaves the connection usable or closes it, never ok" \
  eval '! grep -q "not usable" <<<"$(r garbage not_refused)" && [ -n "$(r garbage cases.authed_binary_line)" ]'
e2e_check "garbage: a line over 4096 bytes ends the connection after the error ($(r garbage long_line_ends))" \
  eval 'is garbage long_line_ends.tcp closed && is garbage long_line_ends.tcp_authenticated closed && is garbage long_line_ends.unix closed'
e2e_check "garbage: bytes without a newline are closed by the auth deadline ($(r garbage no_newline_seconds)s, deadline ${AUTH_TIMEOUT}s)" \
  eval 'is garbage cases.no_newline closed && lt "$(r garbage no_newline_seconds)" $((AUTH_TIMEOUT + 3))'
probes garbage
e2e_check "garbage: the log stays small ($(($(lines) - L0)) lines, $((($(bytes) - B0) / 1024)) KB)" \
  eval '[ $(($(lines) - L0)) -lt 200 ] && [ $(($(bytes) - B0)) -lt 51200 ]'
alive "the garbage"

# 6. Idle connections ---------------------------------------------------------------------------
L0=$(lines); B0=$(bytes)
run idle --idle 500
e2e_log "idle: $(r idle opened_many) of 500 connected from 125 addresses, $(r idle opened_one) of 20 from one, in $(r idle open_seconds)s; $(r idle greeted) greeted (accepted by the relay), $(r idle never_greeted) never; held by the relay after 2 s: $(r idle open_many_after_2s) and $(r idle open_one_after_2s); closed by the relay: $(r idle closed_by_relay) ($(r idle closed_within_1s) within 1 s of their greeting, the last after $(r idle max_close_delay)s)"
e2e_check "idle: the connections were made ($(r idle opened_many) >= 256, the listener's cap)" le 256 "$(r idle opened_many)"
e2e_check "idle: the relay accepted (greeted) every one of them ($(r idle never_greeted) never greeted)" is idle never_greeted 0
probes idle
e2e_check "idle: at most 8 unauthenticated connections stay open from one address ($(r idle open_one_after_2s) of $(r idle opened_one))" \
  le "$(r idle open_one_after_2s)" 8
e2e_check "idle: at most 256 stay open on the TCP listener ($(r idle open_many_after_2s) of $(r idle opened_many))" \
  le "$(r idle open_many_after_2s)" 256
e2e_check "idle: every idle connection is closed by the relay by the auth deadline (${AUTH_TIMEOUT}s + 2 after its greeting; $(r idle still_open_after_deadline) left, the last after $(r idle max_close_delay)s)" \
  eval 'is idle still_open_after_deadline 0 && lt 0 "$(r idle closed_by_relay)" && le "$(r idle max_close_delay)" $((AUTH_TIMEOUT + 2))'
e2e_check "idle: the log stays small ($(($(lines) - L0)) lines, $((($(bytes) - B0) / 1024)) KB)" \
  eval '[ $(($(lines) - L0)) -lt 200 ] && [ $(($(bytes) - B0)) -lt 51200 ]'
alive "the idle connections"
# The same crowd all at once: more than the listen backlog takes; the legitimate clients still get in.
run_as burst idle --idle 500 --burst
e2e_log "burst: $(r burst opened_many) of 500 connected at once, $(r burst greeted) greeted by the relay within 2 s"
e2e_check "burst: the connections were made ($(r burst opened_many) >= 256)" le 256 "$(r burst opened_many)"
probes burst
alive "the burst of idle connections"

# 7. Clients that never read --------------------------------------------------------------------
run noread --clients 8 --sessions 12 --max-seconds 20
e2e_log "never-readers: RSS $(r noread rss_base_kb) kB at the start, at most $(r noread rss_max_kb) kB ($(r noread rss_growth_mb) MB more, $(r noread rss_samples) samples); sent KB per client $(r noread sent_kb); closed after $(r noread closed_at) s"
e2e_check "never-readers: each sent a backlog of requests (least $(r noread min_sent_kb) KB >= 64)" le 64 "$(r noread min_sent_kb)"
e2e_check "never-readers: the relay's memory stays bounded (+$(r noread rss_growth_mb) MB < 64 MB)" \
  eval 'le 5 "$(r noread rss_samples)" && lt "$(r noread rss_growth_mb)" 64'
e2e_check "never-readers: all 8 are closed by the relay within 15 s ($(r noread closed) closed, the last after $(r noread max_closed_at)s)" \
  eval 'is noread closed 8 && lt "$(r noread max_closed_at)" 15'
probes noread
e2e_check "never-readers: the sessions are deleted afterwards ($(r noread deleted) of $(r noread sessions))" \
  eval 'lt 0 "$(r noread sessions)" && [ "$(r noread deleted)" = "$(r noread sessions)" ]'
alive "the never-readers"

# 7b. The TLS listener ---------------------------------------------------------------------------
# Strangers who never start TLS, garbage instead of a ClientHello, a client that trusts another CA,
# and clients that finish TLS but never prove the secret; the CLI (relay certificate verified,
# challenge bound to the TLS session) is served within $SERVE s while they are there.
L0=$(lines)
timeout 60 python3 - "$TLS" "$WORK/certs" "$AUTH_TIMEOUT" >"$WORK/tls.json" 2>"$WORK/tls.err" <<'PY' &
import json, os, socket, ssl, sys, time
host, port = sys.argv[1].rsplit(":", 1); port = int(port); certs = sys.argv[2]; deadline = float(sys.argv[3])
def tcp():
    s = socket.create_connection((host, port), timeout=5); s.setblocking(False); return s
idle = [tcp() for _ in range(100)]
garbage = []
for i in range(20):
    s = tcp(); s.send(os.urandom(200) if i % 2 else b"iptrtp/2 1 ping\n"); garbage.append(s)
other = ssl.create_default_context(cafile=certs + "/other-ca.pem")
try:
    with socket.create_connection((host, port), timeout=5) as raw, other.wrap_socket(raw, server_hostname="127.0.0.1"):
        other_ca = "connected"
except ssl.SSLError as e:
    other_ca = "refused: " + e.reason if e.reason else "refused"
good = ssl.create_default_context(cafile=certs + "/ca.pem")
silent = []
for _ in range(10):
    raw = socket.create_connection((host, port), timeout=5)
    t = good.wrap_socket(raw, server_hostname="127.0.0.1"); silent.append(t)
greeted = sum(1 for t in silent if t.recv(200).startswith(b"iptrtp/2 - hello "))
print("ready", flush=True, file=sys.stderr)
start = time.monotonic(); open_left = idle + garbage + silent; closed_at = []
while open_left and time.monotonic() - start < deadline + 4:
    still = []
    for s in open_left:
        try:
            d = s.recv(4096)
            if d == b"": closed_at.append(time.monotonic() - start); continue
        except (BlockingIOError, ssl.SSLWantReadError, socket.timeout):
            pass
        except (ConnectionError, ssl.SSLError, OSError):
            closed_at.append(time.monotonic() - start); continue
        still.append(s)
    open_left = still
    for s in silent: s.settimeout(0.05)
    time.sleep(0.05)
print(json.dumps({"other_ca": other_ca, "greeted": greeted, "opened": len(idle) + len(garbage) + len(silent),
                  "closed": len(closed_at), "left": len(open_left), "last_close": round(max(closed_at or [0]), 2)}))
PY
TLS_PY=$!
wait_for 20 "the TLS strangers to be in place" grep -q ready "$WORK/tls.err"
cli_tls() {
  "$BIN_DIR/iptrtpproxy" stats --control "tls:$TLS" --tls-ca "$WORK/certs/ca.pem" --secret-file "$WORK/secret" >/dev/null
}
# The relay's part of serving a TLS client, timed without a process start: connect, TLS handshake
# with the relay's certificate verified, the greeting with its challenge.
tls_served_in() {
  python3 - "$TLS" "$WORK/certs/ca.pem" <<'PY'
import socket, ssl, sys, time
host, port = sys.argv[1].rsplit(":", 1)
t = time.monotonic()
with socket.create_connection((host, int(port)), timeout=5) as raw:
    with ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(raw, server_hostname=host) as s:
        ok = s.recv(200).startswith(b"iptrtp/2 - hello ")
print("%.3f" % (time.monotonic() - t) if ok else "no-greeting")
PY
}
took=$(tls_served_in)
e2e_check "tls: a client is served (TLS handshake and greeting) while strangers crowd the port, within ${SERVE}s (${took}s)" \
  lt "$took" "$SERVE"
e2e_check "tls: the CLI completes the challenge over TLS meanwhile" cli_tls
wait "$TLS_PY"
tj() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$WORK/tls.json" "$1"; }
e2e_check "tls: a client that trusts another CA does not get in ($(tj other_ca))" eval '[[ "$(tj other_ca)" == refused* ]]'
e2e_check "tls: clients that finish TLS are greeted with a challenge ($(tj greeted) of 10)" [ "$(tj greeted)" = 10 ]
e2e_check "tls: idle, garbage and silent connections are all closed by the relay by the auth deadline ($(tj closed) of $(tj opened), $(tj left) left, the last after $(tj last_close)s)" \
  eval '[ "$(tj left)" = 0 ] && [ "$(tj closed)" = "$(tj opened)" ] && le "$(tj last_close)" $((AUTH_TIMEOUT + 2))'
e2e_check "tls: failed handshakes are logged with the peer's address" grep -q "TLS handshake with 127.0.0.1:[0-9]* failed" "$WORK/daemon.log"
e2e_check "tls: the log stays small ($(($(lines) - L0)) lines)" [ $(($(lines) - L0)) -lt 50 ]
alive "the TLS strangers"

# 8. The end ------------------------------------------------------------------------------------
run final
e2e_check "stats over the Unix socket works ($(r final unix_stats_allocated) allocated, $(r final unix_stats_active) active)" \
  eval 'num "$(r final unix_stats_allocated)" && is final unix_stats_active 0'
e2e_check "stats over TCP after the handshake works ($(r final tcp_stats))" is final tcp_stats ok
e2e_log "whole run: $(lines) log lines, $(($(bytes) / 1024)) KB of log"
kill -TERM "$PID"
e2e_check_within 5 "SIGTERM stops the relay" e2e_exited "$PID" || e2e_finish
wait "$PID"
RC=$?
e2e_untrack "$PID"
e2e_check "it exits with status 0 (exit $RC)" [ "$RC" -eq 0 ] || tail -20 "$WORK/daemon.log"
e2e_check "it removes its control socket" [ ! -e "$WORK/control.sock" ]
e2e_finish
