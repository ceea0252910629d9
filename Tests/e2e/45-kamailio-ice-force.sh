#!/usr/bin/env bash
# ice=force through Kamailio with the embedded relay (issue 13 item 3): examples/kamailio.cfg with
# a `switchboard` modparam "name=*;ice=force". A caller whose offer carries ICE lines (LAN and
# reflexive candidates) calls a callee without ICE:
#  - the callee's offer has the relay's host candidates on gate B (RTP and RTCP port), fresh
#    credentials and a=ice-lite, and none of the caller's candidates or addresses; the caller's
#    answer has the relay's candidates on gate A and other credentials (each set of lines put by
#    the module's body lumps);
#  - while the call runs, a connectivity check with the callee's credentials (a Python STUN
#    client written from RFC 8489, independent of the relay's code) to gate B's RTCP port is
#    answered: success class, XOR-MAPPED-ADDRESS = the checker, MESSAGE-INTEGRITY (HMAC-SHA1 with
#    the password from the SDP) and FINGERPRINT right; the same check with a wrong password gets
#    no answer;
#  - iptrtpproxy.list names the session by the call's Call-ID (taken from the INVITE by the module);
#  - RTP flows both ways; the BYE frees the sessions.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-ice-force
cfg="$KAM_DIR/kamailio-ice.cfg"
sed '/^modparam("iptrtpproxy", "switchboard", "name=\*;learning-timeout-a/a modparam("iptrtpproxy", "switchboard", "name=*;ice=force")' \
  "$KAM_ROOT/examples/kamailio.cfg" >"$cfg"
kam_check "the test script forces ICE on every switchboard" grep -q '"name=\*;ice=force"' "$cfg"
KAM_CFG="$cfg" kam_start || kam_finish
kam_capture_start
KAM_CALL_MS=4000 kam_call uas-call.xml uac-call-ice.xml ice &
call=$!
e2e_track "$call"
wait_for 15 "the callee's INVITE" grep -qs "INVITE sip:" "$KAM_DIR/ice-uas.log"
offer=$(kam_trace --body received INVITE "$KAM_DIR/ice-uas.log")
kam_read_session "$KAM_DIR/ice-uas.log"
kam_log "the call got session $SID: ports $PA (gate A), $PB (gate B)"
has() { grep -qF -- "$2" <<<"$1"; }
kam_check "the callee's offer has a=ice-lite and the relay's RTP candidate on gate B" \
  eval 'has "$offer" "a=ice-lite" && has "$offer" "a=candidate:1 1 UDP 2130706431 127.0.0.1 $PB typ host"'
kam_check "... and its RTCP candidate" has "$offer" "a=candidate:1 2 UDP 2130706430 127.0.0.1 $((PB + 1)) typ host"
kam_check "... and the relay's credentials, not the caller's" \
  eval 'grep -qE "^a=ice-ufrag:[A-Za-z0-9+/]{8}$" <<<"$offer" && ! has "$offer" "F7gI" && ! has "$offer" "x9cml"'
kam_check "... and none of the caller's candidates or LAN address" eval '! has "$offer" "10.0.1.1" && ! has "$offer" "192.0.2.10"'
kam_check "... one set of candidates, ended" test "$(grep -c '^a=end-of-candidates' <<<"$offer")" -eq 1
ufrag=$(sed -n 's/^a=ice-ufrag://p' <<<"$offer" | tr -d '\r') pwd=$(sed -n 's/^a=ice-pwd://p' <<<"$offer" | tr -d '\r')

e2e_checks_from "a check with the callee's credentials is answered by the relay; a wrong password is not" \
  python3 - "$PB" "$ufrag" "$pwd" <<'PY'
import hmac, hashlib, os, socket, struct, sys, zlib
port, ufrag, pwd = int(sys.argv[1]) + 1, sys.argv[2], sys.argv[3]
COOKIE = 0x2112A442
def attr(t, v): return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)
def check(password, tid):
    body = attr(0x0006, f"{ufrag}:sipp".encode()) + attr(0x0024, struct.pack("!I", 1853817343))
    head = lambda n: struct.pack("!HHI", 1, n, COOKIE) + tid
    mac = hmac.new(password.encode(), head(len(body) + 24) + body, hashlib.sha1).digest()
    body += attr(0x0008, mac)
    crc = zlib.crc32(head(len(body) + 8) + body) ^ 0x5354554E
    body += attr(0x8028, struct.pack("!I", crc))
    return head(len(body)) + body
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(3)
wrong, right = os.urandom(12), os.urandom(12)
s.sendto(check("wrongwrongwrongwrong00", wrong), ("127.0.0.1", port))
s.sendto(check(pwd, right), ("127.0.0.1", port))
data, src = s.recvfrom(2048)
print(("ok" if src == ("127.0.0.1", port) else "FAIL") + f" the answer comes from gate B's RTCP port {src}")
print(("ok" if data[8:20] == right else "FAIL") + " the first answer is the right check's (the wrong one got none)")
mtype, length = struct.unpack("!HH", data[:4])
print(("ok" if mtype == 0x0101 and length + 20 == len(data) else "FAIL") + f" a Binding success response ({mtype:#06x})")
attrs, i = {}, 20
while i < len(data):
    t, n = struct.unpack("!HH", data[i:i + 4]); attrs[t] = (i, data[i + 4:i + 4 + n]); i += 4 + n + (4 - n % 4) % 4
xport = struct.unpack("!H", attrs[0x0020][1][2:4])[0] ^ (COOKIE >> 16)
xaddr = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", attrs[0x0020][1][4:8])[0] ^ COOKIE))
print(("ok" if (xaddr, xport) == s.getsockname() else "FAIL") + f" XOR-MAPPED-ADDRESS is the checker {xaddr}:{xport}")
mi_at, mi = attrs[0x0008]
covered = struct.pack("!HH", mtype, mi_at + 24 - 20) + data[4:mi_at]
print(("ok" if hmac.new(pwd.encode(), covered, hashlib.sha1).digest() == mi else "FAIL") + " MESSAGE-INTEGRITY is made with the SDP's password")
fp_at, fp = attrs[0x8028]
print(("ok" if struct.unpack("!I", fp)[0] == zlib.crc32(data[:fp_at]) ^ 0x5354554E and fp_at + 8 == len(data) else "FAIL") + " FINGERPRINT is right and last")
s.settimeout(0.3)
try:
    s.recvfrom(2048); print("FAIL a second answer came")
except socket.timeout:
    print("ok no answer to the wrong password")
PY
callid=$(grep -m1 -i "^Call-ID:" "$KAM_DIR/ice-uac.log" | sed 's/^[^:]*: *//' | tr -d '\r')
kam_check "iptrtpproxy.list names the call by its Call-ID ($callid)" grep -qF -- "$callid" <(kam_rpc iptrtpproxy.list 2>&1)
wait "$call"
kam_check "the call completes" test $? -eq 0
e2e_untrack "$call"
kam_capture_stop
answer=$(kam_trace --body received "SIP/2.0 200" "$KAM_DIR/ice-uac.log")
kam_check "the caller's answer has the relay's candidates on gate A, with other credentials" \
  eval 'has "$answer" "a=ice-lite" && has "$answer" "a=candidate:1 1 UDP 2130706431 127.0.0.1 $PA typ host" && ! has "$answer" "a=ice-ufrag:$ufrag"'
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP relayed: caller -> callee $to_callee packets, callee -> caller $to_caller packets"
kam_check "RTP relayed caller -> callee" [ "$to_callee" -gt 20 ]
kam_check "RTP relayed callee -> caller" [ "$to_caller" -gt 20 ]
kam_check "no session left on the relay" kam_no_sessions_left
kam_check "the module logged no error" [ "$(kam_logged 'ERROR: iptrtpproxy')" -eq 0 ]
kam_finish
