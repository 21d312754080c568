#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's main job ('make demo'): boot the lab (2 storage nodes on a
# shared SAN + 1 hypervisor node), show the OCFS2 cluster working with
# archip's mount options, start the object servers, create a volume, map
# it on the hypervisor, put a filesystem on it, run a short benchmark, and
# tear everything down again.
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
on h1 "modprobe archip_blk && $CTL map demo --server 10.99.0.11,10.99.0.12"
on h1 "$CTL list"

step "ext4 on /dev/archip/demo, files written and read back"
on h1 "mkfs.ext4 -q /dev/archip/demo && mkdir -p /mnt/demo && mount /dev/archip/demo /mnt/demo &&
	cp -r $REPO/drivers /mnt/demo/ && head -c 32M /dev/urandom >/mnt/demo/blob && sync && df -h /mnt/demo"
on h1 "$CTL volume info demo --server 10.99.0.12 | grep -E 'objects|size'"

step "a short benchmark on the volume (fio, direct I/O; emulated VMs: small absolute numbers)"
# Written fully first: unwritten extents would read as zeros for free.
on h1 "dd if=/dev/urandom of=/mnt/demo/fio bs=1M count=64 oflag=direct status=none && for rw in randwrite randread; do for qd in 1 16; do
	fio --name=d --filename=/mnt/demo/fio --size=64M --fallocate=none --rw=\$rw --bs=4k --iodepth=\$qd \
		--ioengine=libaio --direct=1 --time_based --runtime=5 --output-format=terse --terse-version=3 |
	awk -F';' -v rw=\$rw -v qd=\$qd '{ o = rw == \"randread\" ? 0 : 41; printf \"%-9s 4k qd=%-2s %6.0f IOPS\\n\", rw, qd, \$(8+o) }'
	done; done"
echo "(the full side-by-side matrix against NVMe/TCP and NBD: make bench-block)"

step "object server counters on s1"
on s1 "$CTL server status | head -4"

step "unmount, unmap"
on h1 "umount /mnt/demo && $CTL unmap demo"

step "kernel health on every node (panic_on_warn=1)"
"$LABCMD" check && echo "no WARN, BUG or oops on any node"

step "tearing the lab down"
for n in s1 s2; do "$LABCMD" run "$n" "$CTL server stop && umount $SAN"; done
"$LABCMD" down
trap - EXIT
echo "demo done"
