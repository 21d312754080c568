#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Faults as they happen, under load, each verified against the data:
# a storage node's QEMU killed or stopped, a hypervisor killed or cut off,
# late writes from a connection the client gave up, a server that serves
# smaller requests, discards of tiny objects, a forced unmap under a
# mounted filesystem.  Ends with fsck.ocfs2 and the consoles' check.
. "$(dirname "$0")/lib.sh"
use_lab
CTL="$B/archipctl"
LAB=$ARCHIP_LAB
# The servers' lease, and the cluster's dead time: o2hb declares a node
# dead (dead_threshold - 1) * 2 s after its last heartbeat
# (tools/lab/o2cb-setup.sh: 31).
LEASE=20
O2CB_DEAD=$(( (31 - 1) * 2 ))

ktap_plan 16

# fio_bg NODE TAG ARGS: run fio in the background on NODE; its exit status
# lands in /tmp/TAG.rc, terse output in /tmp/TAG.
fio_bg() {
	local n=$1 t=$2
	shift 2
	lab "$n" "rm -f /tmp/$t /tmp/$t.rc; (fio --name=$t $* --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --output-format=terse --terse-version=3 \
		>/tmp/$t 2>&1; echo \$? >/tmp/$t.rc) >/dev/null 2>&1 &"
}
# fio_ok NODE TAG SECS: wait for it; pass if it exited 0 with 0 errors.
fio_ok() {
	wait_until "$3" lab "$1" "test -e /tmp/$2.rc" || { echo "fio did not finish in $3 s"; return 1; }
	lab "$1" "echo fio exit \$(cat /tmp/$2.rc), errors \$(cut -d';' -f5 /tmp/$2 | tail -1);
		grep -m3 -E 'verify|err' /tmp/$2;
		test \$(cat /tmp/$2.rc) = 0 && test \"\$(cut -d';' -f5 /tmp/$2 | tail -1)\" = 0"
}
# sysf VOL: the sysfs directory of VOL's device, for a command on a node.
sysf() { echo "/sys/block/\$(basename \$(readlink -f /dev/archip/$1))/archip"; }
state() { lab "$1" "cat $(sysf "$2")/state"; }
servers_start() {
	local n
	for n in "$@"; do
		lab "$n" "lsmod | grep -q archip_srv || modprobe archip_srv; mkdir -p $STORE &&
			$CTL server start --root $STORE" || return 1
	done
}

if ! out=$("$LABCMD" up $LAB_REUSE -s 2 -H 2 -o noopenlocks,nowritelocks 2>&1) ||
   ! out=$(servers_start s1 s2 2>&1 && lab h1 "modprobe archip_blk" && lab h2 "modprobe archip_blk"); then
	ktap_fail "lab up: 2 storage nodes, 2 hypervisors, servers and archip_blk"
	ktap_diag <<<"$out"
	exit 1
fi
ktap_pass "lab up: 2 storage nodes, 2 hypervisors, servers and archip_blk"

# ------------------------------------------------ a storage node dies
# Two more loads on h2 for the same kill of s1.  (1) A copy-up: the first
# write to object 0 of a clone copies the parent's object up (COPY), and
# s1, where the clone's control connection is, holds that COPY with half
# of the object copied and stable (fault_copy_hold_ms) when it dies; after
# the failover the clone must read the parent's data, the written block
# excepted, and the parent be unchanged.  (2) The model test, a random run
# of I/O and volume operations through s1 and s2: every step that
# completed survives, and the run goes on after the failover.
copy_prepare() {
	local p=/sys/module/archip_srv/parameters set
	head -c 8M /dev/urandom >"$LAB/nodes/h2/share/cp" && head -c 4096 /dev/urandom >"$LAB/nodes/h2/share/cw" &&
		cp "$LAB/nodes/h2/share/cp" "$LAB/nodes/h2/share/cx" &&
		dd if="$LAB/nodes/h2/share/cw" of="$LAB/nodes/h2/share/cx" bs=4k seek=256 conv=notrunc status=none || return 1
	lab h2 "$CTL volume create cu --size 8M --server $S2 >/dev/null && $CTL map cu --server $S2 >/dev/null &&
		dd if=/lab/cp of=/dev/archip/cu bs=1M oflag=direct status=none && $CTL unmap cu &&
		$CTL volume snapshot cu cus --server $S2 >/dev/null && $CTL volume clone cus cuc --server $S2 >/dev/null &&
		$CTL map cuc --server $S1,$S2 --io-timeout 10 >/dev/null" || return 1
	set=$(lab h2 "$CTL --json volume info cuc --server $S2" | sed -E 's/.*"object_set":"([^"]*)".*/\1/')
	echo "$set" >"$LAB/cu.set"
	lab s1 "echo d.$set.0000000000000000 >$p/fault_copy_match && echo 300000 >$p/fault_copy_hold_ms" || return 1
	lab h2 "(python3 $SELFTESTS/blkmodel.py --ctl $CTL --server $S1,$S2 --ctl-server $S2 --ops 800 \
		--timeout 300 --io-timeout 10 --name mk >/tmp/mk.out 2>&1; echo \$? >/tmp/mk.rc) >/dev/null 2>&1 &
		(dd if=/lab/cw of=/dev/archip/cuc bs=4k seek=256 oflag=direct status=none; echo \$? >/tmp/cw.rc) >/dev/null 2>&1 &" ||
		return 1
	wait_until 60 lab s1 "dmesg | grep -q 'holding COPY to d.$set.0000000000000000 half done'" ||
		{ echo "the copy-up never reached s1"; return 1; }
}

storage_death() {
	local t0 t1
	copy_prepare || return 1
	lab h1 "$CTL volume create k --size 256M --server $S1 &&
		$CTL map k --server $S1,$S2 --io-timeout 10 >/dev/null" || return 1
	fio_bg h1 k "--filename=/dev/archip/k --rw=randwrite --bs=4k --iodepth=16 --size=32M"
	wait_until 120 lab h1 "test \$(grep writes $(sysf k)/counters | cut -d' ' -f2) -ge 3000" ||
		{ echo "no write load"; return 1; }
	lab h2 "grep -m1 . /tmp/mk.out; test ! -e /tmp/mk.rc" || { echo "the model test ended before the kill"; return 1; }
	"$LABCMD" kill s1
	t0=$(date +%s)
	echo "$t0" >"$LAB/kill.t0"
	echo "s1 killed: under fio on h1, holding a copy-up of h2 half done, the model test running on h2"
	wait_until 180 lab h1 "test \$(grep reconnects $(sysf k)/counters | cut -d' ' -f2) -ge 1 &&
		grep -qx live $(sysf k)/state" || { echo "I/O never moved to s2"; return 1; }
	t1=$(date +%s)
	echo "s1 killed under load; I/O on s2 again after $((t1 - t0)) s"
	fio_ok h1 k 300 || return 1
	# A second, read-only pass over everything fio wrote, all through s2.
	lab h1 "fio --name=kv --filename=/dev/archip/k --rw=randwrite --bs=4k --size=32M --direct=1 \
		--verify=crc32c --verify_only --verify_fatal=1 --output-format=terse --terse-version=3 >/tmp/kv &&
		echo second verify pass: errors \$(cut -d';' -f5 /tmp/kv) && test \"\$(cut -d';' -f5 /tmp/kv)\" = 0" || return 1
	# The promise (Documentation/block-driver.rst, "Failures"): I/O goes
	# on within the I/O timeout + the cluster's dead time + 30 s.
	[ $((t1 - t0)) -le $((10 + O2CB_DEAD + 30)) ] ||
		{ echo "over the bound of $((10 + O2CB_DEAD + 30)) s"; return 1; }
}
check_v "storage node s1 killed under fio randwrite verify: no acknowledged write lost, I/O back within io timeout + dead time + 30 s" storage_death

copy_verify() {
	local t0 t1 set
	t0=$(cat "$LAB/kill.t0") && set=$(cat "$LAB/cu.set") || return 1
	wait_until 300 lab h2 "test -e /tmp/cw.rc" || { echo "the write to the clone never completed"; return 1; }
	t1=$(date +%s)
	lab h2 "echo the clone write ended $((t1 - t0)) s after the kill: exit \$(cat /tmp/cw.rc); test \$(cat /tmp/cw.rc) = 0 &&
		test \"\$(dd if=/dev/archip/cuc bs=1M iflag=direct status=none | sha256sum)\" = \"\$(sha256sum </lab/cx)\" &&
		echo the clone reads the parent data and the write && $CTL unmap cuc &&
		d=\$($CTL map cus --read-only --server $S2) &&
		test \"\$(dd if=\$d bs=1M iflag=direct status=none | sha256sum)\" = \"\$(sha256sum </lab/cp)\" &&
		echo the parent is unchanged && $CTL unmap \$d" || return 1
	wait_until 600 lab h2 "test -e /tmp/mk.rc" || { echo "the model test did not end"; return 1; }
	lab h2 "tail -n 3 /tmp/mk.out; test \$(cat /tmp/mk.rc) = 0"
}
check_v "the same kill halfway through a copy-up, and under the model test: the clone reads its parent, every completed step survives" copy_verify

# Split brain once more, now that k's connections have failed over to
# s2 (s1 is still dead): h1 is cut off, h2 maps k within the lease + 10 s
# and reads every block fio wrote; h1 comes back fenced and never writes.
split_after_failover() {
	local t0 t1
	"$LABCMD" cut h1
	t0=$(date +%s)
	wait_until $((LEASE + 30)) lab h2 "$CTL map k --server $S2" || { echo "h2 could not map k"; return 1; }
	t1=$(date +%s)
	echo "h1 cut off after a failover to s2; h2 mapped k after $((t1 - t0)) s (lease $LEASE s)"
	lab h2 "fio --name=kv --filename=/dev/archip/k --rw=randwrite --bs=4k --size=32M --direct=1 \
		--verify=crc32c --verify_only --verify_fatal=1 --output-format=terse --terse-version=3 >/tmp/kv &&
		echo h2 verifies what h1 wrote: errors \$(cut -d';' -f5 /tmp/kv) && test \"\$(cut -d';' -f5 /tmp/kv)\" = 0 &&
		head -c 1M /dev/urandom >/tmp/kb && dd if=/tmp/kb of=/dev/archip/k bs=1M oflag=direct status=none" || return 1
	"$LABCMD" heal h1
	lab h1 "! dd if=/dev/zero of=/dev/archip/k bs=4k count=1 oflag=direct status=none 2>/dev/null" ||
		{ echo "h1 could write after losing its lease"; return 1; }
	wait_until 120 lab h1 "grep -qx fenced $(sysf k)/state" || { echo "h1 state: $(state h1 k)"; return 1; }
	lab h2 "test \"\$(head -c 1M /dev/archip/k | sha256sum)\" = \"\$(sha256sum </tmp/kb)\" &&
		echo 'h1 fenced; h2 reads its own data, untouched by h1'" &&
	lab h1 "$CTL unmap k" && lab h2 "$CTL unmap k" &&
	[ $((t1 - t0)) -le $((LEASE + 10)) ] || { echo "over the lease + 10 s"; return 1; }
}
check_v "split brain after a storage-node failover: h1 cut off, h2 maps within lease + 10 s, h1 fenced" split_after_failover

check_v "archip-lab start s1: back in the cluster with the SAN mounted, server up" bash -c "
	$(declare -f lab servers_start); LABCMD=$(printf %q "$LABCMD") CTL=$CTL STORE=$STORE
	\"\$LABCMD\" start s1 >/dev/null && lab s1 'grep -q \" /mnt/san ocfs2 .*noopenlocks\" /proc/mounts' &&
	servers_start s1"

# ------------------------------------------ a hypervisor is cut off
cut_off() {
	local t0 t1 out
	head -c 8M /dev/urandom >"$LAB/nodes/h1/share/a" && head -c 8M /dev/urandom >"$LAB/nodes/h2/share/b" &&
		sha256sum <"$LAB/nodes/h1/share/a" >"$LAB/nodes/h2/share/a.sum" || return 1
	lab h1 "$CTL volume create c --size 64M --server $S1 && $CTL map c --server $S1,$S2 >/dev/null &&
		dd if=/lab/a of=/dev/archip/c bs=1M oflag=direct status=none" || return 1
	"$LABCMD" cut h1
	t0=$(date +%s)
	wait_until $((LEASE + 30)) lab h2 "$CTL map c --server $S2,$S1" || { echo "h2 could not map c"; return 1; }
	t1=$(date +%s)
	echo "h1 cut off; h2 mapped the volume read-write after $((t1 - t0)) s (lease $LEASE s)"
	[ $((t1 - t0)) -le $((LEASE + 10)) ] || { echo "over the lease + 10 s"; return 1; }
	lab h2 "test \"\$(head -c 8M /dev/archip/c | sha256sum)\" = \"\$(cat /lab/a.sum)\" &&
		echo h2 reads everything h1 wrote &&
		dd if=/lab/b of=/dev/archip/c bs=1M oflag=direct status=none" || return 1
	"$LABCMD" heal h1
	out=$(lab h1 "dd if=/dev/zero of=/dev/archip/c bs=4k count=1 oflag=direct 2>&1")
	echo "h1 writes again: $out"
	lab h1 "! dd if=/dev/zero of=/dev/archip/c bs=4k count=1 oflag=direct status=none 2>/dev/null" ||
		{ echo "h1 could write after losing its lease"; return 1; }
	wait_until 120 lab h1 "grep -qx fenced $(sysf c)/state" ||
		{ echo "h1 state: $(state h1 c)"; return 1; }
	echo "h1 state: fenced"
	lab h2 "test \"\$(head -c 8M /dev/archip/c | sha256sum)\" = \"\$(sha256sum </lab/b)\" &&
		echo h2 still reads its own data, untouched by h1" &&
	lab h1 "$CTL unmap c" && lab h2 "$CTL unmap c"
}
check_v "hypervisor h1 cut off: h2 maps within lease + 10 s, h1 comes back fenced (EIO), no stale write" cut_off

# ------------------------------------- late writes of a dropped connection
late_write() {
	local obj end ended p=/sys/module/archip_srv/parameters
	head -c 64k /dev/urandom >"$LAB/nodes/h2/share/A" && head -c 64k /dev/urandom >"$LAB/nodes/h2/share/B" || return 1
	lab h2 "$CTL volume create l --size 64M --server $S2 &&
		$CTL map l --server $S2,$S1 --queues 1 --io-timeout 6 >/dev/null &&
		dd if=/dev/zero of=/dev/archip/l bs=64k count=1 oflag=direct status=none" || return 1
	# Object 0 of the volume's object set (Documentation/block-driver.rst).
	obj=d.$(lab h2 "$CTL --json volume info l --server $S2" | sed -E 's/.*"object_set":"([^"]*)".*/\1/').0000000000000000
	echo "delaying $obj"
	lab s2 "echo $obj >$p/fault_delay_match && echo 20000 >$p/fault_delay_ms" || return 1
	# A is held 20 s on s2; h2 gives the connection up after 6 s and
	# resends; B follows.  A must not land after B.
	lab h2 "dd if=/lab/A of=/dev/archip/l bs=64k oflag=direct status=none" &
	wait_until 30 lab s2 "dmesg | grep -q 'delaying WRITE $obj'" || { echo "no delayed write on s2"; return 1; }
	lab s2 "echo 0 >$p/fault_delay_ms" || return 1
	wait || return 1
	lab h2 "dd if=/lab/B of=/dev/archip/l bs=64k oflag=direct status=none" || return 1
	end="delayed WRITE $obj ended"
	lab s2 "dmesg | grep -q '$end'" && ended=before || ended=after
	# The held write goes on 20 s after it began and the server logs how
	# it ended (refused, or written while its connection still held the
	# volume); either way it must not land after B.
	wait_until 40 lab s2 "dmesg | grep -q '$end'" ||
		{ echo "the delayed write on s2 did not end within 40 s"; return 1; }
	echo "$(lab s2 "dmesg | grep '$end' | sed 's/.*injection: //'") ($ended B was acknowledged)"
	lab h2 "echo 3 >/proc/sys/vm/drop_caches;
		test \"\$(dd if=/dev/archip/l bs=64k count=1 iflag=direct status=none | sha256sum)\" = \"\$(sha256sum </lab/B)\" &&
		echo the block holds B, the newest write; grep reconnects $(sysf l)/counters &&
		$CTL unmap l"
}
check_v "a write held 20 s on s2 after the client gave its connection up never lands after newer writes" late_write

# --------------------------------------------- a storage node hangs
# s2 frozen (SIGSTOP) for less than o2net's idle timeout (30 s), so it
# stays in the cluster: h2's requests time out (6 s), its connections
# move to s1, whose BINDs wait for the connections s2 still holds; the
# freeze lasts until h2 has given s2 up (a data connection bound on s1),
# then s2 goes on, ends its stale connections, and I/O resumes at once.
hung_server() {
	local t0 t1 t2
	lab h2 "$CTL volume create h --size 256M --server $S2 &&
		$CTL map h --server $S2,$S1 --io-timeout 6 >/dev/null" || return 1
	fio_bg h2 h "--filename=/dev/archip/h --rw=randwrite --bs=16k --iodepth=16 --size=64M"
	wait_until 120 lab h2 "test \$(grep writes $(sysf h)/counters | cut -d' ' -f2) -ge 1000" ||
		{ echo "no write load"; return 1; }
	"$LABCMD" stop s2
	t0=$(date +%s)
	wait_until 20 lab h2 "grep -qx reconnecting $(sysf h)/state" ||
		{ "$LABCMD" cont s2; echo "h2 never noticed the stall: $(state h2 h)"; return 1; }
	t1=$(date +%s)
	# The failover is under way: a connection from h2 waits on s1 for its slot.
	wait_until 20 lab s1 "$CTL --json server status | grep -q '\"peer\":\"10.99.0.14:'" ||
		{ "$LABCMD" cont s2; echo "h2 never reached s1"; return 1; }
	"$LABCMD" cont s2
	wait_until 60 lab h2 "grep -qx live $(sysf h)/state && test \$(grep reconnects $(sysf h)/counters | cut -d' ' -f2) -ge 1" ||
		{ echo "I/O did not resume within 60 s of s2 going on: $(state h2 h)"; return 1; }
	t2=$(date +%s)
	echo "s2 frozen $((t1 - t0)) s until h2 noticed (io timeout 6 s), $((t2 - t0)) s until I/O resumed"
	fio_ok h2 h 300 || return 1
	lab h2 "grep reconnects $(sysf h)/counters && timeout 60 $CTL unmap h" || return 1
	[ $((t1 - t0)) -le $((6 + 6)) ] || { echo "noticed after more than twice the io timeout"; return 1; }
}
check_v "storage node s2 frozen (SIGSTOP) under fio verify: I/O moves, no error, unmap does not hang" hung_server

# s2 frozen for good: the cluster evicts it, and h2's I/O resumes on s1
# within the I/O timeout + the cluster's dead time + 30 s; meanwhile an
# unmap --force of a device whose queues wait on s2 returns within 10 s.
frozen_node() {
	local t0 t1 tu u
	lab h2 "$CTL volume create z --size 256M --server $S2 && $CTL volume create y --size 64M --server $S2 &&
		$CTL map z --server $S2,$S1 --io-timeout 6 >/dev/null &&
		$CTL map y --server $S2,$S1 --io-timeout 6 >/dev/null &&
		dd if=/dev/urandom of=/dev/archip/y bs=1M count=4 oflag=direct status=none" || return 1
	fio_bg h2 z "--filename=/dev/archip/z --rw=randwrite --bs=16k --iodepth=16 --size=64M --runtime=100 --time_based"
	wait_until 120 lab h2 "test \$(grep writes $(sysf z)/counters | cut -d' ' -f2) -ge 1000" ||
		{ echo "no write load"; return 1; }
	"$LABCMD" stop s2
	t0=$(date +%s)
	# y's writer starts after the freeze, so its requests wait on s2 (one
	# started before could finish first and leave y idle and live).
	lab h2 "(dd if=/dev/urandom of=/dev/archip/y bs=4k count=64 oflag=direct status=none; echo \$? >/tmp/y.rc) >/dev/null 2>&1 &" || return 1
	wait_until 20 lab h2 "grep -qx reconnecting $(sysf y)/state" || { echo "y: $(state h2 y)"; return 1; }
	u=$(date +%s.%N)
	lab h2 "timeout 30 $CTL unmap --force y" || { echo "unmap --force did not return"; return 1; }
	tu=$(echo "$(date +%s.%N) - $u" | bc)
	echo "unmap --force of y, its queues waiting on frozen s2: returned after $tu s"
	wait_until 300 lab h2 "grep -qx live $(sysf z)/state && test \$(grep reconnects $(sysf z)/counters | cut -d' ' -f2) -ge 1" ||
		{ echo "z never came back: $(state h2 z)"; return 1; }
	t1=$(date +%s)
	echo "s2 frozen for good: I/O on s1 after $((t1 - t0)) s (io timeout 6, dead time $O2CB_DEAD s)"
	fio_ok h2 z 400 || return 1
	lab h2 "test -e /tmp/y.rc && echo the writer of y ended: exit \$(cat /tmp/y.rc); $CTL unmap z" || return 1
	[ "$(echo "$tu <= 10" | bc)" = 1 ] || { echo "unmap --force took over 10 s"; return 1; }
	[ $((t1 - t0)) -le $((6 + O2CB_DEAD + 30)) ] || { echo "over the bound of $((6 + O2CB_DEAD + 30)) s"; return 1; }
}
# s2 comes back afterwards, passed or failed (a failure would leave it
# frozen for the later checks): evicted, it may not come back as it was.
frozen_node_check() {
	local rc=0
	frozen_node || rc=1
	"$LABCMD" kill s2
	"$LABCMD" start s2 >/dev/null && servers_start s2 || rc=1
	return $rc
}
check_v "storage node s2 frozen until evicted: I/O back within io timeout + dead time + 30 s; unmap --force meanwhile within 10 s" frozen_node_check

# -------------------------------------------- a hypervisor dies
# The pattern's checksum goes to h2 through the host.
hv_death_check() {
	head -c 6M /dev/urandom >"$LAB/nodes/h1/share/d" || return 1
	sha256sum <"$LAB/nodes/h1/share/d" >"$LAB/nodes/h2/share/d.sum" || return 1
	lab h1 "$CTL volume create d --size 64M --server $S1 && $CTL map d --server $S1,$S2 >/dev/null &&
		dd if=/lab/d of=/dev/archip/d bs=1M oflag=direct status=none" || return 1
	"$LABCMD" kill h1
	local t0 t1
	t0=$(date +%s)
	wait_until $((LEASE + 30)) lab h2 "$CTL map d --server $S2,$S1" || { echo "h2 could not map d"; return 1; }
	t1=$(date +%s)
	echo "h1 killed; h2 mapped the volume after $((t1 - t0)) s (lease $LEASE s)"
	[ $((t1 - t0)) -le $((LEASE + 10)) ] || { echo "over the lease + 10 s"; return 1; }
	lab h2 "test \"\$(head -c 6M /dev/archip/d | sha256sum)\" = \"\$(cat /lab/d.sum)\" &&
		echo h2 reads every block h1 wrote && $CTL unmap d"
}
check_v "hypervisor h1 killed with a volume mapped: h2 maps it within lease + 10 s, reads all h1 wrote" hv_death_check

# ------------------------------------------ limits, tiny objects, force
small_io() {
	# s1 serves at most 64 KiB per request; the volume's data is on s2.
	lab s1 "$CTL server stop && $CTL server start --root $STORE --max-io 64K" || return 1
	lab h2 "$CTL volume create m --size 64M --server $S2 &&
		$CTL map m --server $S2,$S1 --queues 1 --io-timeout 6 >/dev/null &&
		dd if=/dev/urandom of=/dev/archip/m bs=1M count=8 oflag=direct status=none" || return 1
	# s2's server restarts: the reconnect finds s1 too small, waits for s2.
	lab s2 "$CTL server stop && $CTL server start --root $STORE" || return 1
	lab h2 "fio --name=m --filename=/dev/archip/m --rw=randwrite --bs=1M --size=16M --direct=1 \
		--verify=crc32c --verify_fatal=1 --output-format=terse --terse-version=3 >/tmp/m &&
		test \"\$(cut -d';' -f5 /tmp/m)\" = 0 && cat $(sysf m)/server &&
		dmesg | grep -m1 'takes requests up to 65536 bytes' && $CTL unmap m" || return 1
	lab s1 "$CTL server stop && $CTL server start --root $STORE"
}
check_v "a server that takes smaller requests is skipped on reconnect; 1 MiB verify on the other" small_io

tiny_discard() {
	lab h2 "$CTL volume create t --size 64M --server $S2 && $CTL map t --server $S2 >/dev/null &&
		dd if=/dev/urandom of=/dev/archip/t bs=512 count=1 oflag=direct status=none &&
		blkdiscard /dev/archip/t && blkdiscard -z -o 0 -l 4194304 /dev/archip/t &&
		test \"\$(dd if=/dev/archip/t bs=4k count=1 iflag=direct status=none | sha256sum)\" = \"\$(head -c 4096 /dev/zero | sha256sum)\" &&
		echo discard and write-zeroes of a 512-byte object: zeros && $CTL unmap t"
}
check_v "discard and write-zeroes of an object smaller than 4 KiB succeed and read zeros" tiny_discard

# ------------------------------------------------ no server at all
# The only server named stops: requests wait for --loss-timeout, then
# fail with EIO and the device is dead; unmap does not hang.
no_server() {
	local t0 t1 out
	lab h2 "$CTL volume create n --size 64M --server $S2 &&
		$CTL map n --server $S2 --io-timeout 6 --loss-timeout 20 >/dev/null &&
		dd if=/dev/urandom of=/dev/archip/n bs=1M count=4 oflag=direct status=none" || return 1
	lab s2 "$CTL server stop" || return 1
	t0=$(date +%s)
	out=$(lab h2 "timeout 150 dd if=/dev/zero of=/dev/archip/n bs=4k count=1 oflag=direct 2>&1
		echo exit \$?")
	t1=$(date +%s)
	echo "no server (loss-timeout 20 s): the write returned after $((t1 - t0)) s: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
	echo "state: $(state h2 n)"
	servers_start s2 || return 1
	grep -q 'Input/output error' <<<"$out" && grep -qx 'exit 1' <<<"$out" &&
		[ $((t1 - t0)) -ge 15 ] && [ $((t1 - t0)) -le 50 ] &&
		[ "$(state h2 n)" = dead ] && lab h2 "timeout 60 $CTL unmap n"
}
check_v "no server can serve: a write fails with EIO within the loss timeout, device dead, unmap" no_server

force_unmap() {
	lab h2 "$CTL volume create f --size 128M --server $S2 && $CTL map f --server $S2 >/dev/null &&
		mkfs.ext4 -q /dev/archip/f && mkdir -p /mnt/f && mount /dev/archip/f /mnt/f &&
		(while :; do dd if=/dev/urandom of=/mnt/f/x bs=64k count=16 conv=fsync status=none || exit 0; done) \
			>/dev/null 2>&1 </dev/null & w=\$!
		while ! test -s /mnt/f/x; do sleep 0.2; done
		d=\$(basename \$(readlink -f /dev/archip/f))
		$CTL unmap --force f && echo forced /dev/\$d &&
		for i in \$(seq 30); do kill -0 \$w 2>/dev/null || break; sleep 1; done &&
		umount /mnt/f && echo umounted && ! test -e /sys/block/\$d && echo gone"
}
check_v "unmap --force under a mounted ext4 with a writer, then umount: no splat" force_unmap

check_v "fsck.ocfs2 -fn finds the filesystem clean after all of it" fsck_clean

check_v "no WARN, BUG, oops, lockdep/KASAN report or hung task on any node" "$LABCMD" check

ktap_finish
