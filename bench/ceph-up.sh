#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The krbd baseline's cluster, on a lab storage node (bench/block.sh runs
# it there by its path):  ceph-up.sh IP BLOCKFILE
#
# Debian's Ceph (16.2): one monitor and one OSD (BlueStore) whose block
# device is BLOCKFILE, a file on the node's OCFS2 mount, as the nvme and
# nbd targets export files on it; a pool "rbd" with one replica.  No
# manager: it is not in the data path (only `ceph -s` statistics need it)
# and its Python modules would take CPU from the one vCPU every server of
# the benchmark shares.  Authentication is off (cephx's per-message
# signatures would cost krbd what archip's digests cost it; the messenger's
# crc32c of header and data stays on, the digests' counterpart).  Daemon
# state lives in the node's RAM (/run/ceph-bench), lost with the lab.
# Also writes the client's /etc/ceph/ceph.conf; run "ceph-up.sh client IP"
# on a hypervisor for that alone.  "ceph-up.sh map IMAGE" maps an image
# with krbd and prints its device: the lab's VMs run no udev, for which
# `rbd device map` would wait forever.
set -euo pipefail
conf() {	# IP
	mkdir -p /etc/ceph
	cat >/etc/ceph/ceph.conf <<EOT
[global]
mon host = $1
auth cluster required = none
auth service required = none
auth client required = none
EOT
}
if [ "$1" = map ]; then
	rbd device map -o noudev "$2" >/dev/null
	for d in /sys/bus/rbd/devices/*; do
		[ "$(cat "$d/name")" = "$2" ] && echo "/dev/rbd${d##*/}" && exit 0
	done
	echo "ceph-up.sh: $2 mapped, but no /sys/bus/rbd device names it" >&2
	exit 1
fi
if [ "$1" = client ]; then
	conf "$2"
	exit
fi
ip=$1 block=$2 D=/run/ceph-bench
rm -rf $D && mkdir -p $D/mon $D/osd
conf "$ip"
cat >>/etc/ceph/ceph.conf <<EOT
fsid = $(cat /proc/sys/kernel/random/uuid)
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
run dir = $D
log file = $D/\$name.log
pid file = $D/\$name.pid
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
mon osd report timeout = 86400
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd
bluestore block path = $block
EOT
fsid=$(sed -n 's/^fsid = //p' /etc/ceph/ceph.conf)
monmaptool --create --add a "$ip" --fsid "$fsid" $D/monmap >/dev/null
ceph-mon --mkfs -i a --monmap $D/monmap
ceph-mon -i a
ceph osd create >/dev/null
rm -f "$block" && truncate -s 2G "$block"
ceph-osd -i 0 --mkfs --osd-uuid "$(cat /proc/sys/kernel/random/uuid)" 2>$D/mkfs.log
ceph-osd -i 0 2>>$D/mkfs.log
for _ in $(seq 300); do
	ceph osd stat 2>/dev/null | grep -q "1 up" && break
	sleep 1
done
ceph osd stat | grep -q "1 up" || { echo "ceph-up.sh: osd.0 not up after 300 s" >&2; exit 1; }
ceph osd pool create rbd 32 32 >/dev/null
ceph osd pool application enable rbd rbd >/dev/null
