#!/usr/bin/env bash
# build/iptrtpproxy.so needs no Swift toolchain where Kamailio runs: it names no Swift runtime
# library and no toolchain run path, and Kamailio loads it and relays a call with the toolchain's
# folder hidden (an empty tmpfs mounted over it in a private mount namespace) and a cleared
# environment (no LD_LIBRARY_PATH).
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-no-toolchain

dynamic=$(readelf -d "$KAM_MODULE")
kam_check "no Swift runtime library among the NEEDED entries" bash -c "! grep -q 'NEEDED.*libswift' <<<\"\$1\"" _ "$dynamic"
kam_check "no RPATH/RUNPATH into a toolchain" bash -c "! grep -Eq 'R(UN)?PATH' <<<\"\$1\"" _ "$dynamic"
exported=$(readelf -W --dyn-syms "$KAM_MODULE" | awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" {print $8}' | sort | tr '\n' ' ')
kam_check "only the four module symbols are exported ($exported)" \
  [ "$exported" = "exports mod_register module_flags module_version " ]

# The folder that holds the toolchain's libraries (…/usr/lib/swift/linux), hidden as a whole.
toolchain=""
if command -v swift >/dev/null; then
  toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")   # …/usr
fi
cat >"$KAM_DIR/hide-toolchain.sh" <<SH
#!/bin/sh
# Runs "\$@" with the Swift toolchain out of reach and an empty environment.
if [ -n "$toolchain" ] && [ -d "$toolchain" ]; then
  mount -t tmpfs -o size=1m none "$toolchain" || exit 97
  ls -A "$toolchain" >"$KAM_DIR/toolchain-view.txt"
fi
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "\$@"
SH
chmod +x "$KAM_DIR/hide-toolchain.sh"

if ! unshare -m --propagation private true 2>/dev/null; then
  echo "[$KAM_NAME] cannot make a mount namespace here (needs root); checked the ELF only"
  kam_finish
fi

KAM_WRAP="unshare -m --propagation private $KAM_DIR/hide-toolchain.sh" kam_start || kam_finish
if [ -n "$toolchain" ]; then
  kam_log "toolchain folder hidden: $toolchain"
  kam_check "Kamailio saw an empty toolchain folder" [ ! -s "$KAM_DIR/toolchain-view.txt" ]
fi
kam_check "Kamailio loaded the module (it logged its switchboards)" [ "$(kam_logged 'INFO: iptrtpproxy: switchboards:')" -eq 1 ]
kam_check "no Swift library is mapped into Kamailio" bash -c "! grep -q libswift /proc/$KAM_PID/maps"
kam_capture_start
kam_check "a call completes" kam_call uas-call.xml uac-call.xml call
kam_capture_stop
kam_check "the callee's offer names a relay port of gate B" kam_read_session "$KAM_DIR/call-uas.log"
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_check "the embedded relay relayed RTP both ways ($to_callee / $to_caller packets)" test "$to_callee" -gt 20 -a "$to_caller" -gt 20
kam_stop

# The daemon, the CLI and rtpload carry the Swift runtime too (make build links it statically):
# no Swift library needed, no run path into a toolchain, and they run with the toolchain hidden.
for b in iptrtpproxyd iptrtpproxy rtpload; do
  dynamic=$(readelf -d "$KAM_ROOT/build/$b")
  kam_check "$b: no Swift runtime library among the NEEDED entries" bash -c "! grep -q 'NEEDED.*lib\(swift\|Foundation\)' <<<\"\$1\"" _ "$dynamic"
  kam_check "$b: no run path into a toolchain" bash -c "! grep -E 'R(UN)?PATH' <<<\"\$1\" | grep -v '\[\\\$ORIGIN\]' | grep -q ." _ "$dynamic"
done
hidden() { unshare -m --propagation private "$KAM_DIR/hide-toolchain.sh" "$@"; }
kam_check "iptrtpproxyd runs with the toolchain hidden" bash -c "$(declare -f hidden); KAM_DIR='$KAM_DIR' hidden '$KAM_ROOT/build/iptrtpproxyd' --help >/dev/null"
kam_check "rtpload runs with the toolchain hidden" bash -c "$(declare -f hidden); KAM_DIR='$KAM_DIR' hidden '$KAM_ROOT/build/rtpload' --help >/dev/null"
printf 'v=0\r\no=a 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n' >"$KAM_DIR/offer.sdp"
cli_alloc() { unshare -m --propagation private "$KAM_DIR/hide-toolchain.sh" "$KAM_ROOT/build/iptrtpproxy" alloc --config "$KAM_DIR/iptrtpproxy.cfg" --switchboard loop --flags 1 <"$KAM_DIR/offer.sdp"; }
kam_check "the CLI rewrites an offer with the toolchain hidden" bash -c "$(declare -f cli_alloc); KAM_DIR='$KAM_DIR' KAM_ROOT='$KAM_ROOT' cli_alloc 2>&1 | grep -q '^result=1'"
kam_finish
