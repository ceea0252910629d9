#!/usr/bin/env bash
# The embedded relay crashes, the proxy does not (issue 14 item 4); the proxy crashes, nothing of
# it is left. Real Kamailio with the default embedded relay (journal on by default, in the runtime
# folder), sipp phones with RTP:
#  (c) modparam relay_metrics: the relay serves /metrics; a bad value stops `kamailio -c`, naming it.
#  (a) SIGKILL of the relay ("ipt-relay", the child of the "iptrtpproxy supervisor" process) in the
#      middle of a call: Kamailio keeps running, the relay is back within 1 s, restores the call
#      from the journal and its RTP flows again; a new call succeeds. SIGSTOP of the relay: an RPC
#      and a call cost at most relay_timeout; SIGCONT, then SIGKILL of a stopped relay.
#  (b) SIGKILL of Kamailio's main process in the middle of a call: no process of it is left, the
#      call's ports are free; a restarted Kamailio restores the call and its RTP flows again.
#  (d) a crash loop (the relay killed 10 times as fast as it comes back): restarts back off, the
#      CPU does not spin, Kamailio keeps serving calls. Also SIGSEGV, and a relay that exits on its
#      own until it can start. With a media host instead, the prober goes with a killed main too.
source "$(dirname "$0")/sipp/harness.sh"
ulimit -c 0  # the relay is sent SIGSEGV: no core file
kam_init kamailio-relay-crash curl editcap mergecap capinfos
JOURNAL="$KAM_DIR/iptrtpproxy.journal"
METRICS_PORT=$(e2e_free_ports 19100 19399 1 --tcp) || { kam_log "no free TCP port"; exit 1; }
METRICS="127.0.0.1:$METRICS_PORT"
# A long call: the sample clip three times over (about 14 s of RTP each way).
sample=$(dpkg -L sip-tester 2>/dev/null | grep -m1 'g711a.pcap$' || echo /usr/share/sip-tester/g711a.pcap)
span=$(capinfos -u -M "$sample" | awk '/duration/ {print $(NF-1) + 0.02}')
editcap -t "$span" "$sample" "$KAM_DIR/part2.pcap" && editcap -t "$(awk "BEGIN {print 2 * $span}")" "$sample" "$KAM_DIR/part3.pcap" &&
  mergecap -a -w "$KAM_PCAP" "$sample" "$KAM_DIR/part2.pcap" "$KAM_DIR/part3.pcap" || { kam_log "cannot make the long clip"; exit 1; }

relay_pid() { pgrep -s "$KAM_PID" -x ipt-relay; }
# True when the relay answers iptrtpproxy.stats (kamcmd exits 0 on an RPC error too: read its output).
relay_answers() { local out; out=$(kam_rpc iptrtpproxy.stats 2>&1) && ! grep -q "^error" <<<"$out"; }
# relay_back OLD: a relay process other than OLD runs and answers.
relay_back() { local p; p=$(relay_pid) && [ "$p" != "$1" ] && relay_answers; }
# rtp_flow NAME MIN: the relay lists the call's session with more than MIN packets from each side
# (a restarted relay counts from zero); the list is kept in list-NAME.txt.
rtp_flow() {
  local out
  out=$(kam_rpc iptrtpproxy.list 2>&1) && kam_sessions <<<"$out" >"$KAM_DIR/list-$1.txt" &&
    awk -v min="$2" '/^loop:[0-9]+\// && $6 > min && $7 > min {ok = 1} END {exit !ok}' "$KAM_DIR/list-$1.txt"
}
# relay_deleted ID: the relay logged the deletion of session ID (the call's BYE reached it; the
# worker may still have given up waiting for the reply on a loaded machine: the journal is synced
# before the relay answers).
relay_deleted() { grep -qE "session deleted: .* session=$1/[0-9]+ switchboard=loop" "$KAM_DIR/kamailio.log"; }
session_of() { grep -oE "^loop:[0-9]+/" "$KAM_DIR/list-$1.txt" | head -1 | grep -oE "[0-9]+"; }
# True when every process of session $1 has ended (zombies waiting for init to reap them hold nothing).
none_running() { ! ps -o stat= -s "$1" | grep -qv '^Z'; }
ms_since() { echo $(( ($(e2e_now_us) - $1) / 1000 )); }
# CPU seconds (x100) a process used, with its reaped children (the relays it ran).
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
metrics_served() { curl -sf --max-time 3 "http://$METRICS/metrics" | grep -q '^iptrtpproxy_'; }
# long_call NAME: a 12 s call in the background (CALLER: the caller's pid).
long_call() {
  KAM_CALL_MS=12000 kam_call uas-call.xml uac-call.xml "$1" >"$KAM_DIR/$1.status" 2>&1 &
  CALLER=$!
  e2e_track "$CALLER"
}

# ---- (c) a bad relay_metrics value: kamailio -c refuses the script, naming the modparam ----
kam_write_switchboards
out=$(kamailio -c -f "$KAM_ROOT/examples/kamailio.cfg" -Y "$KAM_DIR" -A "LISTEN=udp:127.0.0.1:$KAM_SIP_PORT" \
  -A "IPT_MODULE=\"$KAM_MODULE\"" -A "IPT_CONFIG=\"$KAM_DIR/iptrtpproxy.cfg\"" -A "IPT_RELAY=\"embedded\"" \
  -A "IPT_RELAY_METRICS=\"localhost:9108\"" 2>&1)
rc=$?
kam_check "kamailio -c refuses relay_metrics 'localhost:9108' (exit $rc)" [ "$rc" -ne 0 ]
kam_check "... with a message naming modparam 'relay_metrics'" grep -q "modparam 'relay_metrics' must be ADDRESS:PORT" <<<"$out"

# A relay_metrics address that is taken: the first relay cannot start, so neither does Kamailio.
python3 -c "import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $METRICS_PORT)); s.listen(1)
while True: time.sleep(60)" &
HOLDER=$!
e2e_track "$HOLDER"
wait_for 10 "a listener on tcp:$METRICS_PORT" eval "[ -n \"\$(ss -Hntl 'sport = :$METRICS_PORT')\" ]"
setsid kamailio -f "$KAM_ROOT/examples/kamailio.cfg" -DD -E -Y "$KAM_DIR" -m 64 -M 8 -A "LISTEN=udp:127.0.0.1:$KAM_SIP_PORT" \
  -A "IPT_MODULE=\"$KAM_MODULE\"" -A "IPT_CONFIG=\"$KAM_DIR/iptrtpproxy.cfg\"" -A "IPT_RELAY=\"embedded\"" \
  -A "CHILDREN=1" -A WITH_CTL -A "CTL_SOCKET=\"unix:$KAM_CTL\"" -A "IPT_RELAY_METRICS=\"$METRICS\"" >"$KAM_DIR/busy.log" 2>&1 &
busy=$!
e2e_track "$busy" --group
e2e_check_within 10 "relay_metrics on a taken address: Kamailio stops at start" e2e_exited "$busy"
wait "$busy" 2>/dev/null
kam_check "... logging the modparam and the reason" grep -q "the embedded relay cannot start: modparam 'relay_metrics' ($METRICS)" "$KAM_DIR/busy.log"
e2e_check_within 3 "... and leaving no process behind" none_running "$busy"
e2e_untrack "$busy" --group
e2e_stop "$HOLDER"

kam_start -A "IPT_RELAY_METRICS=\"$METRICS\"" || kam_finish
kam_check "kamcmd core.psx shows the relay's supervisor" grep -q "iptrtpproxy supervisor" <(kam_rpc core.psx 2>&1)
RELAY_PID=$(relay_pid)
kam_check "the relay runs as process ipt-relay ($RELAY_PID), a child of the supervisor" [ -n "$RELAY_PID" ]
kam_check "... and not in Kamailio's process table" bash -c "! kamcmd -s 'unix:$KAM_CTL' core.psx | grep -qw '$RELAY_PID'"
kam_check "relay_metrics: GET http://$METRICS/metrics has iptrtpproxy_ series" metrics_served
PROCS=$(pgrep -c -s "$KAM_PID")

# ---- (a) SIGKILL of the relay in the middle of a call ----
long_call crash
e2e_check_within 20 "the call is up: RTP flows both ways through the relay" rtp_flow before 10
SID=$(session_of before)
SID=${SID:-none}
kam_check "the journal is on by default, in the runtime folder: it holds session loop:$SID" grep -q "^A loop $SID " "$JOURNAL"
t0=$(e2e_now_us)
kill -KILL "$RELAY_PID"
e2e_check_within 1 "SIGKILL of the relay: a new relay runs and answers within 1 s" relay_back "$RELAY_PID"
kam_log "relay back after $(ms_since "$t0") ms"
e2e_check_within 2 "the new relay restored the call: its RTP flows both ways again" rtp_flow restored 0
took=$(ms_since "$t0")
kam_log "media flowed again $took ms after the relay was killed"
kam_check "media flows again within 1 s of the kill ($took ms)" [ "$took" -le 1000 ]
kam_check "one log line names the death, the delay and the restart count" \
  [ "$(kam_logged 'iptrtpproxy relay died (signal 9), restarting in 0.1 s, 1 restart(s) in the last minute')" -eq 1 ]
kam_check "the new relay restored the session from the journal" [ "$(kam_logged 'restored 1 session(s), lost 0')" -eq 1 ]
kam_check "Kamailio kept every process ($PROCS)" [ "$(pgrep -c -s "$KAM_PID")" -eq "$PROCS" ]
kam_check "relay_metrics is served by the new relay too" metrics_served
wait "$CALLER"
kam_check "the call completes across the relay crash" [ $? -eq 0 ]
e2e_untrack "$CALLER"
kam_check "its BYE deleted the restored session" relay_deleted "$SID"
kam_check "a new call succeeds, relayed (SIP and relay both serve)" kam_call uas-call.xml uac-call.xml after-crash
kam_check "... its offer names a relay port" kam_read_session "$KAM_DIR/after-crash-uas.log"
kam_check "no session left" kam_no_sessions_left

# SIGSTOP: workers wait at most relay_timeout (1000 ms) for it. (Nothing is asked of it between
# SIGSTOP and SIGKILL that would change its sessions: a request a worker gave up on would still be
# carried out by a relay that continues.)
RELAY_PID=$(relay_pid)
kill -STOP "$RELAY_PID"
t0=$(e2e_now_us)
kam_rpc iptrtpproxy.stats >"$KAM_DIR/stats-stopped.txt" 2>&1
took=$(ms_since "$t0")
kam_check "relay stopped: iptrtpproxy.stats answers 'no reply from the relay'" grep -q "no reply from the relay" "$KAM_DIR/stats-stopped.txt"
# The RPC waits up to 5 s for a relay (a list of thousands of sessions may take over a second).
kam_check "... after at most the RPC's 5 s wait + 0.5 s ($took ms)" [ "$took" -le 5500 ]
t0=$(e2e_now_us)
KAM_CALL_MS=500
kam_check "relay stopped: a call still succeeds (media not relayed)" kam_call uas-call.xml uac-call.xml stopped
took=$(ms_since "$t0")
unset KAM_CALL_MS
kam_check "... and took at most the call (0.5 s) + relay_timeout + 2 s ($took ms)" [ "$took" -le 3500 ]
kam_check "... the script logged the failed alloc once" [ "$(kam_logged 'iptrtpproxy_alloc failed')" -eq 1 ]
kill -KILL "$RELAY_PID"
e2e_check_within 1 "SIGKILL of a stopped relay: a new one runs and answers within 1 s" relay_back "$RELAY_PID"
RELAY_PID=$(relay_pid)
kill -STOP "$RELAY_PID"
sleep 0.5
kill -CONT "$RELAY_PID"
e2e_check_within 2 "SIGSTOP then SIGCONT: the same relay answers again" eval '[ "$(relay_pid)" = "$RELAY_PID" ] && relay_answers'
kam_check "Kamailio kept every process" [ "$(pgrep -c -s "$KAM_PID")" -eq "$PROCS" ]
kam_check "no session left" kam_no_sessions_left

# SIGSEGV, then a relay that ends on its own: its journal turned into a folder, a new relay cannot
# start (exit 3) until the folder is gone; it is started again and again, ever later, and
# Kamailio serves on.
RELAY_PID=$(relay_pid)
rm -f "$JOURNAL"
mkdir "$JOURNAL"
kill -SEGV "$RELAY_PID"
e2e_check_within 2 "SIGSEGV: the death is logged with its signal" eval '[ "$(kam_logged "iptrtpproxy relay died (signal 11")" -eq 1 ]'
e2e_check_within 5 "a relay that cannot start (journal is a folder) exits and is started again" \
  eval '[ "$(kam_logged "iptrtpproxy relay died (exit 3)")" -ge 3 ]'
delays=$(grep -o "died (exit 3), restarting in [0-9.]* s" "$KAM_DIR/kamailio.log" | grep -oE "[0-9]+\.[0-9]" | tr '\n' ' ')
kam_log "restart delays after exit 3: $delays s"
kam_check "... ever later: $delays s" python3 -c "import sys; d = [float(x) for x in sys.argv[1:]]; sys.exit(not (len(d) >= 3 and d == sorted(d) and d[-1] > d[0]))" $delays
rmdir "$JOURNAL"
e2e_check_within 4 "once it can start, the relay is back and answers" relay_back "$RELAY_PID"
kam_check "Kamailio kept every process" [ "$(pgrep -c -s "$KAM_PID")" -eq "$PROCS" ]

# ---- (b) SIGKILL of Kamailio's main process in the middle of a call ----
long_call proxy-kill
e2e_check_within 20 "the call is up: RTP flows both ways" rtp_flow before-kill 10
SID=$(session_of before-kill)
SID=${SID:-0}
PA=$((GATE_A_PORT + 2 * SID)) PB=$((GATE_B_PORT + 2 * SID))
OLD=$KAM_PID
t0=$(e2e_now_us)
kill -KILL "$OLD"
e2e_check_within 3 "SIGKILL of Kamailio's main process: none of its processes is left (workers, supervisor, relay, events)" \
  none_running "$OLD"
kam_log "every process of the killed Kamailio gone after $(ms_since "$t0") ms"
ports_free() { local p; for p in "$PA" $((PA + 1)) "$PB" $((PB + 1)); do [ -z "$(ss -Hnul "sport = :$p")" ] || return 1; done; }
kam_check "the call's relay ports ($PA-$((PA + 1)), $PB-$((PB + 1))) are free" ports_free
wait "$OLD" 2>/dev/null
e2e_untrack "$OLD" --group
mv "$KAM_DIR/kamailio.log" "$KAM_DIR/kamailio-$OLD.log"
kam_start -A "IPT_RELAY_METRICS=\"$METRICS\"" || kam_finish
t1=$(e2e_now_us)
e2e_check_within 2 "the restarted Kamailio's relay restored the call: RTP flows both ways" rtp_flow after-kill 0
took=$(ms_since "$t1")
kam_log "media flowed $took ms after the new Kamailio was ready ($(ms_since "$t0") ms after the kill)"
kam_check "media flows within 1 s of the new Kamailio being ready ($took ms)" [ "$took" -le 1000 ]
kam_check "the new relay restored the session from the journal, none lost" [ "$(kam_logged 'restored 1 session(s), lost 0')" -eq 1 ]
wait "$CALLER"
kam_check "the call completes across the proxy's death (its BYE reaches the new Kamailio)" [ $? -eq 0 ]
e2e_untrack "$CALLER"
kam_check "the BYE deleted the restored session" relay_deleted "$SID"
kam_check "no session left" kam_no_sessions_left

# ---- (d) a crash loop: the relay killed 10 times, each time as soon as it is back ----
PROCS=$(pgrep -c -s "$KAM_PID")
RELAY_PID=$(relay_pid)
SUPERVISOR=$(ps -o ppid= -p "$RELAY_PID" | tr -d ' ')
cpu0=$(cpu_ticks "$SUPERVISOR")
t0=$(e2e_now_us)
new_relay() { local p; p=$(relay_pid) && [ "$p" != "$1" ]; }
for i in $(seq 1 9); do
  kill -KILL "$RELAY_PID"
  wait_for 10 "relay restart $i" new_relay "$RELAY_PID" || break
  RELAY_PID=$(relay_pid)
done
# The 10th kill: the supervisor waits 5 s before the next start. A call in that gap is not
# relayed, and its alloc fails at once (nothing listens on the relay's socket), not after a wait.
kill -KILL "$RELAY_PID"
wait_for 2 "the 10th death to be logged" eval '[ "$(kam_logged "iptrtpproxy relay died (signal 9)")" -eq 10 ]'
failed_before=$(kam_logged 'iptrtpproxy_alloc failed')
t1=$(e2e_now_us)
KAM_CALL_MS=500
kam_check "relay down (restart backed off): a call still succeeds, media not relayed" kam_call uas-call.xml uac-call.xml gap
unset KAM_CALL_MS
took=$(ms_since "$t1")
kam_log "the call during the gap took $took ms (0.5 s of media)"
kam_check "... its alloc failed at once (connection refused), not after relay_timeout" \
  grep -q "ERROR: iptrtpproxy: alloc on 'loop' for m= line [0-9]*: control unix:.*: connect: Connection refused" "$KAM_DIR"/kamailio*.log
kam_check "... the failed alloc was logged once" [ "$(kam_logged 'iptrtpproxy_alloc failed')" -eq $((failed_before + 1)) ]
e2e_check_within 6 "after 10 kills the relay is back and answers" relay_back "$RELAY_PID"
secs=$(( $(ms_since "$t0") / 1000 ))
cpu=$(( $(cpu_ticks "$SUPERVISOR") - cpu0 ))
kam_log "10 kills in $secs s; supervisor and its relays used $cpu cs of CPU"
kam_check "10 restarts, each logged once" [ "$(kam_logged 'iptrtpproxy relay died (signal 9)')" -eq 10 ]
kam_check "the restarts backed off (up to 5 s) rather than spin" [ "$(kam_logged 'restarting in 5.0 s, 10 restart(s)')" -eq 1 ]
kam_check "no spinning: the supervisor and its relays used under 3 s of CPU for the loop ($cpu cs)" [ "$cpu" -lt 300 ]
kam_check "Kamailio kept every process" [ "$(pgrep -c -s "$KAM_PID")" -eq "$PROCS" ]
kam_check "a call through the relay succeeds after the crash loop" kam_call uas-call.xml uac-call.xml after-loop
kam_check "... its offer names a relay port" kam_read_session "$KAM_DIR/after-loop-uas.log"
kam_check "no session left" kam_no_sessions_left

# ---- with a media host (external relay) the prober dies with the main process too ----
kam_stop
head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" >"$KAM_DIR/secret"
HOST_PORT=$(e2e_free_ports 17700 17999 1 --tcp) || { kam_log "no free TCP port"; exit 1; }
kam_media_host 1 "$KAM_DIR/host1" "$HOST_PORT"
RELAY="unix:$KAM_DIR/host1/control.sock" kam_start -A 'IPT_SWITCHBOARD="pool"' || kam_finish
kam_check "kamcmd core.psx shows the prober" grep -q "iptrtpproxy prober" <(kam_rpc core.psx 2>&1)
OLD=$KAM_PID
kill -KILL "$OLD"
e2e_check_within 3 "SIGKILL of Kamailio's main process: none of its processes is left, the prober included" none_running "$OLD"
wait "$OLD" 2>/dev/null
e2e_untrack "$OLD" --group
KAM_PID=""
kam_finish
