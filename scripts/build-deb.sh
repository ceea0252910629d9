#!/usr/bin/env bash
# Builds the Debian packages from what `make build` left in build/ (called by `make deb`):
#
#   build/iptrtpproxy_VERSION_ARCH.deb                   iptrtpproxyd (/usr/sbin), iptrtpproxy and
#       rtpload (/usr/bin), the systemd unit, /etc/iptrtpproxy.cfg and /etc/default/iptrtpproxyd
#       (conffiles), the system user iptrtpproxy (postinst; removed on purge), manual pages, docs
#   build/kamailio-iptrtpproxy-module_VERSION_ARCH.deb   iptrtpproxy.so in Kamailio's module folder,
#       its manual page iptrtpproxy(7); Pre-Depends: kamailio (= the package version it was built for)
#
# VERSION is `build/iptrtpproxy --version` (IPTRTPProxyVersion.string). The packages are made with
# dpkg-deb from a staging tree per package (no debhelper: the Swift build is `make build`'s), their
# library dependencies with dpkg-shlibdeps, and lintian must find no error in them.
#
#   IPT_DEB_LINTIAN=0   skip lintian (tests that repack a package check it themselves)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build
STAGE=$BUILD/deb
MAINTAINER="iptrtpproxy developers <iptrtpproxy@example.org>"
die() { echo "build-deb: $*" >&2; exit 1; }

for f in iptrtpproxy iptrtpproxyd rtpload iptrtpproxy.so iptrtpproxy.so.built-for; do
  [ -e "$BUILD/$f" ] || die "$BUILD/$f is missing: run make build first"
done
for tool in dpkg-deb dpkg-shlibdeps dpkg-architecture pandoc; do
  command -v "$tool" >/dev/null || die "$tool is missing: run make deps"
done

version=$("$BUILD/iptrtpproxy" --version)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "build/iptrtpproxy --version printed '$version', not X.Y.Z"
for b in iptrtpproxyd rtpload; do
  [ "$("$BUILD/$b" --version)" = "$version" ] || die "build/$b --version differs from build/iptrtpproxy's $version: rebuild"
done
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
module_dir=/usr/lib/$multiarch/kamailio/modules

# The module works in exactly the kamailio it was built against (scripts/build-extras.sh records
# its package version): pin that, and refuse to package a module built for a kamailio since replaced.
built_for=$(sed -n 's/^kamailio-deb=//p' "$BUILD/iptrtpproxy.so.built-for")
installed=$(dpkg-query -W -f='${Version}' kamailio 2>/dev/null || true)
[ -n "$built_for" ] || die "$BUILD/iptrtpproxy.so.built-for names no kamailio package version (was kamailio installed by dpkg?)"
[ "$built_for" = "$installed" ] || die "build/iptrtpproxy.so was built for kamailio $built_for, installed is ${installed:-none}: run make build"

date_epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$date_epoch
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

rm -rf "$STAGE"
mkdir -p "$STAGE"
IPT_MAN_VERSION=$version bash scripts/man-pages.sh "$STAGE/man"

# Files of one package: install SOURCE DEST MODE (DEST relative to the package root).
put() {
  local root=$1 src=$2 dest=$3 mode=$4
  install -D -m "$mode" "$src" "$root/$dest"
}
# The binaries without their symbol tables (debug symbols are not packaged).
put_binary() {
  put "$@"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$1/$3"
}
put_man() {
  local root=$1 page=$2 section=${2##*.}
  install -D -m 0644 "$STAGE/man/$page" "$root/usr/share/man/man$section/$page"
  gzip -9n "$root/usr/share/man/man$section/$page"
}
# Debian's changelog, one entry for this build (the package's version is the source tree's).
put_changelog() {
  local root=$1 package=$2 doc="$1/usr/share/doc/$2"
  mkdir -p "$doc"
  {
    echo "$package ($version) unstable; urgency=medium"
    echo
    echo "  * Built from the iptrtpproxy source tree at commit $commit."
    echo
    echo " -- $MAINTAINER  $(date -u -R -d "@$date_epoch")"
  } > "$doc/changelog"
  gzip -9n "$doc/changelog"
  install -m 0644 packaging/deb/copyright "$doc/copyright"
}
# DEBIAN/: control from its template, maintainer scripts, md5sums, conffiles.
finish_package() {
  local root=$1 package=$2 shlibs=$3 kamailio=${4:-}
  local size
  [ -n "$shlibs" ] || die "dpkg-shlibdeps found no library dependencies for $package"
  mkdir -p "$root/DEBIAN"
  (cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print | sed 's|^\./||' | sort | xargs -r md5sum) \
    > "$root/DEBIAN/md5sums"
  size=$(du -sk --apparent-size --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" -e "s|@MAINTAINER@|$MAINTAINER|g" \
      -e "s|@SIZE@|$size|g" -e "s|@SHLIBS@|$shlibs|g" -e "s|@KAMAILIO_VERSION@|$kamailio|g" \
      "packaging/deb/$package.control.in" > "$root/DEBIAN/control"
  for script in preinst postinst prerm postrm; do
    [ -f "packaging/deb/$package.$script" ] && install -m 0755 "packaging/deb/$package.$script" "$root/DEBIAN/$script"
  done
  if [ -d "$root/etc" ]; then
    (cd "$root" && find etc -type f | sed 's|^|/|' | sort) > "$root/DEBIAN/conffiles"
  fi
  find "$root" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Zxz -z3 --build "$root" "$BUILD/${package}_${version}_${arch}.deb" >/dev/null
  echo "build-deb: $BUILD/${package}_${version}_${arch}.deb"
}
# The packages' library dependencies, as dpkg-shlibdeps finds them (it wants a debian/control).
shlibs_of() {
  local work
  work=$(mktemp -d)
  mkdir "$work/debian"
  printf 'Source: iptrtpproxy\n\nPackage: iptrtpproxy\nArchitecture: any\n' > "$work/debian/control"
  local files=()
  for f in "$@"; do files+=("-e$(realpath "$f")"); done
  (cd "$work" && dpkg-shlibdeps -O "${files[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
  rm -rf "$work"
}

# 1. iptrtpproxy: the relay, the tool, the load generator, the unit, the config, the docs.
root=$STAGE/iptrtpproxy
doc=usr/share/doc/iptrtpproxy
put_binary "$root" "$BUILD/iptrtpproxyd" usr/sbin/iptrtpproxyd 0755
put_binary "$root" "$BUILD/iptrtpproxy" usr/bin/iptrtpproxy 0755
put_binary "$root" "$BUILD/rtpload" usr/bin/rtpload 0755
put "$root" contrib/iptrtpproxyd.service lib/systemd/system/iptrtpproxyd.service 0644
# The eBPF objects (XDP fast path), where iptrtpproxyd looks for them; lintian is told that they
# are BPF, not amd64, code.
for object in "$BUILD"/bpf/*.o; do
  [ -e "$object" ] && put "$root" "$object" "usr/lib/iptrtpproxy/bpf/$(basename "$object")" 0644
done
put "$root" packaging/deb/lintian/iptrtpproxy usr/share/lintian/overrides/iptrtpproxy 0644
put "$root" iptrtpproxy.cfg.example etc/iptrtpproxy.cfg 0644
put "$root" contrib/iptrtpproxyd.default etc/default/iptrtpproxyd 0644
put_man "$root" iptrtpproxyd.8
put_man "$root" iptrtpproxy.1
put_man "$root" rtpload.1
put "$root" README.md "$doc/README.md" 0644
put "$root" Modules/kamailio/README.md "$doc/Modules/kamailio/README.md" 0644
for f in docs/*.md; do put "$root" "$f" "$doc/$f" 0644; done
put "$root" examples/kamailio.cfg "$doc/examples/kamailio.cfg" 0644
put "$root" iptrtpproxy.cfg.example "$doc/examples/iptrtpproxy.cfg" 0644
put "$root" contrib/keepalived/keepalived.conf "$doc/examples/keepalived.conf" 0644
put_changelog "$root" iptrtpproxy
finish_package "$root" iptrtpproxy \
  "$(shlibs_of "$root/usr/sbin/iptrtpproxyd" "$root/usr/bin/iptrtpproxy" "$root/usr/bin/rtpload")"

# 2. kamailio-iptrtpproxy-module: the module, pinned to its kamailio.
root=$STAGE/kamailio-iptrtpproxy-module
put_binary "$root" "$BUILD/iptrtpproxy.so" "${module_dir#/}/iptrtpproxy.so" 0644
put_man "$root" iptrtpproxy.7
put_changelog "$root" kamailio-iptrtpproxy-module
finish_package "$root" kamailio-iptrtpproxy-module "$(shlibs_of "$root/${module_dir#/}/iptrtpproxy.so")" "$built_for"

if [ "${IPT_DEB_LINTIAN:-1}" = 1 ]; then
  command -v lintian >/dev/null || die "lintian is missing: run make deps"
  # Errors fail the build; warnings are printed for the maintainer.
  lintian --fail-on error \
    "$BUILD/iptrtpproxy_${version}_${arch}.deb" "$BUILD/kamailio-iptrtpproxy-module_${version}_${arch}.deb" \
    || die "lintian found errors (above)"
  echo "build-deb: lintian: no errors"
fi
