#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A two-storage-node OCFS2 cluster (plus a hypervisor node) in the lab:
# stock behaviour first, then the same cluster with noopenlocks,nowritelocks.
. "$(dirname "$0")/lib.sh"
use_lab
VM=". $SELFTESTS/vm-lib.sh;"

ktap_plan 28

if ! out=$("$LABCMD" up -s 2 -H 1 2>&1); then
	ktap_fail "lab up: 2 storage + 1 hypervisor, OCFS2 mounted on both storage nodes"
	ktap_diag <<<"$out"
	"$LABCMD" logs 2>/dev/null | tail -n 60 | ktap_diag
	exit 1
fi
ktap_pass "lab up: 2 storage + 1 hypervisor, OCFS2 mounted on both storage nodes"

check "private L2 network: h1 reaches s1 and s2, s1 reaches s2" bash -c "
	$(printf '%q ' "$LABCMD") run h1 'ping -c1 -W5 $S1 && ping -c1 -W5 $S2' &&
	$(printf '%q ' "$LABCMD") run s1 'ping -c1 -W5 $S2'"
check "o2cb cluster formed: the DLM domain has both nodes" \
	lab s1 "grep -q '^Domain Map: 1 2 *\$' /sys/kernel/debug/o2dlm/*/dlm_state"

# ---------------------------------------------------------------- stock
check "stock: /proc/mounts names neither new option" \
	lab s2 "grep ' $SAN ' /proc/mounts | grep -v -e noopenlocks -e nowritelocks | grep -q ocfs2"

bitexact() {
	local sum1 sum2
	sum1=$(lab s1 "head -c 16M /dev/urandom >$SAN/$1 && sync && sha256sum <$SAN/$1") || return 1
	sum2=$(lab s2 "dd if=$SAN/$1 bs=1M iflag=direct status=none | sha256sum") || return 1
	echo "s1: $sum1 s2: $sum2"
	[ "$sum1" = "$sum2" ]
}
check "stock: 16 MiB written on s1 reads back bit-exact on s2 (O_DIRECT)" bitexact stock.bin

check "stock: s2 holds the open lock (PR) and rw lock of a file it read" \
	lab s2 "$VM cat $SAN/stock.bin >/dev/null; locks_of $SAN/stock.bin; lock_held $SAN/stock.bin O && lock_held $SAN/stock.bin W"

check "stock: the periodic orphan scan is scheduled" \
	lab s1 "grep OrphanScan /sys/kernel/debug/ocfs2/*/fs_state | grep -qv Disabled"

check "stock: unknown option and misspelt new option are refused" lab s2 "
	umount $SAN || exit 1
	mount -t ocfs2 -o nosuchopt /dev/vda $SAN 2>/dev/null && exit 1
	mount -t ocfs2 -o noopenlock /dev/vda $SAN 2>/dev/null && exit 1
	dmesg | grep -q 'Unrecognized mount option \"nosuchopt\"' || exit 1
	mount -t ocfs2 /dev/vda $SAN"

check "stock: localflocks and coherency=buffered still mount and show" lab s2 "
	umount $SAN && mount -t ocfs2 -o localflocks,coherency=buffered /dev/vda $SAN &&
	grep ' $SAN ' /proc/mounts | grep localflocks | grep -q coherency=buffered &&
	umount $SAN && mount -t ocfs2 /dev/vda $SAN"

check "stock: remount ro and back rw" lab s2 "
	mount -o remount,ro $SAN && ! touch $SAN/ro-probe 2>/dev/null &&
	mount -o remount,rw $SAN && touch $SAN/ro-probe"

# Unlink on s1 while s2 has the file open: stock OCFS2 orphans it; s2
# reads it whole, and the space comes back only when s2 closes it.
unlink_while_open_stock() {
	local sum used0 used1 used2 rc
	sum=$(lab s1 "head -c 32M /dev/urandom >$SAN/victim && sync && sha256sum <$SAN/victim | cut -d' ' -f1") || return 1
	lab s2 "$VM hold_open $SAN/victim v" || return 1
	used0=$(lab s1 "$VM used_bytes") || return 1
	lab s1 "rm $SAN/victim && sync" || return 1
	sleep 6
	used1=$(lab s1 "$VM used_bytes") || return 1
	lab s2 "touch /tmp/v.read; $VM wait_file /tmp/v.rc; cat /tmp/v.err; test \$(cat /tmp/v.rc) = 0 && grep -q $sum /tmp/v.sum"
	rc=$?
	lab s2 "touch /tmp/v.release; $VM wait_file /tmp/v.closed" || return 1
	[ $rc = 0 ] || return 1
	for _ in $(seq 30); do
		used2=$(lab s1 "sync; $VM used_bytes")
		[ $((used1 - used2)) -gt $((24 << 20)) ] && break
		sleep 1
	done
	echo "used: before rm $used0, while open $used1, after close $used2"
	[ $((used0 - used1)) -lt $((8 << 20)) ] && [ $((used1 - used2)) -gt $((24 << 20)) ]
}
check "stock: a file unlinked on s1 while open on s2 stays readable there, freed at close" \
	unlink_while_open_stock

# ------------------------------------------------ noopenlocks,nowritelocks
OPTS=noopenlocks,nowritelocks
check "both nodes remount fresh with -o $OPTS" bash -c "
	for n in s1 s2; do $(printf '%q ' "$LABCMD") run \$n 'umount $SAN' || exit 1; done
	for n in s1 s2; do $(printf '%q ' "$LABCMD") mount \$n $OPTS || exit 1; done"
check "both options show in /proc/mounts on both nodes" bash -c "
	for n in s1 s2; do $(printf '%q ' "$LABCMD") run \$n \"grep ' $SAN ' /proc/mounts | grep -q ,noopenlocks,nowritelocks,\" || exit 1; done"

check "remount cannot toggle them (clear error), plain remount ro/rw keeps them" lab s1 "
	mount -o remount,openlocks $SAN 2>/dev/null && exit 1
	dmesg | tail -n 5 | grep -q 'Cannot change noopenlocks on remount; unmount and mount again' || exit 1
	mount -o remount,writelocks $SAN 2>/dev/null && exit 1
	dmesg | tail -n 5 | grep -q 'Cannot change nowritelocks on remount' || exit 1
	mount -o remount,ro $SAN && mount -o remount,rw $SAN || exit 1
	grep ' $SAN ' /proc/mounts | grep -q ,noopenlocks,nowritelocks,"

check "16 MiB written on s1 reads back bit-exact on s2 (O_DIRECT)" bitexact nolocks.bin

check "create on s1, readdir and read on s2" bash -c "
	$(printf '%q ' "$LABCMD") run s1 'mkdir -p $SAN/d && for i in \$(seq 1 20); do echo content-\$i >$SAN/d/f\$i; done' &&
	$(printf '%q ' "$LABCMD") run s2 'test \$(ls $SAN/d | wc -l) = 20 && for i in \$(seq 1 20); do test \"\$(cat $SAN/d/f\$i)\" = content-\$i || exit 1; done'"
check "rename on s2 is seen on s1" bash -c "
	$(printf '%q ' "$LABCMD") run s2 'mv $SAN/d/f1 $SAN/d/renamed' &&
	$(printf '%q ' "$LABCMD") run s1 'test ! -e $SAN/d/f1 && test \"\$(cat $SAN/d/renamed)\" = content-1'"
check "unlink on s1 is seen on s2" bash -c "
	$(printf '%q ' "$LABCMD") run s1 'rm $SAN/d/f2' &&
	$(printf '%q ' "$LABCMD") run s2 '! stat $SAN/d/f2 2>/dev/null && ! ls $SAN/d | grep -qx f2 && test \$(ls $SAN/d | wc -l) = 19'"
check "overwrite on s2 (O_DIRECT, O_SYNC) is read on s1" bash -c "
	$(printf '%q ' "$LABCMD") run s2 'head -c 65536 /dev/urandom >/tmp/new && dd if=/tmp/new of=$SAN/d/f3 bs=64k oflag=direct,sync conv=notrunc status=none && sha256sum </tmp/new >/tmp/new.sum' &&
	test \"\$($(printf '%q ' "$LABCMD") run s2 'cat /tmp/new.sum')\" = \"\$($(printf '%q ' "$LABCMD") run s1 'head -c 65536 $SAN/d/f3 | sha256sum')\""
check "both nodes create 50 files each in one directory at once" bash -c "
	$(printf '%q ' "$LABCMD") run s1 'for i in \$(seq 50); do echo a >$SAN/d/a\$i; done' &
	$(printf '%q ' "$LABCMD") run s2 'for i in \$(seq 50); do echo b >$SAN/d/b\$i; done' || exit 1
	wait \$! || exit 1
	for n in s1 s2; do test \$($(printf '%q ' "$LABCMD") run \$n 'ls $SAN/d | grep -c \"^[ab][0-9]\"') = 100 || exit 1; done"

# nowritelocks: direct reads and direct overwrites hold the inode lock,
# not the rw lock; writes that allocate (a new file, a write past the end)
# take the rw lock at EX.  noopenlocks: no open lock on any file.
check "no open lock anywhere; no rw lock for direct reads and overwrites, rw EX for allocating writes" lab s2 "$VM
	echo x >$SAN/d/s2new && dd if=/dev/zero of=$SAN/d/s2direct bs=4k count=8 oflag=direct status=none &&
	dd if=$SAN/nolocks.bin of=/dev/null bs=64k count=4 iflag=direct status=none &&
	dd if=/dev/zero of=$SAN/nolocks.bin bs=64k count=1 seek=8 oflag=direct conv=notrunc status=none &&
	cat $SAN/d/f4 >/dev/null || exit 1
	# Each file is held open while its locks are read, so its inode (and
	# lock resources) cannot be dropped from the cache in between: the
	# meta lock shows that the file is in the table at all.
	for f in $SAN/d/s2new $SAN/d/s2direct $SAN/nolocks.bin $SAN/d/f4; do
		exec 3<\$f || exit 1
		echo \"\$f: \$(locks_of \$f | tr '\n' ' ')\"
		lock_held \$f M && ! lock_held \$f O; rc=\$?
		case \$f in
		*/nolocks.bin) ! lock_held \$f W || rc=1 ;;
		*/s2direct) lock_held \$f W || rc=1 ;;
		esac
		exec 3<&-
		test \$rc = 0 || exit 1
	done"
check "directories keep their rw lock" lab s2 "$VM mkdir $SAN/d/sub && locks_of $SAN/d/sub && lock_held $SAN/d/sub W"
check "the periodic orphan scan does not run" \
	lab s1 "grep OrphanScan /sys/kernel/debug/ocfs2/*/fs_state | grep -q 'Last Scan: Disabled'"

# Defined behaviour under noopenlocks: the unlinking node frees the file
# at once; the other node's descriptor then fails with ENOENT (the error
# stock OCFS2 gives for an inode deleted under it), and that node's later
# close is quiet.  s2 reads right after the unlink, with no sync between:
# before patch 0004 it read the old data from the freed blocks until s1's
# journal was checkpointed.
unlink_while_open_nolocks() {
	local used0 used1 err
	lab s1 "head -c 32M /dev/urandom >$SAN/victim2 && sync" || return 1
	lab s2 "$VM hold_open $SAN/victim2 w" || return 1
	used0=$(lab s1 "$VM used_bytes") || return 1
	lab s1 "rm $SAN/victim2" || return 1
	err=$(lab s2 "touch /tmp/w.read; $VM wait_file /tmp/w.rc; echo rc=\$(cat /tmp/w.rc) \$(cat /tmp/w.err)")
	echo "s2 read through its descriptor right after the unlink: $err"
	for _ in $(seq 30); do
		used1=$(lab s1 "sync; $VM used_bytes")
		[ $((used0 - used1)) -gt $((24 << 20)) ] && break
		sleep 1
	done
	echo "used: before rm $used0, after rm $used1 (s2 still has it open)"
	lab s2 "touch /tmp/w.release; $VM wait_file /tmp/w.closed" || return 1
	[ $((used0 - used1)) -gt $((24 << 20)) ] || return 1
	grep -q "rc=1 .*No such file or directory" <<<"$err" || return 1
	lab s2 "! dmesg | grep -q 'OCFS2: ERROR\|ocfs2_error\|remounting read-only'"
}
check "unlink on s1 while open on s2: freed at once, s2 gets ENOENT, no fs error" \
	unlink_while_open_nolocks

check "both nodes still read and write after it" bash -c "
	$(printf '%q ' "$LABCMD") run s2 'echo after >$SAN/after && sync' &&
	test \"\$($(printf '%q ' "$LABCMD") run s1 'cat $SAN/after')\" = after"

check "fsck.ocfs2 finds the filesystem clean after unmounting both nodes" bash -c "
	$(declare -f lab fsck_ocfs2); LABCMD=$(printf %q "$LABCMD")
	for n in s1 s2; do lab \$n 'umount $SAN' || exit 1; done
	fsck_ocfs2 s1"

# s1 killed (its QEMU) while it deletes reflinked files, as an object
# store deletes the objects clones share: s2 recovers s1's journal and no
# cluster may be left allocated with no owner.  Stock OCFS2 frees the
# clusters whose refcount drops to zero in a later transaction than the
# one that drops it: before fs/ocfs2 patch 0011 such a kill left hundreds
# of clusters marked in the global bitmap and owned by nothing (reported
# by fsck.ocfs2 -fn, which still exits 0).  An fsync loop beside the
# deletes commits s1's journal all the time, as an object server's fsyncs
# do, so that the kill finds a delete half committed.
kill_during_reflinked_deletes() {
	local left
	"$LABCMD" mount s1 $OPTS >/dev/null && "$LABCMD" mount s2 $OPTS >/dev/null || return 1
	lab s1 "python3 $SELFTESTS/reflinked.py $SAN/rl 8 4096" || return 1
	lab s1 "python3 $SELFTESTS/reflinked.py --fsync-loop $SAN/tick >/dev/null 2>&1 &
		(for i in \$(seq 0 7); do rm $SAN/rl/c\$i; done) >/dev/null 2>&1 &" || return 1
	wait_until 60 lab s1 "test \$(ls $SAN/rl | wc -l) -le 7" ||
		{ echo "the deletes did not start"; return 1; }
	"$LABCMD" kill s1 >/dev/null || return 1
	wait_until 180 lab s2 "ls $SAN/rl >/dev/null" || { echo "s2 did not recover s1"; return 1; }
	left=$(lab s2 "ls $SAN/rl | wc -l") || return 1
	echo "s1 killed with $left of 8 reflinked files (4096 extents each) not yet deleted"
	[ "$left" -gt 0 ] || { echo "the deletes were over before the kill"; return 1; }
	lab s2 "umount $SAN" && fsck_ocfs2 s2
}
check_v "s1 killed while deleting reflinked files: s2 recovers it, fsck.ocfs2 -fn finds no cluster leaked" \
	kill_during_reflinked_deletes

check "no WARN, BUG, oops or panic on any node (panic_on_warn=1)" "$LABCMD" check

ktap_finish
