#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's main job ('make demo'): boot the lab (2 storage nodes on a
# shared SAN + 1 hypervisor node), show the OCFS2 cluster working with
# archip's mount options, start the object servers, create a volume, map
# it on the hypervisor, put a filesystem on it, snapshot it while it is
# mounted and busy, map a clone of the snapshot and check it, import an
# image twice (the second stores nothing), run a short benchmark, kill a
# storage node under fio verify, and tear everything down again.  Each
# step prints what it measured.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LABCMD=$REPO/tools/lab/archip-lab
export ARCHIP_LAB=${ARCHIP_LAB:-$REPO/.cache/lab-demo}
SAN=/mnt/san
OPTS=noopenlocks,nowritelocks

step() { printf '\n== %s\n' "$*"; }
on() { local n=$1; shift; echo "[$n]\$ $*"; "$LABCMD" run "$n" "$*"; }

trap '"$LABCMD" down >/dev/null 2>&1 || true' EXIT

step "booting 2 storage nodes and 1 hypervisor node (QEMU, emulated; about a minute)"
t0=$(date +%s)
"$LABCMD" up -s 2 -H 1 -o "$OPTS"
echo "lab up in $(( $(date +%s) - t0 )) s"
"$LABCMD" nodes

step "the o2cb cluster: both storage nodes are in the OCFS2 DLM domain"
on s1 "grep -h 'Domain Map' /sys/kernel/debug/o2dlm/*/dlm_state"
on s2 "grep ' $SAN ' /proc/mounts"

step "a file written on s1 reads back bit-exact on s2 (direct I/O through the SAN)"
on s1 "head -c 8M /dev/urandom >$SAN/demo.bin && sync && sha256sum $SAN/demo.bin"
on s2 "dd if=$SAN/demo.bin bs=1M iflag=direct status=none | sha256sum"

step "no open lock and no cluster rw lock on that file on s2 (debugfs locking_state)"
on s2 ". $REPO/selftests/vm-lib.sh; locks_of $SAN/demo.bin |
	awk '{ t = \$1 == \"M\" ? \"meta\" : \$1 == \"O\" ? \"open\" : \$1 == \"W\" ? \"rw  \" : \$1;
	       printf \"  %s lock: %s\n\", t, \$2 < 0 ? \"not held\" : \"held at level \" \$2 }'"

step "the hypervisor node reaches both storage nodes on the private network"
on h1 "ping -c1 -W5 10.99.0.11 >/dev/null && ping -c1 -W5 10.99.0.12 >/dev/null && echo h1: both storage nodes reachable"

CTL=$REPO/build/tools/archipctl
step "object servers on both storage nodes"
for n in s1 s2; do on $n "modprobe archip_srv && mkdir -p $SAN/store && $CTL server start --root $SAN/store"; done

step "a 4 GiB thin volume, mapped on the hypervisor through both servers"
on h1 "$CTL volume create demo --size 4G --server 10.99.0.11"
on h1 "modprobe archip_blk && $CTL map demo --server 10.99.0.11,10.99.0.12 --io-timeout 10"
on h1 "$CTL list"

step "ext4 on /dev/archip/demo, files written and read back"
on h1 "mkfs.ext4 -q /dev/archip/demo && mkdir -p /mnt/demo && mount /dev/archip/demo /mnt/demo &&
	cp -r $REPO/drivers /mnt/demo/ && head -c 32M /dev/urandom >/mnt/demo/blob && sync && df -h /mnt/demo"
on h1 "$CTL volume info demo --server 10.99.0.12 | grep -E 'objects|size'"

step "a snapshot of the volume while it is mounted and a writer is busy on it"
on h1 "(while :; do dd if=/dev/urandom of=/mnt/demo/busy bs=64k count=16 conv=fsync status=none || break; done) \
		>/dev/null 2>&1 </dev/null & w=\$!
	t0=\$(date +%s.%N)
	$CTL volume snapshot demo demo-snap --server 10.99.0.12 || exit 1
	echo \"snapshot made in \$(echo \"\$(date +%s.%N) - \$t0\" | bc) s, the writer running\"
	kill \$w; wait \$w 2>/dev/null; true"

step "a clone of the snapshot, mapped: its ext4 replays its journal (crash-consistent) and holds the files"
on h1 "$CTL volume clone demo-snap demo-clone --server 10.99.0.12 &&
	$CTL map demo-clone --server 10.99.0.12,10.99.0.11 >/dev/null && mkdir -p /mnt/clone &&
	mount /dev/archip/demo-clone /mnt/clone && diff -r $REPO/drivers /mnt/clone/drivers &&
	cmp /mnt/demo/blob /mnt/clone/blob && echo 'the clone holds the source tree and the 32 MiB blob, bit-exact' &&
	umount /mnt/clone && e2fsck -fn /dev/archip/demo-clone >/dev/null 2>&1 && echo 'e2fsck -fn: clean' &&
	$CTL unmap demo-clone"
on h1 "$CTL volume list --server 10.99.0.11"

step "an image imported twice: the second import stores nothing (objects named by their content)"
on h1 "head -c 40M /dev/urandom >/tmp/img && head -c 8M /dev/zero >>/tmp/img && head -c 16M /tmp/img >>/tmp/img &&
	for v in image-a image-b; do
		$CTL --json volume import /tmp/img \$v --server 10.99.0.11 | python3 -c 'import json, sys; v = json.load(sys.stdin)
print(\"%s: %d objects of 4 MiB: %d stored, %d already stored (deduplicated), %d all zeros (not stored), %.1f s\" %
      (v[\"name\"], v[\"objects\"], v[\"objects_stored\"], v[\"objects_deduplicated\"], v[\"objects_zero\"], v[\"seconds\"]))' || exit 1
	done"

step "a short benchmark on the volume (fio, direct I/O; emulated VMs: small absolute numbers)"
# Written fully first: unwritten extents would read as zeros for free.
on h1 "dd if=/dev/urandom of=/mnt/demo/fio bs=1M count=64 oflag=direct status=none && for rw in randwrite randread; do for qd in 1 16; do
	fio --name=d --filename=/mnt/demo/fio --size=64M --fallocate=none --rw=\$rw --bs=4k --iodepth=\$qd \
		--ioengine=libaio --direct=1 --time_based --runtime=5 --output-format=terse --terse-version=3 |
	awk -F';' -v rw=\$rw -v qd=\$qd '{ o = rw == \"randread\" ? 0 : 41; printf \"%-9s 4k qd=%-2s %6.0f IOPS\\n\", rw, qd, \$(8+o) }'
	done; done"
echo "(the full side-by-side matrix against NVMe/TCP and NBD: make bench-block)"

step "storage node s1 killed (its QEMU process) under fio verify on the volume: I/O moves to s2"
on h1 "rm -f /tmp/k.rc; (fio --name=k --filename=/mnt/demo/k --size=32M --rw=randwrite --bs=4k --iodepth=16 \
		--ioengine=libaio --direct=1 --verify=crc32c --verify_fatal=1 --output-format=terse --terse-version=3 \
		>/tmp/k 2>&1; echo \$? >/tmp/k.rc) >/dev/null 2>&1 &
	d=/sys/block/\$(basename \$(readlink -f /dev/archip/demo))/archip
	w0=\$(grep writes \$d/counters | cut -d' ' -f2)
	for i in \$(seq 240); do test \$(grep writes \$d/counters | cut -d' ' -f2) -ge \$((w0 + 1000)) && break; sleep 0.5; done
	test \$(grep writes \$d/counters | cut -d' ' -f2) -ge \$((w0 + 1000)) || { echo 'fio wrote too little in 120 s'; exit 1; }
	echo fio under way: \$(( \$(grep writes \$d/counters | cut -d' ' -f2) - w0 )) writes through \$(cat \$d/server)"
"$LABCMD" kill s1
t0=$(date +%s)
echo "s1 killed; waiting for the cluster to evict it (o2cb dead time 60 s) and the volume to reconnect to s2"
dev="/sys/block/\$(basename \$(readlink -f /dev/archip/demo))/archip"
back=0
for i in $(seq 180); do
	"$LABCMD" run h1 "grep -qx live $dev/state && test \$(grep reconnects $dev/counters | cut -d' ' -f2) -ge 1" &&
		{ back=1; break; }
	sleep 1
done
[ $back = 1 ] || { echo "demo: I/O did not come back within 180 s of the kill" >&2; exit 1; }
echo "I/O back after $(( $(date +%s) - t0 )) s, through $("$LABCMD" run h1 "cat $dev/server")"
on h1 "for i in \$(seq 300); do test -e /tmp/k.rc && break; sleep 1; done
	test -e /tmp/k.rc || { echo 'fio did not end within 300 s'; exit 1; }
	echo fio verify: exit \$(cat /tmp/k.rc), \$(cut -d';' -f5 /tmp/k | tail -1) errors, every block written before and after the kill read back and checked
	test \$(cat /tmp/k.rc) = 0 && test \"\$(cut -d';' -f5 /tmp/k | tail -1)\" = 0"

step "object server counters on s2"
on s2 "$CTL server status | head -4"

step "unmount, unmap"
on h1 "umount /mnt/demo && $CTL unmap demo"

step "kernel health on every node (panic_on_warn=1)"
"$LABCMD" check && echo "no WARN, BUG or oops on any node"

step "tearing the lab down"
"$LABCMD" run s2 "$CTL server stop && umount $SAN"
"$LABCMD" down
trap - EXIT
echo "demo done"
