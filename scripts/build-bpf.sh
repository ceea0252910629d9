#!/usr/bin/env bash
# Compiles the project's eBPF programs (bpf/*.bpf.c) into build/bpf/NAME.o with Debian's clang
# (issue 15). Called by `make build`. The relay loads them at run time from the folder next to its
# binary (build/bpf, /usr/lib/iptrtpproxy/bpf in the package) or $IPTRTPPROXY_BPF_DIR; without
# clang the objects are missing, and a relay asked for XDP says so once and uses nftables.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${IPT_BPF_OUT:-build/bpf}
CLANG=${BPF_CLANG:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$CLANG" ] || ! "$CLANG" -print-targets 2>/dev/null | grep -qw bpf; then
  echo "build-bpf: no clang with the BPF target (make deps installs it); XDP objects not built" >&2
  exit 0
fi
mkdir -p "$OUT"
# <asm/types.h> lives in the multiarch folder, which clang -target bpf does not search by itself.
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for src in bpf/*.bpf.c; do
  name=$(basename "$src" .bpf.c)
  "$CLANG" -O2 -g -Wall -Werror -target bpf -I "/usr/include/$MULTIARCH" -c "$src" -o "$OUT/$name.o.tmp"
  mv "$OUT/$name.o.tmp" "$OUT/$name.o"
done
