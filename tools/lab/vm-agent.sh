#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of a lab VM after switch_root.  Sets the node up (modules, network,
# configfs) and then serves the command mailbox in /lab/cmd: the host drops
# NAME.sh there; we run it and leave NAME.out and, last, NAME.rc.  Commands
# run concurrently, so a test may start a server and then talk to it.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C

param() { sed -n "s/.*archip\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }

NODE=$(param node)
IP=$(param ip)
hostname "$NODE"

# The node gets its own /tmp and /run.  A repository checked out under
# one of them (CI clones may live in /tmp) stays visible at its path.
REPO=$(param agent)
REPO=${REPO%/tools/lab/vm-agent.sh}
mkdir -p /.host
mount --bind / /.host
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
case $REPO in
/tmp/* | /run/*)
	mkdir -p "$REPO"
	mount --bind "/.host$REPO" "$REPO"
	;;
esac
mkdir -p /dev/pts /dev/shm
# The links every real host's /dev has (udev or systemd make them; a bare
# devtmpfs does not): bash's <(...) and dkms need /dev/fd.
ln -sfn /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
# The debug kernel: no automatic kmemleak scans (each reads all of the
# VM's memory).  A 2 GiB debug node sat ~90 % busy while idle, and the
# fuzzer's streams then stalled (2026-12-06); the scans are the likely
# cause.  'archip-lab check' scans, and reads, when asked.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan=off >/sys/kernel/debug/kmemleak
fi
# The modules tree the host prepared (seen through the host root): the
# Debian image's modules plus ours
# in updates/, with modules.dep made for exactly that set.
mount --bind "$(param modules)" /lib/modules
modprobe -a virtio_blk virtio_net configfs
mount -t configfs configfs /sys/kernel/config
echo 1 >/proc/sys/kernel/sysrq
# The longest stall archip promises (Documentation/block-driver.rst,
# "Failures": a silent server, I/O timeout 30 s + loss timeout 120 s, then
# EIO) plus a margin: any task blocked longer is a bug, and its report
# fails the test ('archip-lab check').  Looked for every 10 s.
echo 180 >/proc/sys/kernel/hung_task_timeout_secs
echo 10 >/proc/sys/kernel/hung_task_check_interval_secs

ip link set lo up
if [ -n "$IP" ]; then
	ip link set eth0 up
	ip addr add "$IP/24" dev eth0
fi

# The lab's cluster key, where archipctl looks for it by default.
if [ -f /lab/archip.key ]; then
	install -D -m 600 /lab/archip.key /etc/archip/archip.key
fi

mkdir -p /lab/cmd
echo "archip-lab: node $NODE up" >/dev/console
: >/lab/ready

# Poll the mailbox every 0.1 s without a fork: under TCG a fork and exec
# costs ~80 ms of the vCPU, and with 'sleep 0.1' here every idle node sat
# ~45 % busy (measured 2026-12-07), which on a 2-core host slowed every
# other node.  'read -t' on a FIFO nobody writes is bash's own timer.
mkfifo /run/archip-agent.tick
exec 9<>/run/archip-agent.tick
while :; do
	for f in /lab/cmd/*.sh; do
		[ -e "$f" ] || continue
		mv "$f" "$f.run" 2>/dev/null || continue
		(
			setsid bash "$f.run" </dev/null >"${f%.sh}.out" 2>&1
			echo $? >"${f%.sh}.rc.tmp"
			mv "${f%.sh}.rc.tmp" "${f%.sh}.rc"
		) &
	done
	read -r -t 0.1 -u 9 _ || :
done
