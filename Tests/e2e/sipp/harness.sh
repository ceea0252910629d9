# Kamailio and sipp for Tests/e2e/40-kamailio-*.sh (sourced, not run), on top of the common
# harness (Tests/e2e/lib/harness.sh: temp dir, cleanup of every process started, check counting,
# verdict, wait_for with a deadline): Kamailio with build/iptrtpproxy.so and examples/kamailio.cfg
# on loopback, sipp phones, tshark.
#
#   source "$(dirname "$0")/sipp/harness.sh"
#   kam_init NAME          # temp dir, free ports, trap
#   kam_start [-A DEF]...  # Kamailio (embedded relay unless RELAY is set), back once it is ready
#   kam_call UAS.xml UAC.xml NAME [sipp options...]   # one call, both phones must succeed
#   kam_check "what" COMMAND...                       # counts a pass or a failure (e2e_check)
#   kam_finish             # prints the verdict and exits 0/1

source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"
KAM_ROOT=$E2E_ROOT
KAM_SIPP_DIR="$KAM_ROOT/Tests/e2e/sipp"
KAM_MODULE=${KAM_MODULE:-$KAM_ROOT/build/iptrtpproxy.so}
E2E_KEEP=${E2E_KEEP:-${KAM_KEEP:-0}}

kam_log() { e2e_log "$@"; }

# kam_free_ports LO HI COUNT [--not PORT...]: the first of COUNT free consecutive UDP ports.
kam_free_ports() { e2e_free_ports "$@"; }

kam_init() {
  e2e_init "$1" kamailio sipp ss
  KAM_NAME=$E2E_NAME
  [ -f "$KAM_MODULE" ] || { kam_log "$KAM_MODULE is missing (make build)"; exit 1; }
  KAM_DIR=$E2E_DIR
  # SIP: Kamailio, caller, callee in 15060-15599.
  KAM_SIP_PORT=$(kam_free_ports 15060 15599 1) || { echo "[$KAM_NAME] no free SIP port"; exit 1; }
  UAC_SIP_PORT=$(kam_free_ports 15060 15599 1) || exit 1
  UAS_SIP_PORT=$(kam_free_ports 15060 15599 1) || exit 1
  # Media: one free block of 400 ports in 46000-49999: gate A, gate B, the two phones.
  local base
  base=$(kam_free_ports 46000 49999 400) || { echo "[$KAM_NAME] no free media ports"; exit 1; }
  GATE_A_PORT=$base
  GATE_B_PORT=$((base + 100))
  UAC_MEDIA_PORT=$((base + 200))
  UAS_MEDIA_PORT=$((base + 300))
  KAM_MAX_SESSIONS=${KAM_MAX_SESSIONS:-20}
  KAM_CTL="$KAM_DIR/kamailio_ctl"
  # A short RTP clip (30 packets of G.711, about 1 s) from sip-tester's sample.
  KAM_PCAP="$KAM_DIR/rtp.pcap"
  local sample
  sample=$(dpkg -L sip-tester 2>/dev/null | grep -m1 'g711a.pcap$' || echo /usr/share/sip-tester/g711a.pcap)
  if command -v editcap >/dev/null; then editcap -r "$sample" "$KAM_PCAP" 1-30 >/dev/null; else cp "$sample" "$KAM_PCAP"; fi
  kam_log "SIP: kamailio $KAM_SIP_PORT, caller $UAC_SIP_PORT, callee $UAS_SIP_PORT; media: gates $GATE_A_PORT/$GATE_B_PORT, phones $UAC_MEDIA_PORT/$UAS_MEDIA_PORT"
}

# The switchboard file: gates A and B on 127.0.0.1 with their own port ranges.
kam_write_switchboards() {
  cat > "$KAM_DIR/iptrtpproxy.cfg" <<CFG
[switchboard:loop]
addr-a = 127.0.0.1
addr-b = 127.0.0.1
port-a = $GATE_A_PORT
port-b = $GATE_B_PORT
max-sess = $KAM_MAX_SESSIONS
expires-timeout = ${KAM_EXPIRES_TIMEOUT:-60}
resurrection-timeout = 0
CFG
}

# Starts Kamailio with examples/kamailio.cfg; extra arguments go to kamailio (e.g. -A DEF).
# RELAY (default embedded) picks the media plane; KAM_CHILDREN the number of workers.
kam_start() {
  kam_write_switchboards
  local cfg=${KAM_CFG:-$KAM_ROOT/examples/kamailio.cfg}
  setsid ${KAM_WRAP:-} kamailio -f "$cfg" -DD -E -Y "$KAM_DIR" -m 64 -M 8 \
    -A "LISTEN=udp:127.0.0.1:$KAM_SIP_PORT" \
    -A "CHILDREN=${KAM_CHILDREN:-2}" \
    -A "DEBUG_LEVEL=${KAM_DEBUG:-2}" \
    -A "IPT_MODULE=\"$KAM_MODULE\"" \
    -A "IPT_CONFIG=\"$KAM_DIR/iptrtpproxy.cfg\"" \
    -A "IPT_RELAY=\"${RELAY:-embedded}\"" \
    -A "NEXT_HOP=\"sip:127.0.0.1:$UAS_SIP_PORT\"" \
    -A WITH_CTL -A "CTL_SOCKET=\"unix:$KAM_CTL\"" \
    "$@" >"$KAM_DIR/kamailio.log" 2>&1 &
  KAM_PID=$!
  # Kamailio runs in a session of its own: whatever of it is left (workers, the embedded relay)
  # goes with it at cleanup.
  e2e_track "$KAM_PID" --group
  wait_for 30 "kamailio to listen on udp:$KAM_SIP_PORT and $KAM_CTL$(kam_embedded && echo ", and its relay on $(kam_relay_socket)")" \
    kam_ready_or_gone
  if ! e2e_running "$KAM_PID"; then
    kam_log "kamailio exited at start:"; tail -20 "$KAM_DIR/kamailio.log"; e2e_fail "kamailio starts"; return 1
  fi
  kam_ready || { tail -20 "$KAM_DIR/kamailio.log"; e2e_fail "kamailio starts"; return 1; }
}

kam_embedded() { [ "${RELAY:-embedded}" = embedded ]; }

# The embedded relay's control socket: in the runtime dir (-Y), named for the main process.
kam_relay_socket() { echo "$KAM_DIR/iptrtpproxy-$KAM_PID.sock"; }

# Ready: SIP port bound, kamcmd's socket there and, with the embedded relay, the relay's control
# socket there (the relay creates it once its engine runs, journal restored).
kam_ready() {
  [ -n "$(ss -Hnul "sport = :$KAM_SIP_PORT")" ] && [ -S "$KAM_CTL" ] && { ! kam_embedded || [ -S "$(kam_relay_socket)" ]; }
}
kam_ready_or_gone() { kam_ready || ! e2e_running "$KAM_PID"; }

# True when no process of Kamailio's session is left.
kam_session_gone() { ! pgrep -s "$1" >/dev/null; }

# Stops this test's Kamailio (the next kam_start starts a fresh one).
kam_stop() {
  [ -n "${KAM_PID:-}" ] || return 0
  e2e_stop "$KAM_PID" 5
  # Its workers and the embedded relay leave with it; wait for the last (it holds the media ports).
  wait_for 5 "kamailio's workers and relay to exit" kam_session_gone "$KAM_PID" || true
  kill -KILL -- "-$KAM_PID" 2>/dev/null || true
  e2e_untrack "$KAM_PID" --group
  mv "$KAM_DIR/kamailio.log" "$KAM_DIR/kamailio-$KAM_PID.log"
  KAM_PID=""
}

# kam_media_host N DIR TCP_PORT [CFG_LINES]: starts build/iptrtpproxyd as media host N of a pool:
# switchboard 'pool' on gates 127.0.N.1 / 127.0.N.2 (the harness's gate ports), control on
# unix:DIR/control.sock and TCP 127.0.0.1:TCP_PORT with the secret in $KAM_DIR/secret; CFG_LINES
# are appended to its switchboards file (e.g. a [relay] section). Sets MEDIA_HOST_PID; back once
# the daemon runs.
kam_media_host() {
  local n=$1 dir=$2 port=$3
  mkdir -p "$dir"
  cat >"$dir/iptrtpproxy.cfg" <<CFG
[switchboard:pool]
addr-a = 127.0.$n.1
addr-b = 127.0.$n.2
port-a = $GATE_A_PORT
port-b = $GATE_B_PORT
max-sess = $KAM_MAX_SESSIONS
expires-timeout = 60
resurrection-timeout = 0
${4:-}
CFG
  local runs
  runs=$(grep -c 'iptrtpproxyd .* running' "$dir/daemon.log" 2>/dev/null || true)
  "$KAM_ROOT/build/iptrtpproxyd" --config "$dir/iptrtpproxy.cfg" --control "unix:$dir/control.sock" \
    --control-tcp "127.0.0.1:$port" --secret-file "$KAM_DIR/secret" --workers 1 >>"$dir/daemon.log" 2>&1 &
  MEDIA_HOST_PID=$!
  e2e_track "$MEDIA_HOST_PID"
  wait_for 30 "media host $n ($dir) to run" \
    bash -c "[ \"\$(grep -c 'iptrtpproxyd .* running' '$dir/daemon.log')\" -gt ${runs:-0} ]"
}

# kamcmd against this test's Kamailio.
kam_rpc() { kamcmd -s "unix:$KAM_CTL" "$@"; }

# The RPC commands answer with structs: kamcmd prints one "name: value" line per field, indented
# by depth, "{" / "}" around each struct. kam_rpc_value NAME: the first value of field NAME in
# kamcmd's answer on stdin (at any depth).
kam_rpc_value() {
  awk -v name="$1" '{ sub(/^[ \t]+/, "") } index($0, name ": ") == 1 { print substr($0, length(name) + 3); exit }'
}

# kam_rpc_records: the records with an id in kamcmd's answer on stdin (the sessions of
# iptrtpproxy.list, the hosts of iptrtpproxy.relays and .stats), one line each:
# "ID name=value name=value ..." with the record's own fields in the answer's order (not those of
# structs inside it), last-error in quotes.
kam_rpc_records() {
  awk '{ sub(/^[ \t]+/, "") }
       /[{]$/ { depth++ }
       /^[}]$/ { depth--; if (line != "" && depth < start) { print line; line = "" }; next }
       /^id: / { if (line != "") print line; line = substr($0, 5); start = depth; next }
       line != "" && depth == start && /^[a-z-]+: / {
         n = index($0, ": "); k = substr($0, 1, n - 1); v = substr($0, n + 2)
         if (k == "last-error") v = "\"" v "\""
         line = line " " k "=" v }
       END { if (line != "") print line }'
}

# kam_sessions: iptrtpproxy.list's sessions (kamcmd's answer on stdin), one line each:
# "ID PORT-A PORT-B AGE IDLE PACKETS-A PACKETS-B".
kam_sessions() {
  kam_rpc_records | awk '{ delete f; for (i = 2; i <= NF; i++) { n = index($i, "="); f[substr($i, 1, n - 1)] = substr($i, n + 1) }
                           print $1, f["port-a"], f["port-b"], f["age"], f["idle"], f["packets-a"], f["packets-b"] }'
}

# True when the relay answers iptrtpproxy.list with no session (the RPC reaches the relay).
# iptrtpproxy_delete does not wait for the relay's answer: the relay may still be deleting when a
# call's last SIP message is through, so this waits (5 s at most) for the list to empty.
kam_no_sessions_left() {
  local out deadline=$(( $(e2e_now_us) + 5000000 ))
  while :; do
    out=$(kam_rpc iptrtpproxy.list 2>&1) || { kam_log "iptrtpproxy.list failed: $out"; return 1; }
    [ "$(kam_rpc_value total <<<"$out")" != 0 ] || return 0
    [ "$(e2e_now_us)" -lt "$deadline" ] || break
    sleep 0.05
  done
  kam_log "sessions left:"; echo "$out"; return 1
}

# kam_stats_allocated_deleted: "ALLOCATED/DELETED" from iptrtpproxy.stats.
# Waits (5 s at most) until as many were deleted as allocated, as iptrtpproxy_delete does not wait.
kam_stats_allocated_deleted() {
  local out allocated deleted deadline=$(( $(e2e_now_us) + 5000000 ))
  while :; do
    out=$(kam_rpc iptrtpproxy.stats 2>&1)
    allocated=$(kam_rpc_value sessions-allocated <<<"$out"); deleted=$(kam_rpc_value sessions-deleted <<<"$out")
    [ "$allocated" != "$deleted" ] && [ "$(e2e_now_us)" -lt "$deadline" ] || break
    sleep 0.05
  done
  echo "$allocated/$deleted"
}

# Starts a capture of loopback UDP in the media block; kam_capture_stop ends it. Both wait until
# a marked probe datagram (to the block's last port, which nothing uses) is in the capture file:
# at start, so that the capture sees what follows; at stop, so that it holds what came before.
kam_capture_start() {
  command -v tshark >/dev/null || { KAM_CAPTURE=""; return 0; }
  KAM_CAPTURE="$KAM_DIR/media.pcap"
  KAM_PROBE_PORT=$((GATE_A_PORT + 399))
  tshark -q -i lo -f "udp portrange $GATE_A_PORT-$KAM_PROBE_PORT" -w "$KAM_CAPTURE" >"$KAM_DIR/tshark.log" 2>&1 &
  KAM_TSHARK_PID=$!
  e2e_track "$KAM_TSHARK_PID"
  KAM_PROBES=$((${KAM_PROBES:-0} + 1))
  wait_for 30 "tshark to capture a probe on udp:$KAM_PROBE_PORT" kam_capture_probe "start-$KAM_PROBES" ||
    { tail -5 "$KAM_DIR/tshark.log"; e2e_fail "the capture starts"; }
}

# Sends the probe MARK into the captured range; true once the capture file holds it.
kam_capture_probe() {
  local mark="ipt-e2e-probe-$$-$1"
  printf '%s' "$mark" 2>/dev/null >"/dev/udp/127.0.0.1/$KAM_PROBE_PORT" || true
  grep -qaF "$mark" "$KAM_CAPTURE" 2>/dev/null
}

kam_capture_stop() {
  [ -n "${KAM_TSHARK_PID:-}" ] || return 0
  wait_for 30 "tshark to capture the closing probe" kam_capture_probe "stop-$KAM_PROBES" ||
    e2e_fail "the capture holds every packet sent before its end"
  kill -INT "$KAM_TSHARK_PID" 2>/dev/null || true
  wait_for 5 "tshark to exit" e2e_exited "$KAM_TSHARK_PID" || kill -KILL "$KAM_TSHARK_PID" 2>/dev/null
  KAM_TSHARK_PID=""
}

# Packets in the capture from a source port range to a destination port (relayed packets).
kam_count_packets() {
  local src_lo=$1 src_hi=$2 dst=$3
  [ -n "${KAM_CAPTURE:-}" ] && [ -f "$KAM_CAPTURE" ] || { echo 0; return; }
  tshark -r "$KAM_CAPTURE" -Y "udp.srcport >= $src_lo && udp.srcport <= $src_hi && udp.dstport == $dst" 2>/dev/null | wc -l
}

# One call: the callee's scenario in the background, then the caller's. Both must end with 0.
# Extra arguments go to both sipp instances. Traces: $KAM_DIR/NAME-uac.log, NAME-uas.log.
kam_call() {
  local uas=$1 uac=$2 name=$3; shift 3
  sipp -sf "$KAM_SIPP_DIR/$uas" -i 127.0.0.1 -p "$UAS_SIP_PORT" -mp "$UAS_MEDIA_PORT" -m 1 -nostdin \
    -trace_msg -message_file "$KAM_DIR/$name-uas.log" -trace_err -error_file "$KAM_DIR/$name-uas.err" \
    -key pcap "$KAM_PCAP" -timeout 30 -timeout_error "$@" >"$KAM_DIR/$name-uas.out" 2>&1 &
  local uas_pid=$!
  e2e_track "$uas_pid"
  wait_for 20 "the callee (sipp) to listen on udp:$UAS_SIP_PORT" kam_listening "$UAS_SIP_PORT"
  sipp -sf "$KAM_SIPP_DIR/$uac" "127.0.0.1:$KAM_SIP_PORT" -i 127.0.0.1 -p "$UAC_SIP_PORT" -mp "$UAC_MEDIA_PORT" \
    -m 1 -nostdin -trace_msg -message_file "$KAM_DIR/$name-uac.log" -trace_err -error_file "$KAM_DIR/$name-uac.err" \
    -key pcap "$KAM_PCAP" -d "${KAM_CALL_MS:-1500}" -timeout 30 -timeout_error "$@" >"$KAM_DIR/$name-uac.out" 2>&1
  local uac_rc=$?
  wait "$uas_pid"
  local uas_rc=$?
  if [ $uac_rc -ne 0 ] || [ $uas_rc -ne 0 ]; then
    kam_log "call $name: caller exit $uac_rc, callee exit $uas_rc"
    tail -5 "$KAM_DIR/$name-uac.out" "$KAM_DIR/$name-uas.out" 2>/dev/null
    return 1
  fi
  return 0
}

# The SIP messages of a trace with their c=/m= lines (see sip-trace.py).
kam_trace() { python3 "$KAM_SIPP_DIR/sip-trace.py" "$@"; }

# The relay hands out session slots in an unpredictable order, so a test reads back which session
# a call got: kam_read_session FILE [N] sets PB to the RTP port of gate B in the Nth (default
# first) INVITE the callee received (sipp trace FILE), SID to its session id and PA to its RTP
# port on gate A. False (SID=none, ports 0) when that offer names no RTP port of gate B's range.
kam_read_session() {
  PB=$(kam_trace "$1" | grep "^received INVITE" | sed -n "${2:-1}p" | grep -oE "m=audio [0-9]+" | head -1 | grep -oE "[0-9]+")
  if [ -n "$PB" ] && [ "$PB" -ge "$GATE_B_PORT" ] && [ "$PB" -lt $((GATE_B_PORT + 2 * KAM_MAX_SESSIONS)) ] &&
    [ $(((PB - GATE_B_PORT) % 2)) -eq 0 ]; then
    SID=$(((PB - GATE_B_PORT) / 2)) PA=$((GATE_A_PORT + (PB - GATE_B_PORT)))
    return 0
  fi
  SID=none PA=0 PB=0
  return 1
}

# True when something listens on UDP PORT.
kam_listening() { [ -n "$(ss -Hnul "sport = :$1")" ]; }

# kam_check "description" command...: runs the command, counts and prints the result.
kam_check() { e2e_check "$@"; }

# Lines of the running Kamailio's log (what the module and the script logged).
kam_logged() { grep -c -- "$1" "$KAM_DIR/kamailio.log" || true; }

# Prints the verdict and exits 0 (every check passed) or 1.
kam_finish() {
  # A worker that died would have stopped Kamailio: it must still be up.
  if [ -n "${KAM_PID:-}" ] && ! e2e_running "$KAM_PID"; then e2e_fail "kamailio stopped during the test"; fi
  e2e_finish
}
