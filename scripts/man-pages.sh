#!/usr/bin/env bash
# Writes the manual pages into DIR (default build/man); called by scripts/build-deb.sh.
#
#   iptrtpproxyd.8, iptrtpproxy.1, rtpload.1   from the binaries' argument parsers: swift-argument-
#       parser's generate-manual tool reads each built binary's --experimental-dump-help, so the
#       options and their help text in the page are the code's own. The tool is built offline
#       from the checkout SwiftPM already holds (Package.resolved pins it). Not through the
#       package's plugin (`swift package plugin generate-manual`): in 1.8.2 it takes no --product,
#       builds every product again without --static-swift-stdlib and writes into .build/plugins.
#   iptrtpproxy.7                               the Kamailio module's documentation,
#       Modules/kamailio/README.md, through pandoc: README and manual page have one source.
#
#   IPT_MAN_VERSION   the version in the pages' footers (default: build/iptrtpproxy --version)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-build/man}
SWIFT=${SWIFT:-swift}
TOOLS=.build-tools        # a scratch path of its own: never rebuilds or relinks the binaries of `make build`
version=${IPT_MAN_VERSION:-$(build/iptrtpproxy --version)}
date_epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
day=$(date -u -d "@$date_epoch" +%Y-%m-%d)
mkdir -p "$OUT"

# 1. generate-manual: an executable target, not a product, of swift-argument-parser. A copy of the
#    pinned checkout with that product added builds it offline, in a scratch path of its own.
parser=$(realpath .build/checkouts/swift-argument-parser 2>/dev/null || true)
[ -f "$parser/Package.swift" ] || { "$SWIFT" package resolve >/dev/null; parser=$(realpath .build/checkouts/swift-argument-parser); }
tool_src=$TOOLS/argument-parser-src
if [ ! -f "$tool_src/.copied-from" ] || [ "$(cat "$tool_src/.copied-from")" != "$(git -C "$parser" rev-parse HEAD 2>/dev/null || echo "$parser")" ]; then
  rm -rf "$tool_src"
  mkdir -p "$tool_src"
  (cd "$parser" && tar --exclude=./.build --exclude=./.git -cf - .) | (cd "$tool_src" && tar -xf -)
  printf '\n// Added by scripts/man-pages.sh: the manual page generator as a product.\npackage.products.append(.executable(name: "generate-manual", targets: ["generate-manual"]))\n' >> "$tool_src/Package.swift"
  git -C "$parser" rev-parse HEAD 2>/dev/null > "$tool_src/.copied-from" || echo "$parser" > "$tool_src/.copied-from"
fi
"$SWIFT" build -c release --package-path "$tool_src" --scratch-path "$TOOLS/argument-parser" --product generate-manual >"$TOOLS/generate-manual.log" 2>&1 \
  || { tail -20 "$TOOLS/generate-manual.log" >&2; echo "man-pages: cannot build generate-manual (from $parser)" >&2; exit 1; }
generate=$("$SWIFT" build -c release --package-path "$tool_src" --scratch-path "$TOOLS/argument-parser" --show-bin-path)/generate-manual

# generate-manual runs the binary with --experimental-dump-help. The argument parser lists its
# implicit `help` subcommand there, which would put "subcommand" into every page's synopsis: a
# wrapper hands the tool the description without it.
gen() {  # BINARY SECTION
  local work
  work=$(mktemp -d)
  cat > "$work/describe" <<WRAP
#!/bin/sh
exec "$PWD/build/$1" --experimental-dump-help | python3 -c '
import json, sys
def drop_help(command):
    subs = [c for c in command.get("subcommands") or [] if c.get("commandName") != "help"]
    for c in subs:
        drop_help(c)
    if subs:
        command["subcommands"] = subs
    else:
        command.pop("subcommands", None)
info = json.load(sys.stdin)
drop_help(info["command"])
json.dump(info, sys.stdout)
'
WRAP
  chmod +x "$work/describe"
  "$generate" "$work/describe" --section "$2" --date "$day" --authors "iptrtpproxy developers" --output-directory "$work"
  [ -s "$work/$1.$2" ] || { echo "man-pages: generate-manual wrote no $1.$2" >&2; exit 1; }
  # An empty line in mdoc is a groff warning (the help texts' paragraph breaks): a .Pp instead.
  sed 's/^$/.Pp/' "$work/$1.$2" > "$OUT/$1.$2"
  rm -rf "$work"
}
gen iptrtpproxyd 8
gen iptrtpproxy 1
gen rtpload 1

# 2. The module's page from its README (GitHub-flavoured Markdown; tables become tbl tables).
command -v pandoc >/dev/null || { echo "man-pages: pandoc is missing: run make deps" >&2; exit 1; }
#    The README's title gives way to the NAME line whatis(1) reads; its numbered sections become
#    the page's sections.
{
  printf '## NAME\n\niptrtpproxy - Kamailio module: relays the RTP and RTCP of calls through the iptrtpproxy relay\n\n## DESCRIPTION\n\n'
  sed '1{/^# /d}' Modules/kamailio/README.md
} | pandoc -s -f gfm -t man --shift-heading-level-by=-1 \
  -M title=IPTRTPPROXY -M section=7 -M date="$day" \
  -M header="Kamailio module iptrtpproxy" -M footer="iptrtpproxy $version" \
  -o "$OUT/iptrtpproxy.7"
echo "man-pages: $(cd "$OUT" && echo *)"
