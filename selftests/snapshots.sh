#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Snapshots and clones (volume format v2, Documentation/snapshots.rst):
# every check compares the bytes a device reads (sha256) with a copy of
# what was written, kept on the hypervisor.
. "$(dirname "$0")/lib.sh"
use_lab
CTL="$B/archipctl"
SZ=32	# MiB per volume: 8 objects of 4 MiB

ktap_plan 24

up_lab 1 noopenlocks,nowritelocks

# Shell functions for h1: sum VOL [ro] maps VOL, prints the sha256 of all
# of it, unmaps; put VOL OFF_KIB LEN_KIB writes that much fresh random data
# at OFF into the device and into /tmp/VOL.img, the expected image.
H1FN='
sum() { local d; d=$('"$CTL"' map $1 --server '"$S1"' ${2:+--read-only}) || return 1
	dd if=$d bs=1M iflag=direct status=none | sha256sum | cut -c1-64
	'"$CTL"' unmap $d >/dev/null; }
put() { head -c $(($3 * 1024)) /dev/urandom >/tmp/chunk &&
	dd if=/tmp/chunk of=/dev/archip/$1 bs=4k seek=$(($2 / 4)) oflag=direct conv=notrunc status=none &&
	dd if=/tmp/chunk of=/tmp/$1.img bs=4k seek=$(($2 / 4)) conv=notrunc status=none; }
img() { sha256sum </tmp/$1.img | cut -c1-64; }
'
h1() { lab h1 "$H1FN $*"; }

check "a volume written on h1, snapshot: the snapshot reads bit-exact what was written" h1 "
	$CTL volume create v --size ${SZ}M --server $S1 >/dev/null &&
	head -c ${SZ}M /dev/zero >/tmp/v.img && $CTL map v --server $S1 >/dev/null &&
	put v 0 16384 && put v 28672 4 && $CTL unmap v &&
	$CTL volume snapshot v s --server $S2 && cp /tmp/v.img /tmp/s.img &&
	a=\$(sum s ro) && echo snapshot \$a image \$(img s) && test \$a = \$(img s) &&
	test \$a != \$(head -c ${SZ}M /dev/zero | sha256sum | cut -c1-64)"

check "the snapshot is immutable: read-write map and resize refused, naming the way out" h1 "
	out=\$($CTL map s --server $S1 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'read-only' || exit 1
	out=\$($CTL volume resize s --size 128M --server $S1 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'clone it'"

check "writes to the volume after the snapshot land in the volume and never in the snapshot" h1 "
	$CTL map v --server $S1 >/dev/null && put v 4096 8192 && put v 30720 4 && $CTL unmap v &&
	a=\$(sum v) && echo volume \$a image \$(img v) && test \$a = \$(img v) &&
	b=\$(sum s ro) && echo snapshot \$b image \$(img s) && test \$b = \$(img s)"

check "two clones of the snapshot: each reads the snapshot, writes to one change neither the other nor the snapshot" h1 "
	$CTL volume clone s c1 --server $S1 >/dev/null && $CTL volume clone s c2 --server $S2 >/dev/null &&
	cp /tmp/s.img /tmp/c1.img && cp /tmp/s.img /tmp/c2.img &&
	test \$(sum c2) = \$(img s) &&
	$CTL map c1 --server $S1 >/dev/null && put c1 0 4096 && put c1 8192 4 && put c1 22528 4 && $CTL unmap c1 &&
	a=\$(sum c1) && b=\$(sum c2) && c=\$(sum s ro) && echo c1 \$a c2 \$b s \$c &&
	test \$a = \$(img c1) && test \$b = \$(img s) && test \$c = \$(img s) && test \$a != \$c &&
	rm /tmp/c1.img /tmp/c2.img"

# A snapshot of a volume mapped read-write under a sequential writer
# (seqwrite.py: each 4 KiB block written O_DIRECT|O_DSYNC after the one
# before completed), made by the driver holding it: the snapshot holds a
# prefix of the writes, every one done before the command started and none
# started after it returned; the volume then holds all of them.
mapped_snapshot() {
	h1 "$CTL volume create m --size ${SZ}M --server $S1 >/dev/null && head -c ${SZ}M /dev/zero >/tmp/m.img &&
		$CTL map m --server $S1 >/dev/null && put m 0 $((SZ * 1024)) && cp /tmp/m.img /tmp/m.base &&
		rm -f /tmp/m.stop; ( python3 $SELFTESTS/seqwrite.py write /dev/archip/m 300 /tmp/m.log /tmp/m.stop \
		  >/tmp/m.out 2>&1; echo \$? >/tmp/m.rc ) >/dev/null 2>&1 &
		python3 $SELFTESTS/seqwrite.py wait /tmp/m.log 300 60 || exit 1
		t0=\$(date +%s.%N); $CTL volume snapshot m ms --server $S2 || exit 1; t1=\$(date +%s.%N)
		echo snapshot took \$(echo \"\$t1 - \$t0\" | bc) s
		python3 $SELFTESTS/seqwrite.py wait /tmp/m.log +100 60 || exit 1
		touch /tmp/m.stop
		for i in \$(seq 600); do test -e /tmp/m.rc && break; sleep 0.5; done
		test \"\$(cat /tmp/m.rc)\" = 0 || { cat /tmp/m.out; exit 1; }
		d=\$($CTL map ms --read-only --server $S1) || exit 1
		python3 $SELFTESTS/seqwrite.py check \$d 300 /tmp/m.log /tmp/m.base \$t0 \$t1; rc=\$?
		$CTL unmap \$d; test \$rc = 0 &&
		python3 $SELFTESTS/seqwrite.py check /dev/archip/m 300 /tmp/m.log /tmp/m.base 1e12 1e12 &&
		$CTL unmap m"
}
check_v "snapshot of a volume mapped read-write under a writer, from another node: crash-consistent" mapped_snapshot

alloc() { lab h1 "$CTL --json volume info $1 --server $S1" | sed -E 's/.*"allocated":([0-9]+).*/\1/'; }
clone_thin() {
	local a i
	lab h1 "for i in \$(seq 1 20); do $CTL volume clone s t\$i --server $S1 >/dev/null || exit 1; done" || return 1
	a=0
	for i in $(seq 1 20); do a=$((a + $(alloc t$i))) || return 1; done
	echo "20 clones of a ${SZ} MiB snapshot allocate $a bytes"
	[ "$a" -lt $((20 << 20)) ] &&
	lab h1 "$CTL --json volume info t7 --server $S2 | grep -q '\"objects_written\":0,'"
}
check_v "20 clones of a snapshot use less than 20 MiB before they are written" clone_thin

# A chain: clone, write one object, snapshot, clone that... 8 levels; the
# last clone reads every level's writes and the base under them.
chain() {
	h1 "cp /tmp/s.img /tmp/l0.img && p=s &&
		for i in 1 2 3 4 5 6 7 8; do
			$CTL volume clone \$p l\$i --server $S1 >/dev/null && cp /tmp/l\$((i - 1)).img /tmp/l\$i.img &&
			$CTL map l\$i --server $S1 >/dev/null && put l\$i \$(((i - 1) * 4096 + 512)) 8 && $CTL unmap l\$i &&
			$CTL volume snapshot l\$i ls\$i --server $S2 >/dev/null && p=ls\$i || exit 1
			test \$i = 5 || rm /tmp/l\$((i - 1)).img
		done
		a=\$(sum l8) && b=\$(sum ls4 ro) && echo l8 \$a ls4 \$b &&
		test \$a = \$(img l8) && test \$b = \$(img l4)"
}
check "reads through a chain of 8 clones and snapshots: every level's writes, bit-exact" chain

depth() {
	local out
	out=$(lab h1 "p=ls8; for i in \$(seq 1 20); do
			$CTL volume clone \$p d\$i --server $S1 >/dev/null 2>/tmp/err || { cat /tmp/err; echo clone refused at \$i; exit 0; }
			$CTL volume snapshot d\$i ds\$i --server $S1 >/dev/null 2>/tmp/err || { cat /tmp/err; echo snapshot refused at \$i
				d=\$($CTL map d\$i --server $S1) && $CTL unmap \$d && echo d\$i still maps; exit \$?; }
			p=ds\$i
		done; echo no limit; exit 1") || { echo "$out"; return 1; }
	echo "$out"
	grep -q "at most $((16 - 1))" <<<"$out"
}
check_v "past the chain limit a clone or snapshot is refused with the limit and the way out" depth

check "remove of a snapshot that clones read through is refused, naming them" h1 "
	out=\$($CTL volume remove s --server $S1 2>&1); rc=\$?; echo \"\$out\"
	test \$rc = 1 && echo \"\$out\" | grep -q 'c1, c2, ls1, t1, t10' && $CTL volume info s --server $S1 >/dev/null"

# A snapshot cut short (a storage node dying between its steps), made by
# hand: mark SRC's header SNAPSHOT|INCOMPLETE and store it as DST's.
# After step 1 the snapshot's header has the volume's set (SRC = the
# volume); after step 2 the volume reads through it (SRC = DST).
H1FN+='
mark() { '"$B"'/archip-obj -s '"$S1"' get v.$1 0 4096 >/tmp/h && python3 -c "
import struct, sys
h = bytearray(open(\"/tmp/h\", \"rb\").read())
struct.pack_into(\"<I\", h, 20, struct.unpack_from(\"<I\", h, 20)[0] | 3)
h[48:112] = sys.argv[1].encode().ljust(64, b\"\\0\")
sys.stdout.buffer.write(h)" $2 >/tmp/h2 && '"$B"'/archip-obj -s '"$S1"' -l vol.$2 put v.$2 0 --fua </tmp/h2; }
'
incomplete() {
	h1 "mark v cut &&
		$CTL volume list --server $S1 | grep -q '^cut .*snapshot (incomplete)' &&
		out=\$($CTL map cut --read-only --server $S1 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'cut short' || exit 1
		cp /tmp/v.img /tmp/cut.img && $CTL volume snapshot v cut --server $S2 | grep -q 'finished snapshot cut' &&
		a=\$(sum cut ro) && echo cut \$a && test \$a = \$(img cut) &&
		$CTL map v --server $S1 >/dev/null && put v 0 4 && $CTL unmap v && test \$(sum cut ro) = \$(img cut)"
}
check "a snapshot a crash cut short: listed incomplete, not mappable, finished by running it again" incomplete

cut_states() {
	h1 "$CTL volume snapshot v cut2 --server $S1 >/dev/null && cp /tmp/v.img /tmp/cut2.img && mark cut2 cut2 &&
		a=\$(sum v) && echo 'v, reading through an unfinished cut2:' \$a && test \$a = \$(img v) &&
		$CTL volume snapshot v cut2 --server $S2 | grep -q 'finished snapshot cut2' &&
		test \$(sum cut2 ro) = \$(img cut2) &&
		mark v cut3 && $CTL volume remove cut3 --server $S1 | tee /dev/stderr | grep -q 'unfinished' &&
		b=\$(sum v) && echo 'v after removing cut3:' \$b && test \$b = \$(img v)"
}
check "cut short after its second step: the volume maps and a second run finishes it; removing a first-step leftover keeps the volume's data" cut_states

check "flatten: the clone reads the same without its parents" h1 "
	$CTL volume flatten l8 --server $S1 && a=\$(sum l8) && echo l8 \$a && test \$a = \$(img l8) &&
	$CTL --json volume info l8 --server $S2 | grep -q '\"parent\":\"\"' &&
	$CTL --json volume info l8 --server $S2 | grep -q '\"objects_written\":8,'"

check "rollback: the volume reads its snapshot again; a snapshot it does not read through is refused" h1 "
	out=\$($CTL volume rollback v ls3 --server $S1 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'not a snapshot' || exit 1
	$CTL volume rollback v s --server $S2 && a=\$(sum v) && echo v \$a && test \$a = \$(img s)"

# ------------------------------------------------------------ the edges
# The case as found: ext4's fallocate -z and BLKZEROOUT send write-zeroes
# (and blkdiscard discards) that span two objects; both objects' part
# must read zeros, on a plain volume and on a clone, the parent unchanged.
edge_case() {
	# The images of the checks above are not needed any more (/tmp is RAM).
	h1 "rm -f /tmp/*.img /tmp/*.base /tmp/chunk && $CTL volume create e --size 16M --server $S1 >/dev/null && head -c 16M /dev/zero >/tmp/e.img &&
		$CTL map e --server $S1 >/dev/null && put e 0 12288 && $CTL unmap e &&
		$CTL volume snapshot e es --server $S1 >/dev/null && cp /tmp/e.img /tmp/es.img &&
		$CTL volume clone es ec --server $S1 >/dev/null && cp /tmp/e.img /tmp/ec.img &&
		for v in e ec; do
			$CTL map \$v --server $S1 >/dev/null &&
			blkdiscard -z -o \$((3 << 20)) -l \$((2 << 20)) /dev/archip/\$v &&
			blkdiscard -o \$((7 << 20)) -l \$((2 << 20)) /dev/archip/\$v &&
			dd if=/dev/zero of=/tmp/\$v.img bs=1M seek=3 count=2 conv=notrunc status=none &&
			dd if=/dev/zero of=/tmp/\$v.img bs=1M seek=7 count=2 conv=notrunc status=none &&
			$CTL unmap \$v || exit 1
			a=\$(sum \$v) && echo \$v \$a image \$(img \$v) && test \$a = \$(img \$v) || exit 1
		done &&
		b=\$(sum es ro) && echo es \$b && test \$b = \$(img es) && rm /tmp/e.img /tmp/es.img /tmp/ec.img"
}
check_v "blkdiscard -z [3M,5M) and blkdiscard [7M,9M) across objects: zeros in both, on a volume and a clone; the parent unchanged" edge_case

check_v "discard and write-zeroes at every alignment across object boundaries (64 KiB objects), volume and clone, against a model" \
	lab h1 "python3 $SELFTESTS/blkmodel.py --sweep --ctl $CTL --server $S1 --object-size 65536 --size 327680 --name ed"

# A map entry whose object is missing (the map update is durable before
# the data write; a crash between them leaves one): it reads as zeros, and
# after a snapshot the first write's copy-up must take it as zeros too,
# not fail every write to it from then on.
missing_obj() {
	h1 "$CTL volume create mo --size 16M --server $S1 >/dev/null && head -c 16M /dev/zero >/tmp/mo.img &&
		$CTL map mo --server $S1 >/dev/null && put mo 0 8192 && $CTL unmap mo &&
		set=\$($CTL --json volume info mo --server $S1 | sed -E 's/.*\"object_set\":\"([^\"]*)\".*/\\1/') &&
		$B/archip-obj -s $S1 -l vol.mo rm d.\$set.0000000000000000 &&
		dd if=/dev/zero of=/tmp/mo.img bs=4M count=1 conv=notrunc status=none &&
		test \$(sum mo) = \$(img mo) && echo 'object 0 gone, its entry kept: reads zeros' &&
		$CTL volume snapshot mo mos --server $S1 >/dev/null && cp /tmp/mo.img /tmp/mos.img &&
		$CTL volume clone mos moc --server $S1 >/dev/null && cp /tmp/mo.img /tmp/moc.img &&
		for v in mo moc; do
			$CTL map \$v --server $S1 >/dev/null && put \$v 8 4 && put \$v 100 4 && put \$v 4096 4 &&
			$CTL unmap \$v || exit 1
			a=\$(sum \$v) && echo \$v after writes to the missing object: \$a && test \$a = \$(img \$v) || exit 1
		done &&
		test \$(sum mos ro) = \$(img mos) && rm /tmp/mo.img /tmp/mos.img /tmp/moc.img"
}
check_v "a map entry whose object is missing: reads zeros; after snapshot and clone, writes to it work and read back" missing_obj

# The holder's answer to a snapshot request (DONE) cannot be written: the
# server of its control connection fails those writes twice.  The request
# stays pending; the holder must answer it again, never make a second
# snapshot from the header it has switched (that made the snapshot its
# own parent).  Its answer is the only one that is retried.  Before it,
# a second requester is refused while the first holds the request's lock.
lost_answer() {
	local p=/sys/module/archip_srv/parameters
	h1 "$CTL volume create la --size 16M --server $S1 >/dev/null && head -c 16M /dev/zero >/tmp/la.img &&
		$CTL map la --server $S1 >/dev/null && put la 0 8192" || return 1
	# One requester at a time: while another holds the request's lock
	# (vol.la.snap), a second snapshot command is refused, naming why.
	h1 "$B/archip-obj -s $S1 lock vol.la.snap 60 >/tmp/la.lock 2>&1 & lp=\$!
		for i in \$(seq 100); do grep -q acquired /tmp/la.lock && break; sleep 0.1; done
		grep -q acquired /tmp/la.lock || { cat /tmp/la.lock; kill \$lp; exit 1; }
		$CTL volume snapshot la lax --server $S2 2>/tmp/la.err; rc=\$?; kill \$lp; cat /tmp/la.err
		test \$rc != 0 && grep -q \"another snapshot of volume 'la'\" /tmp/la.err &&
		! $CTL volume list --server $S1 | grep -qE '^lax '" || return 1
	lab s1 "echo s.la >$p/fault_fail_match && echo 2 >$p/fault_fail_count" || return 1
	h1 "$CTL volume snapshot la las --server $S2 --timeout 60 && cp /tmp/la.img /tmp/las.img &&
		put la 4096 4 && $CTL unmap la" || return 1
	lab s1 "echo failed writes left: \$(cat $p/fault_fail_count); dmesg | grep -c 'failing WRITE s.la' |
		xargs echo answers failed:; test \$(cat $p/fault_fail_count) = 0" || return 1
	h1 "$CTL volume list --server $S1 | grep -E '^las ' &&
		test \$($CTL volume list --server $S1 | grep -cE '^las ') = 1 &&
		$CTL --json volume info las --server $S1 | grep -q '\"parent\":\"\"' &&
		$CTL --json volume info la --server $S1 | grep -q '\"parent\":\"las\"' &&
		a=\$(sum la) && b=\$(sum las ro) && echo la \$a las \$b && test \$a = \$(img la) && test \$b = \$(img las) &&
		rm /tmp/la.img /tmp/las.img"
}
check_v "a second snapshot requester refused; the holder's answer to a snapshot request fails twice: one snapshot, answered again, the volume maps" lost_answer

# Memory pressure: ext4 on the device, a writer in a cgroup of 48 MiB
# (reclaim writes back through the device), snapshots of it in a loop
# (each freezes the device): nothing hangs, every file reads back.
mem_pressure() {
	h1 "$CTL volume create mp --size 256M --server $S1 >/dev/null && $CTL map mp --server $S1 >/dev/null &&
		mkfs.ext4 -q /dev/archip/mp && mkdir -p /mnt/mp && mount /dev/archip/mp /mnt/mp &&
		head -c 64M /dev/urandom >/tmp/mp.src && sha256sum </tmp/mp.src >/tmp/mp.sum &&
		mkdir -p /sys/fs/cgroup && { mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup; } &&
		echo +memory >/sys/fs/cgroup/cgroup.subtree_control; mkdir -p /sys/fs/cgroup/mp &&
		echo 48M >/sys/fs/cgroup/mp/memory.max &&
		( echo \$BASHPID >/sys/fs/cgroup/mp/cgroup.procs
		  for i in 1 2 3; do cp /tmp/mp.src /mnt/mp/f\$i && sync -f /mnt/mp/f\$i || exit 1; done ) & w=\$!
		for i in 1 2 3 4 5; do
			timeout 120 $CTL volume snapshot mp mps\$i --server $S2 --timeout 100 >/dev/null || { echo snapshot \$i failed; exit 1; }
		done
		t=0; while kill -0 \$w 2>/dev/null; do sleep 1; t=\$((t + 1)); test \$t -lt 300 || { echo writer hung; exit 1; }; done
		wait \$w || { echo writer failed; exit 1; }
		echo 5 snapshots under the writer, memory.max 48M: peak \$(cat /sys/fs/cgroup/mp/memory.peak 2>/dev/null || echo ?) \
			events \$(grep -E '^(high|max|oom) ' /sys/fs/cgroup/mp/memory.events | tr '\n' ' ')
		echo 3 >/proc/sys/vm/drop_caches
		for i in 1 2 3; do test \"\$(sha256sum </mnt/mp/f\$i)\" = \"\$(cat /tmp/mp.sum)\" || { echo f\$i differs; exit 1; }; done
		umount /mnt/mp && $CTL unmap mp && rmdir /sys/fs/cgroup/mp && echo files bit-exact"
}
check_v "ext4 on a device under a 48 MiB cgroup writer, 5 snapshots meanwhile: no hang, files bit-exact" mem_pressure

# The model test: a seeded random sequence of I/O and volume operations
# against an in-memory model of every volume and snapshot.
# ARCHIP_BLKMODEL_SEED and ARCHIP_BLKMODEL_OPS repeat or lengthen a run.
check_v "model test: ${ARCHIP_BLKMODEL_OPS:-600} random writes, reads, discards, write-zeroes, flushes, snapshots, clones, flattens, rollbacks, remaps match the model" \
	lab h1 "python3 $SELFTESTS/blkmodel.py --ctl $CTL --server $S1,$S2 --ctl-server $S2 \
		--ops ${ARCHIP_BLKMODEL_OPS:-600} ${ARCHIP_BLKMODEL_SEED:+--seed $ARCHIP_BLKMODEL_SEED} --shrink 240"

# A storage node killed during a snapshot of a mapped, busy volume: s1,
# where the driver's control connection is, holds the snapshot's first
# header write (fault_delay_ms) and is killed with it pending.  The
# driver's control call moves to s2; the snapshot ends whole (then
# crash-consistent) or not made (then a second run makes it), and the
# writer on the volume loses nothing.
snap_kill() {
	local p=/sys/module/archip_srv/parameters
	h1 "$CTL volume create k --size ${SZ}M --server $S1 >/dev/null && head -c ${SZ}M /dev/zero >/tmp/k.img &&
		$CTL map k --server $S1,$S2 --io-timeout 10 >/dev/null && put k 0 $((SZ * 1024)) && cp /tmp/k.img /tmp/k.base &&
		rm -f /tmp/k.stop; ( python3 $SELFTESTS/seqwrite.py write /dev/archip/k 300 /tmp/k.log /tmp/k.stop \
		  >/tmp/k.out 2>&1; echo \$? >/tmp/k.rc ) >/dev/null 2>&1 &
		python3 $SELFTESTS/seqwrite.py wait /tmp/k.log 300 60" ||
		return 1
	lab s1 "echo v.k >$p/fault_delay_match && echo 120000 >$p/fault_delay_ms" || return 1
	h1 "( t0=\$(date +%s.%N); $CTL volume snapshot k ks --server $S2 --timeout 300 >/tmp/ks.out 2>&1
	      echo \$? >/tmp/ks.rc; echo \$t0 \$(date +%s.%N) >/tmp/ks.t ) >/dev/null 2>&1 &" || return 1
	wait_until 60 lab s1 "dmesg | grep -q 'delaying WRITE v.ks'" ||
		{ echo "the snapshot's header write never reached s1"; return 1; }
	"$LABCMD" kill s1
	echo "s1 killed with the snapshot's first header write pending"
	wait_until 400 lab h1 "test -e /tmp/ks.rc" || { echo "the snapshot did not end in 400 s"; return 1; }
	# The writer goes on for 100 writes more, then stops: the snapshot
	# lands mid-run whatever the lab's speed.
	h1 "python3 $SELFTESTS/seqwrite.py wait /tmp/k.log +100 120 && touch /tmp/k.stop" || return 1
	wait_until 120 lab h1 "test -e /tmp/k.rc" || { echo "the writer did not end in 120 s"; return 1; }
	h1 "cat /tmp/ks.out; read t0 t1 </tmp/ks.t; echo snapshot exit \$(cat /tmp/ks.rc) after \$(echo \"\$t1 - \$t0\" | bc) s
		test \$(cat /tmp/k.rc) = 0 || { cat /tmp/k.out; exit 1; }
		if [ \$(cat /tmp/ks.rc) != 0 ]; then
			$CTL volume list --server $S2 | grep '^ks ' ; $CTL volume snapshot k ks --server $S2 || exit 1
			t1=\$(date +%s.%N); echo a second run made it
		fi
		$CTL volume list --server $S2 | grep '^ks .* snapshot\$' || exit 1
		d=\$($CTL map ks --read-only --server $S2) || exit 1
		python3 $SELFTESTS/seqwrite.py check \$d 300 /tmp/k.log /tmp/k.base \$t0 \$t1; rc=\$?
		$CTL unmap \$d; test \$rc = 0 &&
		python3 $SELFTESTS/seqwrite.py check /dev/archip/k 300 /tmp/k.log /tmp/k.base 1e12 1e12 &&
		$CTL unmap k" || return 1
	"$LABCMD" start s1 >/dev/null &&
		lab s1 "modprobe archip_srv && $CTL server start --root $STORE >/dev/null"
}
check_v "storage node killed during a snapshot of a busy mapped volume: the snapshot whole or remade, no write lost" snap_kill

check "fsck.ocfs2 -fn finds the filesystem clean" fsck_clean

check "no WARN, BUG, oops, lockdep/KASAN report or hung task on any node" "$LABCMD" check

ktap_finish
