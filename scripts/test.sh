#!/usr/bin/env bash
# The test command: static checks (format, lint, types), then every tap test.
# Ends with one line "N passed, N failed, N skipped" that counts the static
# checks and the tap assertions together. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0
check() {
  local name=$1; shift
  echo "== $name: $*"
  if "$@"; then passed=$((passed + 1)); else echo "!! $name failed"; failed=$((failed + 1)); fi
}
check format npx prettier --check --log-level warn .
check lint npx eslint .
check typecheck npx tsc -p tsconfig.json --noEmit

out=$(mktemp)
npx tap --reporter=tap "$@" | tee "$out"
tap_rc=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: ' "$out" | tail -n 1)
rm -f "$out"
num() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
if [ -z "$summary" ]; then
  echo "!! tap printed no summary (exit $tap_rc)"
  failed=$((failed + 1))
else
  passed=$((passed + $(num pass)))
  failed=$((failed + $(num fail)))
  skipped=$((skipped + $(num skip) + $(num todo)))
  if [ "$tap_rc" -ne 0 ] && [ "$(num fail)" -eq 0 ]; then
    echo "!! tap exited $tap_rc"
    failed=$((failed + 1))
  fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
