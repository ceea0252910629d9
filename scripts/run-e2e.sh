#!/usr/bin/env bash
# Runs the end-to-end test scripts under Tests/e2e/ (every *.sh, in name order; or those whose
# names start with the given prefixes: scripts/run-e2e.sh 20 30 40-kamailio-call). Each script
# starts and stops what it uses and prints its verdict; this runner counts scripts (the last line,
# read by scripts/test.sh) and adds up the checks of the scripts that use the common harness
# (Tests/e2e/lib/harness.sh: "[NAME] P passed, F failed").
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failures=()
checks_passed=0; checks_failed=0
out=$(mktemp /tmp/ipt-run-e2e.XXXXXX)
trap 'rm -f "$out"' EXIT
for t in Tests/e2e/*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .sh)
  if [ $# -gt 0 ]; then
    wanted=0
    for prefix in "$@"; do [[ $name == "$prefix"* ]] && wanted=1; done
    [ "$wanted" = 1 ] || continue
  fi
  echo "=== e2e: $name"
  start=$SECONDS
  timeout 600 bash "$t" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  verdict=$(grep -E '^\[[^]]+\] [0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
  if [ -n "$verdict" ]; then
    read -r p f <<<"$(sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$verdict")"
    checks_passed=$((checks_passed + p)); checks_failed=$((checks_failed + f))
  fi
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); echo "--- e2e: $name passed ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failures+=("$name")
    [ "$rc" -eq 124 ] && echo "--- e2e: $name timed out after 600 s"
    echo "--- e2e: $name FAILED ($((SECONDS - start)) s)"
  fi
done
[ ${#failures[@]} -eq 0 ] || echo "e2e failures: ${failures[*]}"
echo "e2e checks (scripts on the common harness): ${checks_passed} passed, ${checks_failed} failed"
echo "e2e: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
