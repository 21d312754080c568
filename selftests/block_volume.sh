#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Volumes as /dev/archipN (archip_blk) on two hypervisors, over the object
# servers of two storage nodes sharing the OCFS2 SAN.
. "$(dirname "$0")/lib.sh"
use_lab
CTL="$B/archipctl"

ktap_plan "$([ -n "${ARCHIP_CORE:-}" ] && echo 14 || echo 27)"

up_lab 2 noopenlocks,nowritelocks

check "volume create, list --json and info" lab h1 "
	$CTL volume create vol1 --size 1G --server $S1 &&
	$CTL --json volume list --server $S2 | grep -q '\"name\":\"vol1\",\"size\":1073741824' &&
	$CTL volume info vol1 --server $S2 | grep -q 'objects *256'"

check "map on h1 prints /dev/archipN, names /dev/archip/vol1, shows sysfs" lab h1 "
	dev=\$($CTL map vol1 --server $S1) && echo \$dev && test -b \$dev &&
	test \$(readlink -f /dev/archip/vol1) = \$dev && d=\${dev#/dev/} &&
	grep -qx vol1 /sys/block/\$d/archip/volume && grep -qx live /sys/block/\$d/archip/state &&
	grep -qx 4194304 /sys/block/\$d/archip/object_size && grep -qx $S1:7890 /sys/block/\$d/archip/server"

# The checksums travel from h1 to h2 through the host: /lab in a VM is
# its node directory's share/.
cross_hypervisor() {
	lab h1 "mkfs.ext4 -q /dev/archip/vol1 && mkdir -p /mnt/v && mount /dev/archip/vol1 /mnt/v &&
		head -c 30M /dev/urandom >/mnt/v/big && cp -r $REPO/drivers $REPO/tools /mnt/v/ &&
		cd /mnt/v && find . -type f ! -path ./lost+found | sort | xargs sha256sum >/lab/vol1.sums &&
		cd / && umount /mnt/v && $CTL unmap vol1" || return 1
	cp "$ARCHIP_LAB/nodes/h1/share/vol1.sums" "$ARCHIP_LAB/nodes/h2/share/vol1.sums" || return 1
	lab h2 "mkdir -p /mnt/v && $CTL map vol1 --server $S2 && mount /dev/archip/vol1 /mnt/v &&
		cd /mnt/v && sha256sum -c --quiet /lab/vol1.sums && echo \$(wc -l </lab/vol1.sums) files match"
}
check "mkfs.ext4 and files on h1 (via s1), then on h2 via s2: every file bit-exact" cross_hypervisor

# The read-only map on h1 must read what h2, the writer, reads: 32 MiB of
# ext4 data compared by sha256 (and not all zeros).
ro_map() {
	lab h1 "out=\$($CTL map vol1 --server $S1 2>&1); rc=\$?; echo \"\$out\"
		test \$rc != 0 && echo \"\$out\" | grep -q 'mapped elsewhere' || exit 1
		dev=\$($CTL map vol1 --read-only --server $S1) && test \$(blockdev --getro \$dev) = 1 &&
		dd if=\$dev bs=1M skip=8 count=32 iflag=direct status=none | sha256sum >/lab/ro.sum &&
		$CTL unmap \$dev" || return 1
	cp "$ARCHIP_LAB/nodes/h1/share/ro.sum" "$ARCHIP_LAB/nodes/h2/share/ro.sum" || return 1
	lab h2 "dd if=/dev/archip/vol1 bs=1M skip=8 count=32 iflag=direct status=none | sha256sum |
		cmp - /lab/ro.sum && test \"\$(cat /lab/ro.sum)\" != \"\$(head -c 32M /dev/zero | sha256sum)\" &&
		echo read-only map on h1 reads what h2 reads"
}
check "a volume mapped on h2 cannot be mapped on h1 (clear error); --read-only can, same data" ro_map

check "unmap of a mounted device and remove of a mapped volume are refused" lab h2 "
	out=\$($CTL unmap vol1 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'device is open' || exit 1
	out=\$($CTL volume remove vol1 --server $S1 2>&1); echo \"\$out\"; echo \"\$out\" | grep -q 'unmap it there first' || exit 1
	umount /mnt/v && $CTL unmap vol1 && $CTL volume remove vol1 --server $S1 &&
	! $CTL volume info vol1 --server $S2 2>/dev/null"

check "fio verify: randwrite 4k, direct, libaio, iodepth 16, crc32c, 32 MiB" lab h1 "
	$CTL volume create fv --size 512M --server $S1 && $CTL map fv --server $S1,$S2 --queues 2 >/dev/null &&
	fio --name=v --filename=/dev/archip/fv --rw=randwrite --bs=4k --direct=1 --ioengine=libaio \
		--iodepth=16 --size=256M --io_size=32M --verify=crc32c --verify_fatal=1 \
		--output-format=terse --terse-version=3 >/tmp/f1 && awk -F';' '{ print \"errors \" \$5 }' /tmp/f1 &&
	test \"\$(cut -d';' -f5 /tmp/f1)\" = 0"

check "fio verify: odd sizes (512 B-300 KiB) across object boundaries" lab h1 "
	fio --name=o --filename=/dev/archip/fv --rw=randwrite --bsrange=512-300k --blockalign=512 \
		--direct=1 --ioengine=libaio --iodepth=8 --offset=3M --size=11M --verify=crc32c \
		--verify_fatal=1 --output-format=terse --terse-version=3 >/tmp/f2 &&
	test \"\$(cut -d';' -f5 /tmp/f2)\" = 0 &&
	fio --name=b --filename=/dev/archip/fv --rw=write --bs=12k --offset=4190208 --size=16k \
		--direct=1 --verify=md5 --output-format=terse --terse-version=3 >/tmp/f3 &&
	test \"\$(cut -d';' -f5 /tmp/f3)\" = 0"

check "reads of never-written objects: zeros, and no request reaches a server" bash -c "
	$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
	reads() { lab \$1 \"$CTL --json server status\" | sed -E 's/.*\\\"read\\\":\\{\\\"count\\\":([0-9]+).*/\\1/'; }
	a1=\$(reads s1); a2=\$(reads s2)
	lab h1 'd=\$(basename \$(readlink -f /dev/archip/fv)); z0=\$(grep zero_reads /sys/block/\$d/archip/counters | cut -d\" \" -f2)
		test \"\$(dd if=/dev/archip/fv bs=1M skip=400 count=64 iflag=direct status=none | tr -d \"\\\\0\" | wc -c)\" = 0 || exit 1
		z1=\$(grep zero_reads /sys/block/\$d/archip/counters | cut -d\" \" -f2); echo zero_reads \$z0 -\\> \$z1; test \$((z1 - z0)) -ge 16' || exit 1
	b1=\$(reads s1); b2=\$(reads s2); echo server reads s1 \$a1 -\\> \$b1, s2 \$a2 -\\> \$b2
	test \$a1 = \$b1 && test \$a2 = \$b2"

# What the volume occupies on the SAN, as OCFS2 reports it for each of its
# objects (df is useless here: each node reserves a local-alloc window).
alloc() { lab s1 "$CTL --json volume info thin --server $S1" | sed -E 's/.*"allocated":([0-9]+).*/\1/'; }
thin() {
	local u1 u2 u3
	lab h2 "$CTL volume create thin --size 10G --server $S2 && $CTL map thin --server $S2 >/dev/null" || return 1
	u1=$(alloc) || return 1
	lab h2 "dd if=/dev/urandom of=/dev/archip/thin bs=1M count=64 seek=100 oflag=direct status=none && sync" || return 1
	u2=$(alloc) || return 1
	lab h2 "blkdiscard /dev/archip/thin && sync" || return 1
	u3=$(alloc) || return 1
	echo "allocated: 10 GiB volume mapped $u1, after 64 MiB written $u2, after discard $u3"
	[ "$u1" -lt $((1 << 20)) ] && [ "$u2" -ge $((64 << 20)) ] && [ "$u3" -lt $((1 << 20)) ]
}
check "a fresh 10 GiB volume uses almost no SAN space; discard frees what was written" thin

check "storage server restarted mid-verify: the run completes with zero errors" bash -c "
	$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
	lab h1 '(fio --name=r --filename=/dev/archip/fv --rw=randwrite --bs=16k --direct=1 --ioengine=libaio \
		--iodepth=16 --size=128M --io_size=64M --verify=crc32c --verify_fatal=1 \
		--output-format=terse --terse-version=3 >/tmp/f4 2>&1; echo \$? >/tmp/f4.rc) >/dev/null 2>&1 &
		sleep 6' || exit 1
	lab s1 '$CTL server stop && sleep 3 && $CTL server start --root $STORE' || exit 1
	lab h1 'while [ ! -e /tmp/f4.rc ]; do sleep 1; done; d=\$(basename \$(readlink -f /dev/archip/fv))
		echo fio exit \$(cat /tmp/f4.rc), errors \$(cut -d\";\" -f5 /tmp/f4); cat /sys/block/\$d/archip/counters
		test \$(cat /tmp/f4.rc) = 0 && test \"\$(cut -d\";\" -f5 /tmp/f4)\" = 0 &&
		test \$(grep reconnects /sys/block/\$d/archip/counters | cut -d\" \" -f2) -ge 1'"

# ARCHIP_CORE=1 (run.sh's pass on 6.12): what the kernels can differ in,
# above (blk-mq, sockets, OCFS2, reconnects); the protocol and CLI checks
# below run the same code on either and are left to the 6.1 pass.
if [ -z "${ARCHIP_CORE:-}" ]; then

# Strangers (Documentation/security.rst) against the objects of fv, mapped
# on h1: no key, a key of their own, the real key's id with a made-up
# proof, a replayed handshake; every op pipelined behind the hello.  Then
# a client with the key but no lock (fencing for everyone): every change
# to the volume's objects refused (ENOLCK, ESTALE), the volume's lock and
# its files not taken.  The volume's objects (header, map, lock, data)
# read the same after (sha256), and the server logged the refusals.
strangers() {
	lab h2 "python3 $SELFTESTS/authcheck.py $S1 7890 fv" || return 1
	lab s1 "dmesg | grep -q 'refused: wrong proof: not the key.s holder, or a replay'"
}
check_v "strangers try every op on a mapped volume's objects, and a keyed client without a lock every change: all refused, sha256 unchanged" strangers

# A rotation without downtime (Documentation/security.rst, "Rotating
# the key"): servers accept both keys, the hypervisor loads the new one,
# the servers drop the old one, which ends h1's connections: they come
# back on the new key while fio verifies.
rotate() {
	local k2 ended=0 n id
	k2=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
	for n in s1 s2 h1 h2; do
		lab $n "(umask 077; echo $k2 >/etc/archip/next.key)" || return 1
	done
	# fio under way (writes counted by the device) before the first step.
	lab h1 "c=/sys/block/\$(basename \$(readlink -f /dev/archip/fv))/archip/counters
		w0=\$(awk '/^writes/ { print \$2 }' \$c); cp \$c /tmp/f5.c0
		(fio --name=k --filename=/dev/archip/fv --rw=randwrite --bs=16k --direct=1 --ioengine=libaio \
		--iodepth=16 --size=128M --io_size=128M --verify=crc32c --verify_fatal=1 \
		--output-format=terse --terse-version=3 >/tmp/f5 2>&1; echo \$? >/tmp/f5.rc) >/dev/null 2>&1 &
		for i in \$(seq 300); do
			[ \$(awk '/^writes/ { print \$2 }' \$c) -gt \$((w0 + 100)) ] && exit 0; sleep 0.1
		done; echo 'fio wrote nothing in 30 s'; exit 1" || return 1
	for n in s1 s2; do
		lab $n "$CTL server keys --accept /etc/archip/archip.key --accept /etc/archip/next.key" || return 1
	done
	lab h1 "cp /etc/archip/next.key /etc/archip/archip.key && $CTL key load" || return 1
	for n in s1 s2; do
		out=$(lab $n "$CTL --json server keys --accept /etc/archip/next.key &&
			cp /etc/archip/next.key /etc/archip/archip.key") || return 1
		echo "$n: $out"
		ended=$((ended + $(sed -E 's/.*"ended":([0-9]+).*/\1/' <<<"$out")))
	done
	lab h1 "test ! -e /tmp/f5.rc" ||
		{ echo "fio ended before the old key went:"; lab h1 "cat /tmp/f5.rc /tmp/f5"; return 1; }
	lab h2 "cp /etc/archip/next.key /etc/archip/archip.key" || return 1
	id=$(lab h1 "$CTL key id") || return 1
	lab h1 "for i in \$(seq 300); do [ -e /tmp/f5.rc ] && break; sleep 1; done
		c=/sys/block/\$(basename \$(readlink -f /dev/archip/fv))/archip/counters
		r0=\$(awk '/^reconnects/ { print \$2 }' /tmp/f5.c0); r1=\$(awk '/^reconnects/ { print \$2 }' \$c)
		echo fio exit \$(cat /tmp/f5.rc), errors \$(cut -d\";\" -f5 /tmp/f5), reconnects \$((r1 - r0))
		test \$(cat /tmp/f5.rc) = 0 && test \"\$(cut -d\";\" -f5 /tmp/f5)\" = 0 &&
		test \$r1 -gt \$r0 && $CTL --json list | grep -q '\"key_id\":\"$id\"'" || return 1
	echo "old-key connections ended: $ended; new key $id"
	[ "$ended" -ge 1 ] || return 1
	for n in s1 s2; do
		lab $n "$CTL --json server status" | grep -o '"key_id":[^,}]*' | sort | uniq -c |
			sed "s/^/$n: /"
		lab $n "! $CTL --json server status | grep -o '\"key_id\":[^,}]*' | grep -v '$id'" ||
			{ echo "$n: a connection on another key"; return 1; }
	done
}
check_v "key rotated under fio verify: no I/O error, every connection moves to the new key" rotate

# Wire corruption (Documentation/protocol.rst, "Digests"), in the object
# tools first: a bit flipped in a WRITE payload as the server receives it
# and in a READ reply as it leaves.  Without digests (archip-obj -n) the
# wrong bytes are stored and returned unnoticed: the knobs do corrupt.
# With them (the default) the server refuses the WRITE, nothing is
# stored, and the client refuses the reply.
wire_tools() {
	local p=/sys/module/archip_srv/parameters
	knob() { lab s1 "echo wire. >$p/fault_flip_match && echo $1 >$p/fault_flip_rx && echo $2 >$p/fault_flip_tx"; }
	local c0
	c0=$(lab s1 "dmesg | grep -c 'fault injection: flipping a bit'")
	lab h1 "head -c 65536 /dev/urandom >/tmp/w && $B/archip-obj -s $S1 put wire.c 0 </tmp/w" || return 1
	knob 1 0 && lab h1 "$B/archip-obj -s $S1 -n put wire.a 0 </tmp/w &&
		test \"\$($B/archip-obj -s $S1 get wire.a 0 65536 | sha256sum)\" != \"\$(sha256sum </tmp/w)\" &&
		echo 'no digests: the flipped WRITE was stored'" || return 1
	knob 1 0 && lab h1 "! $B/archip-obj -s $S1 put wire.b 0 </tmp/w 2>/tmp/we; cat /tmp/we
		grep -q 'connection lost' /tmp/we && $B/archip-obj -s $S1 stat wire.b | grep -q exists=0 &&
		echo 'digests: the flipped WRITE was refused, nothing stored'" || return 1
	knob 0 1 && lab h1 "test \"\$($B/archip-obj -s $S1 -n get wire.c 0 65536 | sha256sum)\" != \"\$(sha256sum </tmp/w)\" &&
		echo 'no digests: the flipped READ reply was taken'" || return 1
	knob 0 1 && lab h1 "! $B/archip-obj -s $S1 get wire.c 0 65536 >/dev/null 2>/tmp/we; cat /tmp/we
		grep -q 'reply data digest mismatch' /tmp/we &&
		test \"\$($B/archip-obj -s $S1 get wire.c 0 65536 | sha256sum)\" = \"\$(sha256sum </tmp/w)\" &&
		echo 'digests: the flipped READ reply was refused; read again, it is right'" || return 1
	lab s1 "test \$(cat $p/fault_flip_rx) = 0 && test \$(cat $p/fault_flip_tx) = 0 &&
		test \$(dmesg | grep -c 'fault injection: flipping a bit') = $((c0 + 4)) && echo >$p/fault_flip_match &&
		for n in a b c; do $B/archip-obj -s $S1 rm wire.\$n || exit 1; done"
}
check_v "a bit flipped on the wire each way: stored and returned without digests, refused with them" wire_tools

# The block driver under fio verify: both servers flip bits in the WRITE
# payloads to fv's objects as they arrive and in the READ replies as they
# leave.  Each flipped WRITE is caught by the server (its connection
# closed, the WRITE not executed); a flipped reply by the driver (refused,
# the connection dropped), unless it was behind one already refused on
# the same connection (the next flips hit the next replies, which then go
# unread with it).  The queue reconnects and resends; fio verifies every
# byte, so no flipped byte got through.
digest_errors() { sed -E 's/.*"digest_errors":([0-9]+).*/\1/'; }
wire_fio() {
	local p=/sys/module/archip_srv/parameters set n rx=0 tx=0 d0 d1 srv0=0 srv1=0 e rec
	set=$(lab h1 "$CTL --json volume info fv --server $S1" |
		sed -E 's/.*"object_set":"([^"]*)".*/\1/') || return 1
	for n in s1 s2; do
		e=$(lab $n "$CTL --json server status" | digest_errors) || return 1
		srv0=$((srv0 + e))
		rx=$((rx - $(lab $n "dmesg | grep -c 'flipping a bit of the WRITE'")))
		tx=$((tx - $(lab $n "dmesg | grep -c 'flipping a bit of the READ'")))
		lab $n "echo d.$set. >$p/fault_flip_match && echo 3 >$p/fault_flip_rx &&
			echo 3 >$p/fault_flip_tx" || return 1
	done
	lab h1 "$CTL --json list | grep -q '\"digest\":true'" || { echo "fv has no digests"; return 1; }
	d0=$(lab h1 "$CTL --json list" | digest_errors) || return 1
	lab h1 "c=/sys/block/\$(basename \$(readlink -f /dev/archip/fv))/archip/counters
		r0=\$(awk '/^reconnects/ { print \$2 }' \$c)
		fio --name=w --filename=/dev/archip/fv --rw=randwrite --bs=16k --direct=1 --ioengine=libaio \
			--iodepth=16 --size=64M --io_size=32M --verify=crc32c --verify_fatal=1 \
			--output-format=terse --terse-version=3 >/tmp/f6 2>&1; rc=\$?
		r1=\$(awk '/^reconnects/ { print \$2 }' \$c); echo \$((r1 - r0)) >/tmp/f6.rec
		echo fio exit \$rc, errors \$(cut -d';' -f5 /tmp/f6), reconnects \$((r1 - r0))
		test \$rc = 0 && test \"\$(cut -d';' -f5 /tmp/f6)\" = 0" || { lab h1 "tail -5 /tmp/f6"; return 1; }
	d1=$(lab h1 "$CTL --json list" | digest_errors) || return 1
	for n in s1 s2; do
		rx=$((rx + $(lab $n "dmesg | grep -c 'flipping a bit of the WRITE'")))
		tx=$((tx + $(lab $n "dmesg | grep -c 'flipping a bit of the READ'")))
		e=$(lab $n "$CTL --json server status" | digest_errors) || return 1
		srv1=$((srv1 + e))
		lab $n "echo 0 >$p/fault_flip_rx; echo 0 >$p/fault_flip_tx; echo >$p/fault_flip_match" || return 1
	done
	rec=$(lab h1 "cat /tmp/f6.rec") || return 1
	echo "flipped: $rx WRITE payloads, $tx READ replies; caught: $((srv1 - srv0)) by the servers," \
		"$((d1 - d0)) by the driver; reconnects $rec"
	[ "$rx" -ge 1 ] && [ "$tx" -ge 1 ] && [ $((srv1 - srv0)) = "$rx" ] &&
		[ $((d1 - d0)) -ge 1 ] && [ $((d1 - d0)) -le "$tx" ] && [ "$rec" -ge $((rx + d1 - d0)) ]
}
check_v "bits flipped on the wire under fio verify: caught by the server or the driver, resent, fio verifies every byte" wire_fio

# A direct READ whose two iovecs are one buffer (as a guest's scratch page
# in a scatter list): each 4 KiB block lands in the same page in turn.
# The digest must be taken of what landed for each place, not of what the
# page holds at the end (that looped: a digest error, a resend, again).
one_page_twice() {
	local d0 d1
	d0=$(lab h1 "$CTL --json list" | digest_errors) || return 1
	lab h1 "python3 - /dev/archip/fv <<'EOF'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_DIRECT)
a, b = mmap.mmap(-1, 4096), mmap.mmap(-1, 4096)
a.write(os.urandom(4096)); b.write(os.urandom(4096))
off = 5 << 20
os.pwritev(fd, [a, b], off)
m = mmap.mmap(-1, 4096)
n = os.preadv(fd, [m, m], off)
ok = n == 8192 and m[:] == b[:]
print('read', n, 'bytes into one page twice:', 'it holds the second block' if ok else 'WRONG')
sys.exit(0 if ok else 1)
EOF" || return 1
	d1=$(lab h1 "$CTL --json list" | digest_errors) || return 1
	echo "digest errors before $d0, after $d1"
	[ "$d0" = "$d1" ]
}
check_v "a direct READ that lands twice in one page: completes without a digest error, the page holds the second block" one_page_twice

check "map a missing volume: exit 3, no such volume" expect_err h1 3 "no such volume" \
	"$CTL map nosuch --server $S1"
check "map through a wrong server: cannot connect" expect_err h1 1 "cannot connect" \
	"$CTL map thin --server $S1:7999"
# What a server answers is checked before it is used: a hello with limits
# no request could meet, a reply shorter than its answer must be.
check "a server answering impossible limits, replies short of their size, or without the key (an impostor) is refused with the reason" lab h2 "
	(python3 $SELFTESTS/fakesrv.py 7901 limits & python3 $SELFTESTS/fakesrv.py 7902 short &
	 python3 $SELFTESTS/fakesrv.py 7903 impostor &) >/tmp/fake 2>&1
	for i in \$(seq 50); do test \$(grep -c listening /tmp/fake) = 3 && break; sleep 0.2; done
	out=\$($CTL map fake --server 127.0.0.1:7903 2>&1); rc=\$?; echo \"\$out\"
	test \$rc != 0 && echo \"\$out\" | grep -q 'failed to prove the cluster key' || exit 1
	out=\$($B/archip-obj -s 127.0.0.1:7903 stat x 2>&1); rc=\$?; echo \"\$out\"
	test \$rc != 0 && echo \"\$out\" | grep -q 'failed to prove the cluster key' || exit 1
	out=\$($CTL map fake --server 127.0.0.1:7901 2>&1); rc=\$?; echo \"\$out\"
	test \$rc != 0 && echo \"\$out\" | grep -q 'impossible limits' || exit 1
	out=\$($CTL map fake --server 127.0.0.1:7902 2>&1); rc=\$?; echo \"\$out\"
	test \$rc != 0 && echo \"\$out\" | grep -q 'malformed reply' || exit 1
	dmesg | grep -q 'malformed reply to op 9 (status 0, 4 bytes, 8 expected)' &&
	! $CTL --json list | grep -q fake; r=\$?; pkill -f fakesrv.py; exit \$r"
check "sizes that overflow or are invalid: exit 2, clear message" bash -c "
	$(declare -f lab expect_err); LABCMD=$(printf %q "$LABCMD")
	expect_err h1 2 'too large' '$CTL volume create x --size 99999999999999999999 --server $S1' &&
	expect_err h1 2 'too large' '$CTL volume create x --size 17000000T --server $S1' &&
	expect_err h1 2 'at most 1P' '$CTL volume create x --size 2P --server $S1' &&
	expect_err h1 2 'multiple of 512' '$CTL volume create x --size 1000 --server $S1' &&
	expect_err h1 2 'bad volume name' '$CTL volume create a/b --size 1G --server $S1'"
check "out-of-range options name the option and its range, exit 2, before anything runs" bash -c "
	$(declare -f lab expect_err); LABCMD=$(printf %q "$LABCMD")
	expect_err h1 2 '--queues: Value 1000 not in range 1 to 16' '$CTL map nosuch --queues 1000' &&
	expect_err h1 2 '--queue-depth: Value 0 not in range 1 to 1024' '$CTL map nosuch --queue-depth 0' &&
	expect_err h1 2 '--loss-timeout: Value 0 not in range 1 to 3600' '$CTL map nosuch --loss-timeout 0' &&
	expect_err s1 2 '--lease: Value 1 not in range 3 to 3600' '$CTL server start --root /nonexistent --lease 1'"
# Hostile local users: raw netlink, no archipctl in between.  The
# families answer every command of an unprivileged caller with EPERM, and
# a malformed attribute with EINVAL/ERANGE and a message.
check_v "netlink: every archip_srv and archip_blk command refused to an unprivileged user; malformed attributes refused with a message" lab h1 "
	modprobe archip_srv || exit 1
	python3 $SELFTESTS/nlcheck.py attrs && su nobody -s /bin/sh -c 'python3 $SELFTESTS/nlcheck.py perm'
	r=\$?; rmmod archip_srv; exit \$r"
check "shrinking needs --force; growing works while unmapped" bash -c "
	$(declare -f lab expect_err); LABCMD=$(printf %q "$LABCMD")
	lab h1 '$CTL volume create g --size 1G --server $S1' &&
	expect_err h1 1 'add --force' '$CTL volume resize g --size 512M --server $S1' &&
	lab h1 '$CTL volume resize g --size 3G --server $S1 && $CTL volume info g --server $S2 | grep -q \"objects *768\"'"

# A host as an operator runs it: udev (systemd-udevd, with the packaged
# 60-archip.rules) names each device /dev/archip/NAME and
# /dev/disk/by-id/archip-NAME, archipctl then only waits for it; a
# read-write map keeps the name over a read-only one of the same volume;
# archipmap maps a maptab's volumes (as archip-map.service does at boot)
# and unmaps them.  udev stops at the end: the lab's nodes run without it.
udev_names() {
	lab h1 "set -e
	trap 'udevadm control --exit 2>/dev/null; rm -rf /run/udev /etc/udev/rules.d/60-archip.rules' EXIT
	bad() { echo \"\$*\"; exit 1; }
	# name VOL: where /dev/archip/VOL leads ('' if nowhere)
	name() { readlink -e /dev/archip/\$1 || true; }
	install -D -m 644 $REPO/tools/systemd/60-archip.rules /etc/udev/rules.d/60-archip.rules
	/lib/systemd/systemd-udevd --daemon
	udevadm trigger --action=add --subsystem-match=block
	udevadm settle -t 60
	$CTL volume create u1 --size 64M --server $S1
	$CTL volume create u2 --size 64M --server $S2
	printf '# volume servers options\\nu1 $S1,$S2\\nu2 $S2 --queues 2\\n' >/tmp/maptab
	export ARCHIPCTL=$CTL ARCHIP_MAPTAB=/tmp/maptab
	$REPO/tools/systemd/archipmap map
	for v in u1 u2; do
		d=\$(name \$v)
		test -b \"\$d\" || bad \"/dev/archip/\$v: no device\"
		grep -qx \$v /sys/block/\${d#/dev/}/archip/volume || bad \"\$d is not \$v\"
		test \"\$(readlink -e /dev/disk/by-id/archip-\$v)\" = \"\$d\" || bad \"no by-id link for \$v\"
		echo \"/dev/archip/\$v and by-id -> \$d\"
	done
	head -c 8M /dev/urandom >/tmp/u1.data
	dd if=/tmp/u1.data of=/dev/archip/u1 bs=1M oflag=direct status=none
	rw=\$(name u1)
	ro=\$($CTL map u1 --read-only --server $S2)
	udevadm settle -t 60
	test \"\$(name u1)\" = \"\$rw\" || bad \"read-only map \$ro took /dev/archip/u1 from \$rw\"
	echo \"read-only map \$ro: /dev/archip/u1 stays \$rw\"
	dd if=\$ro bs=1M count=8 iflag=direct status=none | cmp - /tmp/u1.data
	$CTL unmap \$rw
	udevadm settle -t 60
	test \"\$(name u1)\" = \"\$ro\" || bad \"after unmap of \$rw, /dev/archip/u1 -> '\$(name u1)', not \$ro\"
	echo \"\$rw unmapped: /dev/archip/u1 -> \$ro\"
	dd if=/dev/archip/u1 bs=1M count=8 iflag=direct status=none | cmp - /tmp/u1.data
	$CTL unmap \$ro
	$REPO/tools/systemd/archipmap unmap
	udevadm settle -t 60
	for l in /dev/archip/u1 /dev/archip/u2 /dev/disk/by-id/archip-u1 /dev/disk/by-id/archip-u2; do
		test ! -e \$l || bad \"\$l is left\"
	done
	if $CTL --json list | grep -q '\"u[12]\"'; then bad 'still mapped after archipmap unmap'; fi
	echo 'archipmap unmap: names gone, nothing mapped'
	$CTL volume remove u1 --server $S1
	$CTL volume remove u2 --server $S1"
}
check_v "udev names /dev/archip/NAME and by-id (read-write over read-only), archipmap maps a maptab and unmaps it; data through the names" udev_names

fi
check "everything unmaps and archip_blk unloads cleanly on both hypervisors" bash -c "
	$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
	for n in h1 h2; do lab \$n 'for d in \$($CTL --json list | grep -o \"/dev/archip[0-9]*\"); do $CTL unmap \$d || exit 1; done
		rmmod archip_blk && ! lsmod | grep -q archip_blk' || exit 1; done"

check "no WARN, BUG, oops or panic on any node (panic_on_warn=1)" "$LABCMD" check

ktap_finish
