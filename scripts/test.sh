#!/usr/bin/env bash
# `make test` after deps and build: unit tests (swift test), end-to-end scripts, a short fuzz run.
# Every part runs even when an earlier one fails; the last line sums them up.
set -uo pipefail
cd "$(dirname "$0")/.."
log=build/test-logs
mkdir -p "$log"
passed=0; failed=0; broken=()

# Unit tests: Swift Testing prints "Test run with N tests ... passed" or "... N issues".
swift test 2>&1 | tee "$log/unit.log" | grep -E '^(✘|◇ Test run|✔ Test run|Test Suite .All tests.)|error:' | grep -v '^◇ Test run started'
unit_status=${PIPESTATUS[0]}
unit_total=$(grep -oE 'Test run with [0-9]+ tests' "$log/unit.log" | grep -oE '[0-9]+' | tail -1)
unit_failed=$(grep -c '^✘ Test ".*" failed' "$log/unit.log" || true)
unit_total=${unit_total:-0}
if [ "$unit_status" -ne 0 ] && [ "$unit_failed" -eq 0 ]; then unit_failed=1; fi
passed=$((passed + unit_total - unit_failed)); failed=$((failed + unit_failed))
[ "$unit_status" -eq 0 ] || broken+=("unit")

bash scripts/run-e2e.sh 2>&1 | tee "$log/e2e.log"
e2e_status=${PIPESTATUS[0]}
e2e=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$log/e2e.log" | tail -1)
passed=$((passed + $(echo "$e2e" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)))
failed=$((failed + $(echo "$e2e" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)))
[ "$e2e_status" -eq 0 ] || broken+=("e2e")

if bash scripts/fuzz.sh 5; then passed=$((passed + 1)); else failed=$((failed + 1)); broken+=("fuzz"); fi

[ ${#broken[@]} -eq 0 ] || echo "failing parts: ${broken[*]} (logs in $log)"
echo "test: ${passed} passed, ${failed} failed"
[ ${#broken[@]} -eq 0 ]
