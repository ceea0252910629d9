#!/usr/bin/env bash
# The Debian packages of `make deb` as an operator gets them: lintian finds no error in them; on a
# machine with another kamailio, apt and dpkg -i refuse the module's package and unpack nothing;
# installed on this machine, the system user, the files, the conffiles,
# the man pages and `--version` are there, and a call through Debian's kamailio that loads the
# INSTALLED module from Kamailio's module folder has its RTP relayed both ways by the installed
# module's relay. Everything installed is purged at the end, also when a check fails (trap).
#
# Installs packages on this machine (it is meant to be disposable); a package of the same name
# that was installed before the test is left as it was, and the test stops.
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: needs root (it installs and purges packages)"; exit 0
fi
source "$(dirname "$0")/sipp/harness.sh"
kam_init package
for tool in dpkg-deb lintian apt-get man; do
  command -v "$tool" >/dev/null || { kam_log "$tool is not installed (make deps)"; exit 1; }
done
cd "$KAM_ROOT"

MAIN_PKG=iptrtpproxy
MODULE_PKG=kamailio-iptrtpproxy-module
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
known() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -qv "not-installed"; }
for p in "$MAIN_PKG" "$MODULE_PKG"; do
  if known "$p"; then kam_log "$p is already on this machine; purge it first (apt-get purge $p)"; exit 1; fi
done

APT=(apt-get -o DPkg::Lock::Timeout=120 -y -q)
# At exit, whatever happened: this test's packages go, purged (user, conffiles, state). The
# installed daemon (run as the user iptrtpproxy) stops first: a user with a process is not removed.
RELAYD_PID=""
RELAY_DIR=""
purge_packages() {
  local p
  if [ -n "$RELAYD_PID" ]; then
    e2e_stop "$RELAYD_PID" 5 >/dev/null 2>&1 || true
    RELAYD_PID=""
  fi
  [ -z "$RELAY_DIR" ] || rm -rf "$RELAY_DIR"
  for p in "$MODULE_PKG" "$MAIN_PKG"; do
    known "$p" || continue
    "${APT[@]}" purge "$p" >>"$KAM_DIR/purge.log" 2>&1 || dpkg --purge --force-depends "$p" >>"$KAM_DIR/purge.log" 2>&1 || true
  done
}
E2E_CLEANUP_HOOKS+=(purge_packages)

# 1. The packages: those of `make deb` when they are newer than the build, else built now.
version=$(build/iptrtpproxy --version)
arch=$(dpkg --print-architecture)
main_deb=build/${MAIN_PKG}_${version}_${arch}.deb
module_deb=build/${MODULE_PKG}_${version}_${arch}.deb
if [ ! -f "$main_deb" ] || [ ! -f "$module_deb" ] || [ "$main_deb" -ot build/iptrtpproxyd ] || [ "$module_deb" -ot build/iptrtpproxy.so ]; then
  kam_log "building the packages (scripts/build-deb.sh)"
  IPT_DEB_LINTIAN=0 bash scripts/build-deb.sh >"$KAM_DIR/build-deb.log" 2>&1 || { tail -20 "$KAM_DIR/build-deb.log"; e2e_fail "make deb"; kam_finish; }
fi
kam_check "lintian finds no error in either package" \
  bash -c "lintian --fail-on error '$main_deb' '$module_deb' >'$KAM_DIR/lintian.log' 2>&1"
kam_log "lintian: $(grep -c '^E:' "$KAM_DIR/lintian.log") errors, $(grep -c '^W:' "$KAM_DIR/lintian.log") warnings"
kam_deb=$(dpkg-query -W -f='${Version}' kamailio)
kam_check "the module's package pre-depends on exactly this kamailio ($kam_deb)" \
  grep -qF "kamailio (= $kam_deb)" <(dpkg-deb -f "$module_deb" Pre-Depends)

# 2. Another kamailio: the same package pinned to a kamailio version this machine does not have.
other=$KAM_DIR/other
dpkg-deb -R "$module_deb" "$other"
sed -i "s/kamailio (= $kam_deb)/kamailio (= 0.0.1-1)/" "$other/DEBIAN/control"
other_deb=$KAM_DIR/${MODULE_PKG}_${version}_other.deb
dpkg-deb --root-owner-group -Zgzip --build "$other" "$other_deb" >/dev/null
"${APT[@]}" install "./$main_deb" "$other_deb" >"$KAM_DIR/apt-other.log" 2>&1
rc=$?
kam_check "apt refuses the module built for another kamailio (exit $rc)" [ "$rc" -ne 0 ]
kam_check "apt says why: the kamailio pre-dependency" grep -q "PreDepends: kamailio (= 0.0.1-1)" "$KAM_DIR/apt-other.log"
kam_check "apt installed nothing (neither package)" bash -c "! dpkg-query -W -f='\${Status}' $MAIN_PKG $MODULE_PKG 2>/dev/null | grep -q 'ok installed'"
kam_check "the module is not in Kamailio's module folder" [ ! -e "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/kamailio/modules/iptrtpproxy.so" ]
dpkg -i "$other_deb" >"$KAM_DIR/dpkg-other.log" 2>&1
rc=$?
kam_check "dpkg -i of it fails (exit $rc)" [ "$rc" -ne 0 ]
kam_check "dpkg says why: the kamailio pre-dependency" grep -q "pre-depends on kamailio (= 0.0.1-1)" "$KAM_DIR/dpkg-other.log"
kam_check "dpkg unpacked nothing: the package is not on the machine" bash -c "! dpkg-query -W -f='\${Status}\n' $MODULE_PKG 2>/dev/null | grep -qv not-installed"
kam_check "dpkg unpacked nothing: no module in Kamailio's module folder" [ ! -e "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/kamailio/modules/iptrtpproxy.so" ]
dpkg --purge "$MODULE_PKG" >>"$KAM_DIR/dpkg-other.log" 2>&1
kam_check "kamailio is still $kam_deb" [ "$(dpkg-query -W -f='${Version}' kamailio)" = "$kam_deb" ]

# 3. Installed.
"${APT[@]}" install "./$main_deb" "./$module_deb" >"$KAM_DIR/apt.log" 2>&1
rc=$?
kam_check "apt installs both packages (exit $rc)" [ "$rc" -eq 0 ] || tail -20 "$KAM_DIR/apt.log"
kam_check "$MAIN_PKG is installed" installed "$MAIN_PKG"
kam_check "$MODULE_PKG is installed" installed "$MODULE_PKG"
kam_check "postinst made the system user iptrtpproxy" bash -c "uid=\$(id -u iptrtpproxy) && [ \"\$uid\" -lt 1000 ]"
kam_check "and its group, kamailio a member of it" bash -c "id -nG kamailio | grep -qw iptrtpproxy"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
module_path=/usr/lib/$multiarch/kamailio/modules/iptrtpproxy.so
for f in /usr/sbin/iptrtpproxyd /usr/bin/iptrtpproxy /usr/bin/rtpload; do
  kam_check "$f is installed, executable" [ -x "$f" ]
done
kam_check "the module is in Kamailio's module folder ($module_path)" [ -f "$module_path" ]
kam_check "the unit is installed" [ -f /lib/systemd/system/iptrtpproxyd.service ]
kam_check "the XDP object is installed where iptrtpproxyd looks" [ -f /usr/lib/iptrtpproxy/bpf/iptrtpproxy_xdp.o ]
# The installed daemon finds and attaches it by itself (a namespace of its own, a veth pair: the
# dummy driver is not on every machine).
XDP_NS=ipt-e2e-pkg-xdp-$$ XDP_DIR=$(mktemp -d /tmp/ipt-e2e-package-xdp.XXXXXX)
ip netns add "$XDP_NS" && ip -n "$XDP_NS" link set lo up && ip -n "$XDP_NS" link add x0 type veth peer name x1 \
  && ip -n "$XDP_NS" link set x0 up && ip -n "$XDP_NS" link set x1 up && ip netns exec "$XDP_NS" sysctl -qw net.ipv4.ip_forward=1
printf '[switchboard:x]\naddr-a = 127.0.0.1\nport-a = 30000\nmax-sess = 4\n' > "$XDP_DIR/iptrtpproxy.cfg"
ip netns exec "$XDP_NS" /usr/sbin/iptrtpproxyd --config "$XDP_DIR/iptrtpproxy.cfg" --control "unix:$XDP_DIR/control.sock" \
  --kernel-offload --kernel-offload-path xdp >"$XDP_DIR/log" 2>&1 &
XDP_PID=$!
e2e_track "$XDP_PID"
e2e_check_within 30 "the installed iptrtpproxyd starts with --kernel-offload-path xdp" test -S "$XDP_DIR/control.sock"
kam_check "…having loaded the installed XDP object and attached it" grep -qE "kernel offload: xdp \(generic: (x0, x1|x1, x0)\)" "$XDP_DIR/log" || { cat "$XDP_DIR/log"; false; }
e2e_stop "$XDP_PID" 5
ip netns del "$XDP_NS"
rm -rf "$XDP_DIR"
kam_check "the unit runs /usr/sbin/iptrtpproxyd as iptrtpproxy with /etc/iptrtpproxy.cfg" \
  bash -c "grep -q '^User=iptrtpproxy' /lib/systemd/system/iptrtpproxyd.service && grep -q '^ExecStart=/usr/sbin/iptrtpproxyd --config /etc/iptrtpproxy.cfg' /lib/systemd/system/iptrtpproxyd.service && grep -q '^EnvironmentFile=-/etc/default/iptrtpproxyd' /lib/systemd/system/iptrtpproxyd.service"
if command -v systemd-analyze >/dev/null; then
  kam_check "systemd-analyze verify finds nothing wrong in the unit" \
    bash -c "systemd-analyze verify /lib/systemd/system/iptrtpproxyd.service >'$KAM_DIR/verify.log' 2>&1 && ! grep -v 'network-online\|kamailio.service' '$KAM_DIR/verify.log' | grep -q ."
fi
conffiles=$(dpkg-query -W -f='${Conffiles}' "$MAIN_PKG")
kam_check "/etc/iptrtpproxy.cfg is a conffile" grep -q "^ /etc/iptrtpproxy.cfg " <<<"$conffiles"
kam_check "/etc/default/iptrtpproxyd is a conffile" grep -q "^ /etc/default/iptrtpproxyd " <<<"$conffiles"
kam_check "/etc/iptrtpproxy.cfg is a switchboards file the CLI reads" \
  bash -c "/usr/bin/iptrtpproxy find --gate-a 127.0.0.1 --gate-b 127.0.0.2 >/dev/null 2>&1"
for page in "8 iptrtpproxyd" "1 iptrtpproxy" "1 rtpload" "7 iptrtpproxy"; do
  kam_check "man -w finds $page" bash -c "man -w $page | grep -q '^/usr/share/man/'"
done
kam_check "iptrtpproxyd(8) documents its options (from the argument parser)" \
  bash -c "MANWIDTH=100 man -P cat 8 iptrtpproxyd 2>/dev/null | grep -q -- '--control-tls'"
kam_check "iptrtpproxy(7) documents every modparam" bash -c '
  page=$(MANWIDTH=200 man -P cat 7 iptrtpproxy 2>/dev/null)
  for p in config switchboard relay relay_secret relay_tls_ca relay_tls_cert relay_tls_key relay_journal relay_timeout relay_probe_interval relay_keep_sockets; do
    grep -q "^ *3\.[0-9]* *$p (" <<<"$page" || { echo "missing $p"; exit 1; }
  done'
kam_check "the docs are in /usr/share/doc/iptrtpproxy" \
  bash -c "[ -f /usr/share/doc/iptrtpproxy/README.md ] && [ -f /usr/share/doc/iptrtpproxy/docs/control-protocol.md ] && [ -f /usr/share/doc/iptrtpproxy/copyright ]"
kam_check "iptrtpproxyd --version is $version" [ "$(/usr/sbin/iptrtpproxyd --version)" = "$version" ]
kam_check "iptrtpproxy --version is $version" [ "$(/usr/bin/iptrtpproxy --version)" = "$version" ]
kam_check "the packages' version is $version" [ "$(dpkg-query -W -f='${Version}' "$MAIN_PKG")" = "$version" ]

# 4. A call through Debian's kamailio loading the installed module by name, from its module folder.
KAM_MODULE=iptrtpproxy.so
kam_start || kam_finish
kam_check "kamailio loaded the installed module (it logged its version)" \
  grep -q "iptrtpproxy $version loading" "$KAM_DIR/kamailio.log"
kam_check "kamailio mapped the module from $module_path" grep -q "$module_path" "/proc/$KAM_PID/maps"
kam_capture_start
KAM_CALL_MS=2000
kam_check "a call completes through the installed module" kam_call uas-call.xml uac-call.xml call
kam_capture_stop
kam_check "the callee's offer names a port of the relay's gate B" kam_read_session "$KAM_DIR/call-uas.log"
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP through the installed relay: caller -> callee $to_callee, callee -> caller $to_caller packets"
kam_check "RTP relayed caller -> callee" [ "$to_callee" -gt 20 ]
kam_check "RTP relayed callee -> caller" [ "$to_caller" -gt 20 ]
kam_check "no session left on the relay" kam_no_sessions_left
kam_stop

# 5. The installed daemon as its unit runs it: /usr/sbin/iptrtpproxyd as the user iptrtpproxy (its
#    control socket and journal in a folder of that user), Kamailio's installed module using it.
RELAY_DIR=$(mktemp -d /tmp/ipt-e2e-package-relay.XXXXXX)
install -m 0644 "$KAM_DIR/iptrtpproxy.cfg" "$RELAY_DIR/iptrtpproxy.cfg"
chown iptrtpproxy:iptrtpproxy "$RELAY_DIR"
chmod 0750 "$RELAY_DIR"
setpriv --reuid=iptrtpproxy --regid=iptrtpproxy --init-groups -- /usr/sbin/iptrtpproxyd \
  --config "$RELAY_DIR/iptrtpproxy.cfg" --control "unix:$RELAY_DIR/control.sock" \
  --journal "$RELAY_DIR/journal" --workers 1 >"$KAM_DIR/iptrtpproxyd.log" 2>&1 &
RELAYD_PID=$!
e2e_track "$RELAYD_PID"
e2e_check_within 30 "the installed iptrtpproxyd listens, as iptrtpproxy" test -S "$RELAY_DIR/control.sock"
kam_check "its control socket belongs to iptrtpproxy, mode 0660" \
  bash -c "[ \"\$(stat -c '%U:%G %a' '$RELAY_DIR/control.sock')\" = 'iptrtpproxy:iptrtpproxy 660' ]"
kam_check "it logs its version" grep -q "iptrtpproxyd $version running" "$KAM_DIR/iptrtpproxyd.log"
RELAY="unix:$RELAY_DIR/control.sock" kam_start || kam_finish
kam_capture_start
kam_check "a call completes through the installed daemon" kam_call uas-call.xml uac-call.xml daemon
kam_capture_stop
kam_check "the callee's offer names a port of the daemon's gate B" kam_read_session "$KAM_DIR/daemon-uas.log"
to_callee=$(kam_count_packets "$PB" "$((PB + 1))" "$UAS_MEDIA_PORT")
to_caller=$(kam_count_packets "$PA" "$((PA + 1))" "$UAC_MEDIA_PORT")
kam_log "RTP through the installed iptrtpproxyd: caller -> callee $to_callee, callee -> caller $to_caller packets"
kam_check "the installed iptrtpproxyd relayed RTP caller -> callee" [ "$to_callee" -gt 20 ]
kam_check "the installed iptrtpproxyd relayed RTP callee -> caller" [ "$to_caller" -gt 20 ]
kam_check "it journaled as iptrtpproxy" bash -c "[ \"\$(stat -c %U '$RELAY_DIR/journal')\" = iptrtpproxy ]"
kam_stop
kam_check "the installed iptrtpproxyd stops cleanly on SIGTERM" e2e_stop "$RELAYD_PID" 5
RELAYD_PID=""

# 6. Purged: nothing of the packages left (the cleanup does it again if a check above stopped early).
purge_packages
kam_check "purge removes both packages" bash -c "! dpkg-query -W -f='\${Status}\n' $MAIN_PKG $MODULE_PKG 2>/dev/null | grep -qv not-installed"
kam_check "purge removes the user iptrtpproxy" bash -c "! getent passwd iptrtpproxy >/dev/null"
kam_check "purge removes the conffiles" bash -c "[ ! -e /etc/iptrtpproxy.cfg ] && [ ! -e /etc/default/iptrtpproxyd ]"
kam_check "purge removes the module" [ ! -e "$module_path" ]
kam_finish
