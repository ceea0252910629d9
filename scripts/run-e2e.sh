#!/usr/bin/env bash
# Runs every end-to-end test script under Tests/e2e/ (executable *.sh, in name order).
# Each script starts and stops what it uses; this runner only counts.
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
for t in Tests/e2e/*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  echo "=== e2e: $name"
  if timeout 600 bash "$t"; then
    passed=$((passed + 1)); echo "--- e2e: $name passed"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "--- e2e: $name FAILED"
  fi
done
[ ${#failures[@]} -eq 0 ] || echo "e2e failures: ${failures[*]}"
echo "e2e: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
