#!/usr/bin/env bash
# Installs every Debian package the project needs, once; safe to run again.
# Called by `make deps` (and so by `make test`, `make demo`, `make bench`).
set -euo pipefail

packages=(
  kamailio kamailio-extra-modules sip-tester          # the SIP proxy we load into, and the call generator
  rtpengine-daemon                                    # the peer relay measured by `make bench`
  libmnl-dev libnftnl-dev nftables                    # kernel-space forwarding over netlink
  libbpf-dev clang bpftool ethtool                    # the XDP fast path: its loader, compiler, inspection; bench NIC settings
  python3-matplotlib                                  # make bench: knee curves and latency plots (PNG)
  libiptc-dev libxtables-dev                          # headers the xt_RTPPROXY binding builds against
  libssl-dev openssl                                  # TLS of the control connection; test certificates
  libhiredis-dev redis-server                         # sessions in Redis (iptrtpproxyd --redis); tests start their own server
  iproute2 tshark procps psmisc python3               # test namespaces, captures, process control, test drivers
  python3-aiortc                                      # real WebRTC peers (ICE, DTLS-SRTP) for the ice=force test
  dpkg-dev lintian pandoc man-db                      # make deb: packages, their check, manual pages (and man -w in e2e 48)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "deps: installing ${missing[*]}"
[ "$(id -u)" -eq 0 ] || { echo "deps: need root to install packages (sudo make deps)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The kamailio, rtpengine and redis packages may start their services (5060, 2223, 6379 and media ports where
# systemd runs); our tests and benchmarks start their own instances with their own ports and configs.
for service in kamailio rtpengine-daemon redis-server; do
  systemctl disable --now "$service" >/dev/null 2>&1 || true
  service "$service" stop >/dev/null 2>&1 || true
done
echo "deps: done"
