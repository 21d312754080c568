#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The hazards of noopenlocks,nowritelocks (Documentation/ocfs2-locking.rst),
# each provoked across the two storage nodes and checked against the data:
#   - delete, punch and reflink on s2 while s1 does large direct I/O to the
#     same file, then s2 writes new files into the space it freed: they
#     must read back intact, s1's reads must see whole states only, a clone
#     must be one whole version of its source;
#   - s1 killed (its QEMU) during an extending direct write, the write
#     retried on s2 while s2 recovers s1's journal and orphans;
#   - s1 and s2 writing different blocks of one new cluster at once;
#   - a mount without noopenlocks next to one with it, both orders: refused;
#   - with s1's SAN I/O held back seconds by dm-delay (far longer than the
#     truncate log keeps freed clusters from reuse): a delete, a punch, a
#     reflink and a write into the same new cluster on s2 each return only
#     after s1's direct I/O in flight completed.
# After the faults, and at the end, fsck.ocfs2 -fn must find the
# filesystem clean and no node may have gone read-only.
#
# The filesystem is made with 64 KiB clusters so that one cluster holds
# several blocks.  Big direct I/Os (32-128 MiB, seconds in the emulated
# VMs) make the windows wide.  (Freed clusters wait in OCFS2's truncate
# log for about two seconds before they can be reused, which narrows the
# delete and punch windows: these checks did not catch the series before
# the fix.  The dm-delay checks do: they check the exclusion itself, which
# does not depend on when clusters are reused.)
. "$(dirname "$0")/lib.sh"
use_lab
OPTS=noopenlocks,nowritelocks
# I/O sizes in MiB (smaller on the slow debug kernel: MB=8 BIG=16)
MB=${MB:-32}
BIG=${BIG:-128}

# How long s1's SAN I/O is held back in the exclusion checks (ms).
DELAY_MS=${DELAY_MS:-6000}

ktap_plan 18

if ! out=$(ARCHIP_LAB_MKFS="-C 64K -b 4K" "$LABCMD" up -s 2 -H 0 -o $OPTS 2>&1); then
	ktap_fail "lab up: 2 storage nodes, SAN with 64 KiB clusters mounted -o $OPTS"
	ktap_diag <<<"$out"
	exit 1
fi
ktap_pass "lab up: 2 storage nodes, SAN with 64 KiB clusters mounted -o $OPTS"

# s1 reaches the SAN through a device-mapper device, linear until an
# exclusion check makes it dm-delay.  (No udev in the VMs: libdevmapper
# makes the nodes itself.)
check "s1 remounts the SAN through device-mapper (for dm-delay)" lab s1 "
	export DM_DISABLE_UDEV=1 && umount $SAN && modprobe dm-delay &&
	dmsetup create san --table \"0 \$(blockdev --getsz /dev/vda) linear /dev/vda 0\" &&
	mount -t ocfs2 -o $OPTS /dev/mapper/san $SAN"

# Two patterns on the SAN itself, so both nodes can read them.
lab s1 "head -c ${MB}M /dev/urandom >$SAN/pat.A && head -c ${MB}M /dev/urandom >$SAN/pat.B &&
	sync" >/dev/null || { ktap_fail "patterns"; exit 1; }
SUM_A=$(lab s1 "sha256sum <$SAN/pat.A | cut -c1-64")
SUM_B=$(lab s1 "sha256sum <$SAN/pat.B | cut -c1-64")

# sane NODE: the SAN is mounted read-write and OCFS2 reported no error.
sane() {
	lab "$1" "grep -q ' $SAN ocfs2 rw,' /proc/mounts &&
		! dmesg | grep -E 'OCFS2: ERROR|is now read-only|Direct IO failed'"
}

# fill NODE TAG N: write N files of 4 MiB (random, direct) on NODE and
# record their sums in $SAN/TAG.sums: they may take the space just freed.
fill() {
	lab "$1" "cd $SAN && rm -f $2.sums && for i in \$(seq $3); do
		head -c 4M /dev/urandom >/tmp/f && dd if=/tmp/f of=$2.\$i bs=4M oflag=direct status=none &&
		echo \"\$(sha256sum </tmp/f | cut -c1-64)  $2.\$i\" >>$2.sums || exit 1; done; rm -f /tmp/f"
}
# fill_ok NODE TAG: every file of TAG reads back (direct) as written.
fill_ok() {
	lab "$1" "cd $SAN && while read -r s f; do
		test \"\$(dd if=\$f bs=4M iflag=direct status=none | sha256sum | cut -c1-64)\" = \$s ||
		{ echo \"\$f differs: written by s2, overwritten through freed space\"; exit 1; }
		done <$2.sums"
}

# loop_bg NODE TAG BODY: run BODY in a loop on NODE in the background, at
# most 60 rounds, until it fails (then /tmp/TAG.failed, its output in
# /tmp/TAG.err) or /tmp/TAG.stop appears; /tmp/TAG.n counts the rounds done,
# /tmp/TAG.done marks the end.
loop_bg() {
	lab "$1" "rm -f /tmp/$2.*; echo 0 >/tmp/$2.n; (for i in \$(seq 60); do
		test -e /tmp/$2.stop && break
		{ $3 ; } >/tmp/$2.err 2>&1 || { : >/tmp/$2.failed; break; }
		echo \$i >/tmp/$2.n; done; : >/tmp/$2.done) >/dev/null 2>&1 &"
}
rounds() { lab "$1" "cat /tmp/$2.n"; }
# wait_rounds NODE TAG N SECS: until the loop has done N rounds (or ended).
wait_rounds() {
	wait_until "$4" lab "$1" "test \$(cat /tmp/$2.n) -ge $3 || test -e /tmp/$2.done"
}
# stop_loop NODE TAG: stop it after the round in progress; pass if no round failed.
stop_loop() {
	lab "$1" "touch /tmp/$2.stop" || return 1
	wait_until 300 lab "$1" "test -e /tmp/$2.done" || { echo "the loop on $1 did not stop"; return 1; }
	lab "$1" "! test -e /tmp/$2.failed" || { lab "$1" "cat /tmp/$2.err"; return 1; }
}

# ------------------------------------------------------------ delete
# s1 overwrites X with BIG MiB direct writes, again and again; s2 deletes X
# in the middle and fills the space.  Without exclusion s1's write in
# flight lands in s2's new files.  With it, the wipe waits for that write,
# and s1's next write fails with ENOENT.
delete_under_io() {
	lab s1 "dd if=/dev/zero of=$SAN/X bs=${BIG}M count=1 oflag=direct status=none && sync" || return 1
	loop_bg s1 w "dd if=/dev/urandom of=$SAN/X bs=${BIG}M count=1 iflag=fullblock oflag=direct conv=notrunc,nocreat status=none"
	wait_rounds s1 w 1 120 || { echo "s1 did not write"; return 1; }
	lab s2 "rm $SAN/X" || return 1
	fill s2 del $((BIG / 4 + 4)) || return 1
	wait_until 120 lab s1 "test -e /tmp/w.done" || { echo "s1's writes did not stop"; return 1; }
	echo "s1 wrote X $(rounds s1 w) times; then: $(lab s1 'cat /tmp/w.err')"
	lab s1 "test -e /tmp/w.failed && grep -q 'No such file or directory' /tmp/w.err" || return 1
	fill_ok s1 del && fill_ok s2 del && sane s1 && sane s2
}
check_v "delete on s2 while s1 writes the file: s2's new files intact, s1 gets ENOENT" \
	delete_under_io

# ------------------------------------------------------------ punch
# s1 reads P (BIG MiB, direct) again and again; s2 punches out its middle
# half and fills the space.  Each of s1's reads must be the file before or
# after the punch, never with other files' data in it.
punch_under_io() {
	local before after n
	lab s1 "dd if=/dev/urandom of=$SAN/P bs=${BIG}M count=1 iflag=fullblock oflag=direct status=none && sync" ||
		return 1
	before=$(lab s1 "sha256sum <$SAN/P | cut -c1-64")
	after=$(lab s1 "{ head -c $((BIG / 4))M $SAN/P; head -c $((BIG / 2))M /dev/zero; tail -c $((BIG / 4))M $SAN/P; } |
		sha256sum | cut -c1-64")
	loop_bg s1 r "s=\$(dd if=$SAN/P bs=${BIG}M iflag=direct status=none | sha256sum | cut -c1-64);
		echo \$s >>/tmp/r.sums; test \$s = $before || test \$s = $after"
	wait_rounds s1 r 1 120 || { echo "s1 did not read"; return 1; }
	lab s2 "fallocate -p -o $((BIG / 4))M -l $((BIG / 2))M $SAN/P" || return 1
	fill s2 pun $((BIG / 4 + 4)) || return 1
	n=$(rounds s1 r)
	wait_rounds s1 r $((n + 2)) 120
	stop_loop s1 r || return 1
	echo "s1 read P $(rounds s1 r) times, $(lab s1 'sort -u /tmp/r.sums | wc -l') distinct contents, all whole"
	test "$(lab s2 "dd if=$SAN/P bs=${BIG}M iflag=direct status=none | sha256sum | cut -c1-64")" = "$after" &&
		fill_ok s2 pun && sane s1 && sane s2
}
check_v "punch on s2 while s1 reads the file: every read whole, s2's new files intact" \
	punch_under_io

# ------------------------------------------------------------ reflink
# s1 rewrites C alternately with A and B (MB MiB direct writes); s2 clones
# it three times meanwhile.  Each clone must be A or B, whole.
reflink_under_io() {
	local i s ok=0
	lab s1 "dd if=$SAN/pat.A of=$SAN/C bs=${MB}M oflag=direct status=none && sync" || return 1
	loop_bg s1 c "dd if=$SAN/pat.B of=$SAN/C bs=${MB}M oflag=direct conv=notrunc status=none &&
		dd if=$SAN/pat.A of=$SAN/C bs=${MB}M oflag=direct conv=notrunc status=none"
	wait_rounds s1 c 1 120 || { echo "s1 did not write"; return 1; }
	for i in 1 2 3; do
		lab s2 "cp --reflink=always $SAN/C $SAN/C.clone$i" || return 1
	done
	stop_loop s1 c || return 1
	for i in 1 2 3; do
		s=$(lab s1 "dd if=$SAN/C.clone$i bs=${MB}M iflag=direct status=none | sha256sum | cut -c1-64")
		case $s in
		"$SUM_A") echo "clone $i: A" ;;
		"$SUM_B") echo "clone $i: B" ;;
		*) echo "clone $i: neither A nor B (torn by a write in flight)"; ok=1 ;;
		esac
	done
	[ $ok = 0 ] &&
		test "$(lab s2 "dd if=$SAN/C bs=${MB}M iflag=direct status=none | sha256sum | cut -c1-64")" = "$SUM_A" &&
		sane s1 && sane s2
}
check_v "reflink on s2 while s1 rewrites the file: every clone one whole version" \
	reflink_under_io

# ------------------------------------------------------------ one new cluster
# Files of one 64 KiB cluster, sized but unallocated; s1 writes its first
# 4 KiB and s2 its last 4 KiB at the same moment, 60 files.
new_cluster() {
	lab s1 "cd $SAN && for i in \$(seq 60); do rm -f N\$i; truncate -s 64K N\$i; done &&
		head -c 4K /dev/urandom >nc.1 && head -c 4K /dev/urandom >nc.2 && sync" || return 1
	lab s1 "for i in \$(seq 60); do dd if=$SAN/nc.1 of=$SAN/N\$i bs=4K oflag=direct conv=notrunc status=none || exit 1; done" &
	lab s2 "for i in \$(seq 60); do dd if=$SAN/nc.2 of=$SAN/N\$i bs=4K seek=15 oflag=direct conv=notrunc status=none || exit 1; done" ||
		{ wait; echo "a write on s2 failed"; return 1; }
	wait $! || { echo "a write on s1 failed"; return 1; }
	lab s2 "cd $SAN && head -c 56K /dev/zero >/tmp/z && for i in \$(seq 60); do
		dd if=N\$i of=/tmp/b0 bs=4K count=1 iflag=direct status=none &&
		dd if=N\$i of=/tmp/b15 bs=4K skip=15 iflag=direct status=none &&
		dd if=N\$i of=/tmp/mid bs=4K skip=1 count=14 iflag=direct status=none &&
		cmp /tmp/b0 nc.1 && cmp /tmp/b15 nc.2 && cmp /tmp/mid /tmp/z ||
		{ echo N\$i wrong; exit 1; }; done" && sane s1 && sane s2
}
check_v "s1 and s2 write different blocks of one new cluster at once: both land" new_cluster

# ------------------------------------------------------------ exclusion
# s1_delay MS: from now on each of s1's SAN I/Os takes MS ms longer (0: none).
s1_delay() {
	local t="linear /dev/vda 0"
	[ "$1" = 0 ] || t="delay /dev/vda 0 $1"
	lab s1 "export DM_DISABLE_UDEV=1 && dmsetup suspend --nolockfs san &&
		dmsetup reload san --table \"0 \$(blockdev --getsz /dev/vda) $t\" &&
		dmsetup resume san"
}

# race S1CMD S2CMD: with s1's I/O delayed, start S1CMD (one direct I/O,
# by dd or pread) on s1; once it is blocked (in that I/O, or in getting
# there), run S2CMD on s2.  Prints "before" if S1CMD's I/O had returned
# when S2CMD returned (s2 waited for it: S1CMD ended, or pread marked
# /tmp/x.done), else "after", and waits for S1CMD to end; its exit
# status is then in /tmp/x.rc on s1.  Each check then requires that the
# two were serialized: S1CMD finished before S2CMD returned, or S1CMD saw
# the result of S2CMD.  Without the exclusion S2CMD returns while s1's
# I/O is held back, and S1CMD still acts on the old file.
race() {
	local t0 t1
	# A watcher on s1 itself marks the moment the I/O is held back: a poll
	# from the host can miss the delay window on a slow (debug) kernel.
	lab s1 "rm -f /tmp/x.*; ( ( $1 ) >/tmp/x.err 2>&1; echo \$? >/tmp/x.rc ) >/dev/null 2>&1 &
		( for i in \$(seq 1200); do
			for p in \$(pgrep -x dd; pgrep -x python3); do
				grep -q '^State:[[:space:]]*D' /proc/\$p/status 2>/dev/null &&
					{ touch /tmp/x.started; exit 0; }
			done
			test -e /tmp/x.rc && exit 0; sleep 0.05
		done ) >/dev/null 2>&1 &" || return 1
	wait_until 60 lab s1 "test -e /tmp/x.started || test -e /tmp/x.rc" &&
		lab s1 "test -e /tmp/x.started" ||
		{ echo "s1's I/O was not seen held back: $(lab s1 'cat /tmp/x.err')" >&2; return 1; }
	t0=$(date +%s.%N)
	lab s2 "$2" >&2 || { echo "s2: '$2' failed" >&2; return 1; }
	t1=$(date +%s.%N)
	if lab s1 "test -e /tmp/x.done || test -e /tmp/x.rc"; then
		echo "s2 took $(echo "$t1 - $t0" | bc) s, waiting for s1's I/O (delayed ${DELAY_MS} ms)" >&2
		echo before
	else
		echo "s2 returned after $(echo "$t1 - $t0" | bc) s, s1's I/O not done" >&2
		echo after
	fi
	wait_until 120 lab s1 "test -e /tmp/x.rc" || { echo "s1's I/O did not end" >&2; return 1; }
}

# The files and data the four checks use, made before s1's I/O is
# delayed; what s1 writes comes from its /tmp, never from the SAN.
excl_setup() {
	lab s1 "cd $SAN && rm -f XD PD CD CD.clone ND &&
		head -c 4M /dev/urandom >/tmp/a4 && head -c 4M /dev/urandom >/tmp/b4 &&
		head -c 4K /dev/urandom >/tmp/k1 && head -c 4K /dev/urandom >/tmp/k2 &&
		cp /tmp/k2 k2 && head -c 4M /dev/urandom >XD && head -c 16M /dev/urandom >PD &&
		cp /tmp/a4 CD && truncate -s 64K ND && sync" &&
	lab s2 "cp $SAN/k2 /tmp/k2 && head -c 56K /dev/zero >/tmp/z"
}
excl_delete() {
	local o
	o=$(race "dd if=/tmp/b4 of=$SAN/XD bs=4M oflag=direct conv=notrunc,nocreat" "rm $SAN/XD") ||
		return 1
	if [ "$o" = after ]; then
		lab s1 "test \$(cat /tmp/x.rc) != 0 && grep -q 'No such file' /tmp/x.err" ||
			{ echo "s1's write succeeded after the delete returned"; return 1; }
	else
		lab s1 "test \$(cat /tmp/x.rc) = 0" ||
			{ echo "s1's write, done before the delete returned, failed: $(lab s1 'cat /tmp/x.err')"; return 1; }
	fi
	lab s2 "! test -e $SAN/XD" && sane s1 && sane s2
}
# pread FILE: one 16 MiB O_DIRECT pread (dd would read again, after the
# punch, to see the end of the file), /tmp/x.done at once when it
# returned (before hashing, which takes seconds here), then the byte
# count and sha256 of what it read in /tmp/x.sum.
PREAD="python3 -c 'import os, mmap, hashlib, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
m = mmap.mmap(-1, 16 << 20)
n = os.preadv(fd, [m], 0)
open(\"/tmp/x.done\", \"w\").close()
print(n, hashlib.sha256(m[:n]).hexdigest())'"
excl_punch() {
	local before after o got
	before=$(lab s2 "sha256sum <$SAN/PD | cut -c1-64")
	after=$(lab s2 "{ head -c 4M $SAN/PD; head -c 8M /dev/zero; tail -c 4M $SAN/PD; } | sha256sum | cut -c1-64")
	o=$(race "$PREAD $SAN/PD >/tmp/x.sum" "fallocate -p -o 4M -l 8M $SAN/PD") || return 1
	got=$(lab s1 'cat /tmp/x.sum')
	case $o:$got in
	"before:16777216 $before" | "after:16777216 $after") ;;
	*) echo "s1's read ($o the punch returned: $got) is not the whole file before it or after it"
		return 1 ;;
	esac
	test "$(lab s2 "dd if=$SAN/PD bs=16M iflag=direct status=none | sha256sum | cut -c1-64")" = "$after" ||
		{ echo "PD is not the file punched"; return 1; }
	sane s1 && sane s2
}
excl_reflink() {
	local o clone a b
	o=$(race "dd if=/tmp/b4 of=$SAN/CD bs=4M oflag=direct conv=notrunc status=none" \
		"cp --reflink=always $SAN/CD $SAN/CD.clone") || return 1
	clone=$(lab s2 "dd if=$SAN/CD.clone bs=4M iflag=direct status=none | sha256sum")
	a=$(lab s1 'sha256sum </tmp/a4') b=$(lab s1 'sha256sum </tmp/b4')
	case $o:$clone in
	"before:$b") echo "the clone is the file after s1's write" ;;
	"after:$a") echo "the clone is the file before s1's write, which came after it" ;;
	*) echo "the clone is not what the file was when the reflink ran ($o)"; return 1 ;;
	esac
	test "$(lab s2 "dd if=$SAN/CD bs=4M iflag=direct status=none | sha256sum")" = "$b" && sane s1 && sane s2
}
excl_cluster() {
	race "dd if=/tmp/k1 of=$SAN/ND bs=4K oflag=direct conv=notrunc status=none" \
		"dd if=/tmp/k2 of=$SAN/ND bs=4K seek=15 oflag=direct conv=notrunc status=none" >/dev/null &&
		lab s1 "test \$(cat /tmp/x.rc) = 0" || return 1
	lab s2 "dd if=$SAN/ND of=/tmp/b15 bs=4K skip=15 iflag=direct status=none && cmp /tmp/b15 /tmp/k2 &&
		dd if=$SAN/ND bs=4K skip=1 count=14 iflag=direct status=none | cmp - /tmp/z" &&
	test "$(lab s2 "dd if=$SAN/ND bs=4K count=1 iflag=direct status=none | sha256sum")" = \
		"$(lab s1 'sha256sum </tmp/k1')" && sane s1 && sane s2
}

if excl_setup >/dev/null && s1_delay "$DELAY_MS" >/dev/null; then
	check_v "s1 writes, s2 deletes the file: serialized (a write in flight lands first)" excl_delete
	check_v "s1 writes, s2 reflinks the file: serialized (the clone is one state of the file)" excl_reflink
	check_v "s1 reads, s2 punches the file: serialized (s1 reads the file before or after)" excl_punch
	check_v "s1 and s2 write one new cluster, s1's I/O delayed: both land" excl_cluster
else
	for c in delete punch reflink "one new cluster"; do ktap_fail "exclusion ($c): s1's I/O could not be delayed"; done
fi
check "s1's SAN I/O undelayed" s1_delay 0

# ------------------------------------------------------------ node death
# s1 extends a new file with one MB MiB direct write and is killed while
# the write is in flight.  s2 recovers s1 (journal, DIO orphan) and the
# write is retried there at once; the file must be A, whole.
extend_kill() {
	local t0
	lab s1 "rm -f $SAN/E; (dd if=$SAN/pat.A of=$SAN/E bs=${MB}M oflag=direct status=none &) " || return 1
	wait_until 60 lab s1 "test \$(stat -c %b $SAN/E 2>/dev/null || echo 0) -gt 0" ||
		{ echo "the extending write did not start"; return 1; }
	t0=$(date +%s)
	"$LABCMD" kill s1 >/dev/null || return 1
	wait_until 180 lab s2 "stat $SAN/pat.A" || { echo "s2 did not recover s1"; return 1; }
	lab s2 "dd if=$SAN/pat.A of=$SAN/E bs=${MB}M oflag=direct conv=notrunc status=none" ||
		{ echo "the retry on s2 failed"; return 1; }
	echo "s1 killed during the write; retried on s2 $(($(date +%s) - t0)) s later"
	test "$(lab s2 "dd if=$SAN/E bs=${MB}M iflag=direct status=none | sha256sum | cut -c1-64")" = "$SUM_A" ||
		{ echo "E is not A"; return 1; }
	sane s2
}
check_v "s1 killed during an extending write, retried on s2: file whole, no fs error" extend_kill

check "fsck.ocfs2 -fn clean after the node death (s2 unmounted, s1 dead)" bash -c "
	$(declare -f lab fsck_ocfs2); LABCMD=$(printf %q "$LABCMD")
	lab s2 'umount $SAN' && fsck_ocfs2 s2"

check "archip-lab start s1, s2 mounts again: both back" bash -c "
	$(printf '%q ' "$LABCMD") start s1 >/dev/null &&
	$(printf '%q ' "$LABCMD") mount s2 $OPTS >/dev/null &&
	$(printf '%q ' "$LABCMD") run s2 'test -s $SAN/del.sums'"

# ------------------------------------------------------------ mixed mounts
mixed() {
	lab s2 "umount $SAN" || return 1
	lab s2 "mount -t ocfs2 /dev/vda $SAN" 2>/dev/null &&
		{ echo "s2 mounted without noopenlocks next to s1 with it"; return 1; }
	lab s2 "dmesg | tail -n 20 | grep -q 'mounted with noopenlocks; all nodes must agree'" ||
		{ echo "no message naming the option"; return 1; }
	lab s1 "umount $SAN && mount -t ocfs2 /dev/vda $SAN" || return 1
	lab s2 "mount -t ocfs2 -o $OPTS /dev/vda $SAN" 2>/dev/null &&
		{ echo "s2 mounted with noopenlocks next to s1 without it"; return 1; }
	lab s2 "dmesg | tail -n 20 | grep -q 'mounted without noopenlocks; all nodes must agree'" ||
		{ echo "no message naming the option"; return 1; }
	lab s1 "umount $SAN && mount -t ocfs2 -o $OPTS /dev/vda $SAN" &&
		lab s2 "mount -t ocfs2 -o $OPTS /dev/vda $SAN" && sane s1 && sane s2
}
check_v "a mount without noopenlocks next to one with it is refused, and the reverse" mixed

check "s2 still reads the files it wrote into freed space, after the remounts" bash -c "
	$(printf '%q ' "$LABCMD") run s2 'cd $SAN && for t in del pun; do while read -r s f; do
		test \"\$(sha256sum <\$f | cut -c1-64)\" = \$s || exit 1; done <\$t.sums; done'"

check "fsck.ocfs2 -fn finds the filesystem clean at the end" bash -c "
	$(declare -f lab fsck_ocfs2); LABCMD=$(printf %q "$LABCMD")
	for n in s1 s2; do lab \$n 'umount $SAN' || exit 1; done
	fsck_ocfs2 s1"

check "no WARN, BUG, oops, lockdep report or hung task on any node" "$LABCMD" check

ktap_finish
