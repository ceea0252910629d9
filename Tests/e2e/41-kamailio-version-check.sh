#!/usr/bin/env bash
# The module runs only in the Kamailio version it was built for, patch level included (kam56.h
# declares the core's layouts of one release). Three builds of it:
#   - the normal one (build/iptrtpproxy.so) loads and logs its switchboards;
#   - a copy whose recorded build version is the running one's next patch level
#     (IPT_KAM_BUILT_FOR, a build variable of scripts/build-extras.sh) is refused while Kamailio
#     reads its script, with one line naming both versions, and Kamailio does not start;
#   - a build against a Kamailio that says it is another patch level stops at compile time
#     (kam56.h), before any module exists.
source "$(dirname "$0")/sipp/harness.sh"
kam_init kamailio-version-check

running=$(kamailio -v | sed -n 's/^version: kamailio \([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p')
IFS=. read -r major minor patch <<<"$running"
other="$major.$minor.$((patch + 1))"
kam_log "running Kamailio $running; the altered copy records $other"

# 1. The normal build loads.
kam_start || kam_finish
kam_check "the normal build loads into Kamailio $running (it logged its switchboards)" \
  [ "$(kam_logged 'INFO: iptrtpproxy: switchboards:')" -eq 1 ]
kam_check "and logs no version refusal" [ "$(kam_logged 'refusing to load')" -eq 0 ]
kam_stop

# 2. The same module, recorded as built for another patch level, is refused.
altered="$KAM_DIR/iptrtpproxy-built-for-$other.so"
(cd "$KAM_ROOT" && IPT_MODULE_OUT="$altered" IPT_KAM_BUILT_FOR="$other" bash scripts/build-extras.sh) \
  >"$KAM_DIR/build-altered.log" 2>&1
kam_check "the copy recorded as built for $other is built" [ -f "$altered" ]
kam_write_switchboards
timeout 30 kamailio -f "$KAM_ROOT/examples/kamailio.cfg" -DD -E -Y "$KAM_DIR" -m 64 -M 8 \
  -A "LISTEN=udp:127.0.0.1:$KAM_SIP_PORT" -A "CHILDREN=1" \
  -A "IPT_MODULE=\"$altered\"" -A "IPT_CONFIG=\"$KAM_DIR/iptrtpproxy.cfg\"" -A "IPT_RELAY=\"embedded\"" \
  -A "NEXT_HOP=\"sip:127.0.0.1:$UAS_SIP_PORT\"" >"$KAM_DIR/kamailio-altered.log" 2>&1
status=$?
refusal="was built for Kamailio $other and this is Kamailio $running: refusing to load"
kam_log "Kamailio said: $(grep -m1 'refusing to load' "$KAM_DIR/kamailio-altered.log")"
kam_check "Kamailio refuses the copy, naming both versions ($refusal)" grep -q -- "$refusal" "$KAM_DIR/kamailio-altered.log"
kam_check "Kamailio does not start with it (exit status $status, not a timeout)" test "$status" -ne 0 -a "$status" -ne 124
kam_check "the core reports the module's refusal (mod_register failed)" grep -q 'mod_register failed' "$KAM_DIR/kamailio-altered.log"
kam_check "no switchboard was read by the refused copy" bash -c "! grep -q 'iptrtpproxy: switchboards:' '$KAM_DIR/kamailio-altered.log'"

# 3. A Kamailio that says it is another patch level: kam56.h stops the build.
cat >"$KAM_DIR/kamailio-$other" <<SH
#!/bin/sh
kamailio -v | sed 's/^version: kamailio $running /version: kamailio $other /'
SH
chmod +x "$KAM_DIR/kamailio-$other"
(cd "$KAM_ROOT" && KAMAILIO="$KAM_DIR/kamailio-$other" IPT_MODULE_OUT="$KAM_DIR/iptrtpproxy-for-$other.so" \
  bash scripts/build-extras.sh) >"$KAM_DIR/build-other.log" 2>&1
built=$?
kam_check "building for Kamailio $other fails (exit $built)" [ "$built" -ne 0 ]
kam_check "kam56.h says its layouts are those of $running" grep -q "kam56.h declares the layouts of Kamailio $running" "$KAM_DIR/build-other.log"
kam_check "no module was written for $other" [ ! -e "$KAM_DIR/iptrtpproxy-for-$other.so" ]
kam_finish
