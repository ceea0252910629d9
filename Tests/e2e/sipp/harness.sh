# Shared by Tests/e2e/40-kamailio-*.sh (sourced, not run): Kamailio with build/iptrtpproxy.so and
# examples/kamailio.cfg on loopback, sipp phones, tshark, and a cleanup that stops everything the
# test started, also when it fails.
#
#   source "$(dirname "$0")/sipp/harness.sh"
#   kam_init NAME          # temp dir, ports, trap
#   kam_start [-A DEF]...  # Kamailio (embedded relay unless RELAY is set)
#   kam_call UAS.xml UAC.xml [sipp options...]   # one call, both phones must succeed
#   kam_check "what" COMMAND...                  # counts a pass or a failure
#   kam_finish             # prints the verdict and exits 0/1

set -u
KAM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
KAM_SIPP_DIR="$KAM_ROOT/Tests/e2e/sipp"
KAM_MODULE=${KAM_MODULE:-$KAM_ROOT/build/iptrtpproxy.so}
KAM_PIDS=()
KAM_GROUPS=()
KAM_FAILED=0
KAM_PASSED=0

kam_log() { echo "[$KAM_NAME] $*"; }

kam_cleanup() {
  local pid
  for pid in "${KAM_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${KAM_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # Kamailio runs in a session of its own: whatever of it is left (workers, the embedded relay) goes.
  for pid in "${KAM_GROUPS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  if [ "${KAM_KEEP:-0}" = 1 ] || [ "$KAM_FAILED" -ne 0 ]; then
    kam_log "logs kept in $KAM_DIR"
  else
    rm -rf "$KAM_DIR"
  fi
}

# kam_free_ports LO HI COUNT [--not PORT...]: the first of COUNT free consecutive UDP ports.
kam_free_ports() { python3 "$KAM_SIPP_DIR/free-ports.py" "$@"; }

kam_init() {
  KAM_NAME=$1
  for tool in kamailio sipp ss python3; do
    command -v "$tool" >/dev/null || { echo "[$KAM_NAME] $tool is not installed (make deps)"; exit 1; }
  done
  [ -f "$KAM_MODULE" ] || { echo "[$KAM_NAME] $KAM_MODULE is missing (make build)"; exit 1; }
  KAM_DIR=$(mktemp -d "/tmp/ipt-e2e-$KAM_NAME.XXXXXX")
  trap kam_cleanup EXIT
  trap 'exit 1' INT TERM
  # SIP: Kamailio, caller, callee in 15060-15099.
  KAM_SIP_PORT=$(kam_free_ports 15060 15099 1) || { echo "[$KAM_NAME] no free SIP port"; exit 1; }
  UAC_SIP_PORT=$(kam_free_ports 15060 15099 1 --not "$KAM_SIP_PORT") || exit 1
  UAS_SIP_PORT=$(kam_free_ports 15060 15099 1 --not "$KAM_SIP_PORT" "$UAC_SIP_PORT") || exit 1
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
expires-timeout = 60
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
  KAM_PIDS+=("$KAM_PID")
  KAM_GROUPS+=("$KAM_PID")
  for _ in $(seq 100); do
    if ! kill -0 "$KAM_PID" 2>/dev/null; then
      kam_log "kamailio exited at start:"; tail -20 "$KAM_DIR/kamailio.log"; KAM_FAILED=$((KAM_FAILED + 1)); return 1
    fi
    [ -n "$(ss -Hnul "sport = :$KAM_SIP_PORT")" ] && [ -S "$KAM_CTL" ] && { sleep 0.3; return 0; }
    sleep 0.1
  done
  kam_log "kamailio did not start listening"; tail -20 "$KAM_DIR/kamailio.log"; KAM_FAILED=$((KAM_FAILED + 1)); return 1
}

# Stops this test's Kamailio (the next kam_start starts a fresh one).
kam_stop() {
  [ -n "${KAM_PID:-}" ] || return 0
  kill -TERM "$KAM_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$KAM_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$KAM_PID" 2>/dev/null || true
  wait "$KAM_PID" 2>/dev/null || true
  # Its workers and the embedded relay leave with it; wait for the last (it holds the media ports).
  for _ in $(seq 50); do pgrep -s "$KAM_PID" >/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$KAM_PID" 2>/dev/null || true
  mv "$KAM_DIR/kamailio.log" "$KAM_DIR/kamailio-$KAM_PID.log"
  KAM_PID=""
}

# kamcmd against this test's Kamailio.
kam_rpc() { kamcmd -s "unix:$KAM_CTL" "$@"; }

# True when the relay answers iptrtpproxy.list with no session (the RPC reaches the relay).
kam_no_sessions_left() {
  local out
  out=$(kam_rpc iptrtpproxy.list 2>&1) || { kam_log "iptrtpproxy.list failed: $out"; return 1; }
  grep -q "(no sessions)" <<<"$out" || { kam_log "sessions left:"; echo "$out"; return 1; }
}

# Starts a capture of loopback UDP in the media block; kam_capture_stop ends it.
kam_capture_start() {
  command -v tshark >/dev/null || { KAM_CAPTURE=""; return 0; }
  KAM_CAPTURE="$KAM_DIR/media.pcap"
  tshark -q -i lo -f "udp portrange $GATE_A_PORT-$((GATE_A_PORT + 399))" -w "$KAM_CAPTURE" >"$KAM_DIR/tshark.log" 2>&1 &
  KAM_TSHARK_PID=$!
  KAM_PIDS+=("$KAM_TSHARK_PID")
  for _ in $(seq 50); do grep -q "Capturing on" "$KAM_DIR/tshark.log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.2
}

kam_capture_stop() {
  [ -n "${KAM_TSHARK_PID:-}" ] || return 0
  sleep 0.3
  kill -INT "$KAM_TSHARK_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$KAM_TSHARK_PID" 2>/dev/null || break; sleep 0.1; done
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
  KAM_PIDS+=("$uas_pid")
  sleep 0.3
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

# kam_check "description" command...: runs the command, counts and prints the result.
kam_check() {
  local what=$1; shift
  if "$@"; then
    KAM_PASSED=$((KAM_PASSED + 1)); echo "  ok   $what"
  else
    KAM_FAILED=$((KAM_FAILED + 1)); echo "  FAIL $what"
  fi
}

# Lines of the running Kamailio's log (what the module and the script logged).
kam_logged() { grep -c -- "$1" "$KAM_DIR/kamailio.log" || true; }

kam_finish() {
  # A worker that died would have stopped Kamailio: it must still be up.
  if [ -n "${KAM_PID:-}" ] && ! kill -0 "$KAM_PID" 2>/dev/null; then
    KAM_FAILED=$((KAM_FAILED + 1)); echo "  FAIL kamailio stopped during the test"
  fi
  echo "[$KAM_NAME] $KAM_PASSED passed, $KAM_FAILED failed"
  [ "$KAM_FAILED" -eq 0 ]
}
