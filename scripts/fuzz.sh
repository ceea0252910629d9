#!/usr/bin/env bash
# Runs the libFuzzer target for the SDP parser/rewriter (and the other core parsers) for N seconds.
#   scripts/fuzz.sh 5     # the short run inside `make test`
#   make fuzz FUZZ_SECONDS=600
# The target is built with swiftc -sanitize=fuzzer,address from the core sources; new inputs found
# go to a scratch corpus that is not committed; the committed seeds stay in Fuzz/corpus/sdp.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
out=build/fuzz
mkdir -p "$out" "$out/corpus"
bin="$out/sdp-fuzz"
core=Sources/IPTRTPProxyCore
sources=($core/Net/*.swift $core/SDP/*.swift $core/Config/*.swift $core/Session/*.swift $core/Plane/*.swift $core/Functions/*.swift $core/ICE/*.swift Fuzz/SDPParserFuzz.swift)
if [ ! -x "$bin" ] || [ -n "$(find "${sources[@]}" -newer "$bin" 2>/dev/null)" ]; then
  echo "fuzz: building $bin"
  # ld.gold warns once per ASan helper symbol; keep that noise in a log.
  if ! swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name IPTRTPProxyFuzz \
      "${sources[@]}" -o "$bin" >"$out/build.log" 2>&1; then
    grep -E "error" "$out/build.log" | head -20
    exit 1
  fi
fi
echo "fuzz: running for ${seconds}s"
log="$out/last-run.log"
if "$bin" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$out/corpus" Fuzz/corpus/sdp >"$log" 2>&1; then
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz: ${runs} inputs, no crash"
else
  tail -40 "$log"
  echo "fuzz: CRASH (input saved beside $out; full log $log)"

  exit 1
fi
