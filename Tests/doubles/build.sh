#!/usr/bin/env bash
# Builds the libipt_RTPPROXY test double: build.sh [OUTPUT] (default .build-doubles/libipt_RTPPROXY_double.so).
# It is a double, not the library: see the comment at the top of libipt_RTPPROXY_double.c.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../.build-doubles/libipt_RTPPROXY_double.so}
mkdir -p "$(dirname "$out")"
${CC:-cc} -shared -fPIC -O1 -Wall -Wextra -o "$out" "$here/libipt_RTPPROXY_double.c" -I "$here/../../Sources/CXTRTPProxy"
echo "$out"
