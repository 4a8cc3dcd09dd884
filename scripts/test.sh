#!/usr/bin/env bash
# The test command: static checks (format, lint, types), then every tap test — first the
# unit tests (in parallel), then the tests that start daemons, touch kernel tables or boot
# a VM (one file at a time, so their timers do not compete for the two cores).
# Ends with one line "N passed, N failed, N skipped" that counts the static checks and the
# tap assertions together. Exits non-zero if anything failed.
# Arguments, if given, replace the test file list (e.g. `bash scripts/test.sh test/protocol/*.test.ts`).
set -uo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob

passed=0 failed=0 skipped=0
check() {
  local name=$1
  shift
  echo "== $name: $*"
  if "$@"; then passed=$((passed + 1)); else
    echo "!! $name failed"
    failed=$((failed + 1))
  fi
}

# Runs tap over some files and adds its summary ("# { total: N, pass: N, fail: N, skip: N }").
tap_run() {
  local label=$1
  shift
  [ $# -gt 0 ] || return 0
  echo "== tap ($label): $# files"
  local out
  out=$(mktemp)
  npx tap --reporter=tap "$@" | tee "$out"
  local rc=${PIPESTATUS[0]}
  local summary
  summary=$(grep -E '^# \{ total: ' "$out" | tail -n 1)
  rm -f "$out"
  num() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
  if [ -z "$summary" ]; then
    echo "!! tap ($label) printed no summary (exit $rc)"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + $(num pass)))
  failed=$((failed + $(num fail)))
  skipped=$((skipped + $(num skip) + $(num todo)))
  if [ "$rc" -ne 0 ] && [ "$(num fail)" -eq 0 ]; then
    echo "!! tap ($label) exited $rc"
    failed=$((failed + 1))
  fi
}

check format npx prettier --check --log-level warn .
check lint npx eslint .
check typecheck npx tsc -p tsconfig.json --noEmit

if [ $# -gt 0 ]; then
  tap_run selected "$@"
else
  unit=() system=()
  for f in test/**/*.test.ts; do
    case "$f" in
      test/interop/* | test/netns/* | test/vm/*) system+=("$f") ;;
      *) unit+=("$f") ;;
    esac
  done
  tap_run unit "${unit[@]}"
  tap_run "interop, netns, vm" --jobs=1 "${system[@]}"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
