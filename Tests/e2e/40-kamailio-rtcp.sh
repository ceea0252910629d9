#!/usr/bin/env bash
# RTCP where the SDP says (RFC 3605): both phones name an RTCP port of their own in a=rtcp (not
# RTP + 1). Each side sees the relay's RTCP port in the other's SDP, and RTCP sent to the relay
# reaches the other phone on the port its a=rtcp named, both ways.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-rtcp
kam_start || kam_finish
UAC_RTCP_PORT=$((UAC_MEDIA_PORT + 50)) UAS_RTCP_PORT=$((UAS_MEDIA_PORT + 50))

# The relay ports of the call's session (gate A, gate B), from kamcmd iptrtpproxy.list.
session_ports() {
  kam_rpc iptrtpproxy.list 2>/dev/null | kam_sessions | awk '/^loop:[0-9]+\// {print $2, $3; found = 1; exit} END {exit !found}'
}
# Each phone sends RTCP from its a=rtcp port to its gate's RTCP port (relay port + 1) until both
# have received the other's, or 3 s passed; prints what each received.
exchange_rtcp() {
  python3 - "$UAC_RTCP_PORT" "$UAS_RTCP_PORT" "$1" "$2" <<'PY'
import socket, sys, time
uac_port, uas_port, pa, pb = map(int, sys.argv[1:5])
caller, callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
caller.bind(("127.0.0.1", uac_port)); callee.bind(("127.0.0.1", uas_port))
caller.setblocking(False); callee.setblocking(False)
got = {"caller": b"", "callee": b""}
end = time.time() + 3
while time.time() < end and not (got["caller"] and got["callee"]):
    caller.sendto(b"\x80\xc8rtcp-sr-from-caller", ("127.0.0.1", pa + 1))
    callee.sendto(b"\x80\xc8rtcp-sr-from-callee", ("127.0.0.1", pb + 1))
    time.sleep(0.1)
    for name, s in (("caller", caller), ("callee", callee)):
        try:
            data, src = s.recvfrom(2048)
            if src == ("127.0.0.1", {"caller": pa, "callee": pb}[name] + 1):
                got[name] = data
        except BlockingIOError:
            pass
print("caller got:", got["caller"][2:].decode(errors="replace") or "nothing")
print("callee got:", got["callee"][2:].decode(errors="replace") or "nothing")
PY
}

KAM_CALL_MS=4000
kam_call uas-call-rtcp.xml uac-call-rtcp.xml rtcp -key uac_rtcp "$UAC_RTCP_PORT" -key uas_rtcp "$UAS_RTCP_PORT" \
  >"$KAM_DIR/call.status" 2>&1 &
call=$!
session_listed() { session_ports >/dev/null; }
wait_for 15 "kamcmd iptrtpproxy.list to show the call's session" session_listed
read -r PA PB < <(session_ports)
kam_log "the call got relay ports $PA (gate A), $PB (gate B); the phones' RTCP ports are $UAC_RTCP_PORT, $UAS_RTCP_PORT"
exchange_rtcp "$PA" "$PB" >"$KAM_DIR/rtcp.txt" 2>&1
sed 's/^/    /' "$KAM_DIR/rtcp.txt"
wait "$call"
kam_check "call with a=rtcp on both sides completes" [ $? -eq 0 ]

kam_check "the callee's offer names the relay's RTCP port of gate B (a=rtcp:$((PB + 1)))" \
  grep -qx "a=rtcp:$((PB + 1))" <(tr -d '\r' <"$KAM_DIR/rtcp-uas.log")
kam_check "the caller's answer names the relay's RTCP port of gate A (a=rtcp:$((PA + 1)))" \
  grep -qx "a=rtcp:$((PA + 1))" <(tr -d '\r' <"$KAM_DIR/rtcp-uac.log")
kam_check "RTCP from the caller reached the callee on its a=rtcp port ($UAS_RTCP_PORT)" \
  grep -q "^callee got: rtcp-sr-from-caller$" "$KAM_DIR/rtcp.txt"
kam_check "RTCP from the callee reached the caller on its a=rtcp port ($UAC_RTCP_PORT)" \
  grep -q "^caller got: rtcp-sr-from-callee$" "$KAM_DIR/rtcp.txt"
kam_check "no session left on the relay" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
