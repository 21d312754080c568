#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the lab VMs' initramfs.  It mounts the host's root filesystem
# (9p, read-only) as the lower layer of an overlay whose upper layer is a
# tmpfs, so each VM sees the host's tools and libraries but writes only to
# its own memory.  The lab's per-node directory (9p, read-write) is mounted
# at /lab; it carries the command mailbox and the kernel modules tree.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
	echo "archip-lab init: $*" >/dev/console
	echo o >/proc/sysrq-trigger
	poweroff -f
}

for m in $(cat /modules/order); do
	insmod "/modules/$m" || fail "insmod $m failed"
done

mkdir -p /lower /upper /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /lower ||
	fail "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 upper /upper || fail "tmpfs"
mkdir -p /upper/u /upper/w
mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot ||
	fail "cannot mount the overlay root"
mkdir -p /newroot/lab
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 lab /newroot/lab ||
	fail "cannot mount the lab directory over 9p"
for d in proc sys dev; do mount --move /$d /newroot/$d; done

agent=$(sed -n 's/.*archip.agent=\([^ ]*\).*/\1/p' /newroot/proc/cmdline)
[ -n "$agent" ] || fail "no archip.agent= on the kernel command line"
exec switch_root /newroot "$agent"
