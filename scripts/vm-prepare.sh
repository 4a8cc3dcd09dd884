#!/usr/bin/env bash
# Prepares the Debian kernel and initramfs that test/vm/harness.ts boots under QEMU, cached in
# .cache/vm/<kernel version>/ (or $PODBGP_VM_CACHE). It must not install packages or touch files
# outside the cache. Prints VM_KVER, VM_KERNEL, VM_INITRD and VM_MODULES as KEY=VALUE lines.
#
# The kernel is the package that Debian's generic linux-image-amd64 depends on (it has ipip,
# veth, dummy, 9p and overlay as modules), fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`, so its own dependency chain is never installed. The package ships no
# modules.dep and the host may have no kmod, so busybox (busybox-static) runs depmod.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${PODBGP_VM_CACHE:-$repo/.cache/vm}
guest=$repo/test/vm/guest

die() {
  echo "vm-prepare: $*" >&2
  exit 1
}

for c in apt-get apt-cache dpkg-deb busybox sha256sum flock ldd; do
  command -v "$c" >/dev/null 2>&1 || die "missing command '$c'"
done
bb=$(command -v busybox)
# The initramfs has no libc: busybox must be the static build.
if ldd "$bb" >/dev/null 2>&1; then die "$bb is dynamically linked: install busybox-static"; fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # parallel test files share one cache

resolve_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
pkg=$(resolve_pkg || true)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  pkg=$(resolve_pkg || true)
fi
if [ -n "$pkg" ]; then
  kver=${pkg#linux-image-}
else
  # Offline and no package lists: reuse the newest kernel already cached, if any.
  kver=$(find "$cache" -mindepth 2 -maxdepth 2 -name .kernel-ready -printf '%h\n' 2>/dev/null |
    xargs -r -n1 basename | sort -V | tail -n 1)
  [ -n "$kver" ] || die "cannot resolve linux-image-amd64's kernel package (run apt-get update)"
fi

# Under emulation the guest needs ~2.5 s to decompress bzImage; QEMU boots the uncompressed
# ELF directly (PVH entry, CONFIG_PVH=y in Debian's kernels). Pull the xz payload out of it.
extract_vmlinux() {
  local off
  command -v xz >/dev/null 2>&1 || return 1
  for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | cut -d: -f1); do
    tail -c +$((off + 1)) "$1" | xz -dc >"$2.tmp" 2>/dev/null || true
    if [ "$(head -c 4 "$2.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
      mv "$2.tmp" "$2"
      return 0
    fi
  done
  rm -f "$2.tmp"
  return 1
}

dir=$cache/$kver
modules=$dir/root/lib/modules/$kver
if [ ! -f "$dir/.kernel-ready" ]; then
  echo "vm-prepare: fetching $pkg" >&2
  rm -rf "$dir"
  mkdir -p "$dir/dl"
  (cd "$dir/dl" && apt-get download "$pkg") >"$dir/dl.log" 2>&1 ||
    die "apt-get download $pkg failed: $(tail -n 5 "$dir/dl.log")"
  dpkg-deb -x "$dir"/dl/*.deb "$dir/root"
  rm -rf "$dir/dl" "$dir/dl.log"
  [ -f "$dir/root/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $pkg"
  busybox depmod -b "$dir/root" "$kver"
  extract_vmlinux "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinux" || rm -f "$dir/vmlinux"
  touch "$dir/.kernel-ready"
  # A new kernel version replaces the old one: keep the cache to one kernel (~500 MB).
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$kver" -exec rm -rf {} +
fi

# The initramfs is keyed by what goes into it, so editing the guest scripts rebuilds it.
hash=$(cat "$guest/init.sh" "$guest/stage2.sh" "$bb" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
initrd=$dir/initramfs-$hash.cpio
if [ ! -f "$initrd" ]; then
  echo "vm-prepare: building $initrd" >&2
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,dev,proc,sys,lib/modules/"$kver"}
  cp "$bb" "$stage/bin/busybox"
  for a in sh mount umount mkdir cp sleep modprobe switch_root reboot; do
    ln -s busybox "$stage/bin/$a"
  done
  # Only what stage 1 needs to reach the host's root; everything else loads from the full
  # module tree after switch_root. modules.dep lists each module's dependencies.
  for m in virtio_pci 9pnet_virtio 9p overlay; do
    line=$(grep -E "(^|/)$m\.ko:" "$modules/modules.dep") || die "module $m not in $kver"
    for f in ${line/:/}; do
      mkdir -p "$stage/lib/modules/$kver/$(dirname "$f")"
      cp "$modules/$f" "$stage/lib/modules/$kver/$f"
    done
  done
  busybox depmod -b "$stage" "$kver"
  install -m 0755 "$guest/init.sh" "$stage/init"
  install -m 0644 "$guest/stage2.sh" "$stage/stage2"
  (cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null) >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  find "$dir" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "initramfs-$hash.cpio" -delete
fi

echo "VM_KVER=$kver"
if [ -f "$dir/vmlinux" ]; then echo "VM_KERNEL=$dir/vmlinux"; else echo "VM_KERNEL=$dir/root/boot/vmlinuz-$kver"; fi
echo "VM_INITRD=$initrd"
echo "VM_MODULES=$modules"
