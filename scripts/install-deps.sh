#!/usr/bin/env bash
# Installs everything podbgp's tests need on a fresh Debian machine:
# the peer daemons and tools (Debian packages) and the npm packages.
# Needs root for apt-get. Safe to run again: installed packages are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PKGS=(
  iproute2 iputils-ping procps psmisc tcpdump   # kernel interface, namespaces, captures
  bird2 frr gobgpd openbgpd exabgp              # interop peers
  qemu-system-x86 busybox-static                # the Debian-kernel VM for IPIP tests
)

missing=()
for p in "${DEBIAN_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The distribution packages start their daemons as services; the tests start
# their own copies inside namespaces, so stop the system ones if they run.
for svc in bird frr gobgpd openbgpd exabgp; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done

npm ci --no-audit --no-fund
