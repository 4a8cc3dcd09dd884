#!/bin/busybox sh
# Stage 1 of the podbgp test VM: /init inside the initramfs built by scripts/vm-prepare.sh.
# Mounts the host's root (9p, read-only) under a tmpfs overlay and switch_roots into it;
# it must not run test code itself (stage2.sh does). No RFC applies.

mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

fail() {
  echo "podbgp-vm: stage1: $*"
  echo "@@PODBGP-VM-FAIL@@"
  reboot -f
}

# The initramfs holds only what is needed to reach the host's root.
modprobe -a virtio_pci 9pnet_virtio 9p overlay || fail "modprobe failed"

mkdir -p /lower /upper /newroot
# The virtio device may bind a moment after the driver loads: retry briefly.
tries=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower; do
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || fail "cannot mount the host root over 9p"
  sleep 0.1
done

# Writes land in guest memory; the host's files are never modified.
mount -t tmpfs -o mode=0755 upper /upper || fail "tmpfs"
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
  fail "overlay mount failed"

# The job directory is the only writable share: the command, its output, its exit code.
mkdir -p /newroot/.vm/job /newroot/.vm/bin
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 job /newroot/.vm/job ||
  fail "cannot mount the job share"
cp /bin/busybox /newroot/.vm/bin/busybox
cp /stage2 /newroot/.vm/stage2

umount /proc /sys
mount --move /dev /newroot/dev || umount /dev

# switch_root (not chroot) so that the new root is the real root: the kernel's module
# auto-loading (request_module) then runs the modprobe that stage 2 installs there.
exec switch_root /newroot /.vm/bin/busybox sh /.vm/stage2
