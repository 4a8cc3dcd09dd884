#!/usr/bin/env bash
# The README's test command: install everything on a fresh Debian machine, then
# run every test. Run as root: the interop and kernel tests use namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec bash scripts/test.sh "$@"
