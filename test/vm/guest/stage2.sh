# Stage 2 of the podbgp test VM: PID 1 inside the host's root (read-only 9p + tmpfs overlay).
# Prepares /proc, /dev, /tmp, /run and the kernel's modules, runs the job, records its exit
# code and powers off. It must not write outside the overlay or the job share. No RFC applies.

B=/.vm/bin/busybox
J=/.vm/job

fail() {
  echo "podbgp-vm: stage2: $*"
  echo "@@PODBGP-VM-FAIL@@"
  $B sync
  $B reboot -f
}

$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B grep -q '^[^ ]* /dev ' /proc/mounts || $B mount -t devtmpfs devtmpfs /dev
$B mkdir -p /dev/pts /dev/shm
$B mount -t devpts devpts /dev/pts
$B mount -t tmpfs -o mode=1777 shm /dev/shm

# Busybox stands in for kmod (absent on the host) and, last on PATH, for a missing ping.
for a in modprobe depmod insmod rmmod lsmod modinfo ping; do $B ln -sf busybox /.vm/bin/$a; done

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/.vm/bin
# shellcheck source=/dev/null
. $J/config || fail "no job config"

# The unpacked Debian package's module tree (depmod'ed on the host) at the standard path.
kver=$($B uname -r)
$B mkdir -p /lib/modules/$kver
$B mount --bind "$VM_MODULES" /lib/modules/$kver || fail "cannot bind $VM_MODULES"
echo /.vm/bin/modprobe >/proc/sys/kernel/modprobe

# Fresh /tmp and /run: the host's are no business of the guest (its /run/netns would even
# clash with the guest's namespaces). Paths the job needs under them (a repository cloned
# in /tmp, say) are bound back from the host's view, kept aside first at /.vm/host.
$B mkdir -p /.vm/host
$B mount --bind / /.vm/host
$B mount -t tmpfs -o mode=1777 tmp /tmp
$B mount -t tmpfs -o mode=0755 run /run
$B mkdir -p /run/netns
old_ifs=$IFS
IFS=:
for p in $VM_KEEP_PATHS; do
  case "$p" in
  /tmp | /tmp/* | /run | /run/*)
    $B mkdir -p "$p"
    $B mount --bind "/.vm/host$p" "$p" || fail "cannot bind $p"
    ;;
  esac
done
IFS=$old_ifs
$B umount -l /.vm/host

$B hostname "${VM_HOSTNAME:-podbgp-vm}"
$B ip link set lo up

echo "@@PODBGP-VM-READY@@"
$VM_SHELL $J/run.sh >$J/stdout 2>$J/stderr </dev/null
rc=$?
echo "$rc" >$J/exit-code.tmp && $B mv $J/exit-code.tmp $J/exit-code
$B sync
echo "@@PODBGP-VM-DONE $rc@@"
$B reboot -f
