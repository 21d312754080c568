#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Images stored by content (archipctl volume import/export/du,
# Documentation/snapshots.rst "Images"): every check compares bytes by
# sha256 with the image file, and space by what the filesystem reports.
. "$(dirname "$0")/lib.sh"
use_lab
CTL="$B/archipctl"
MB=${IMG_MB:-256}	# the image: MB MiB and 3 sectors (IMG_MB=1024: the issue's 1 GiB)
# The SAN must hold the image once (its zeros and repeats are not stored).
# Twice the image and 1 GiB, and at least the lab's default 2 GiB (a lab of
# that size is reused from the test before).
SANG=$(( (MB * 2 + 1024 + 1023) / 1024 )); [ "$SANG" -ge 2 ] || SANG=2
export ARCHIP_SAN_SIZE=${ARCHIP_SAN_SIZE:-${SANG}G}
IMG=$(mktemp /tmp/archip-image.XXXXXX)
trap 'lab_exit; rm -f "$IMG"' EXIT
VIMG=/.host$IMG	# the lab's nodes see the host's /tmp there

ktap_plan 15

# The image, 4 MiB objects: every 8th (5th of 8) all zeros, every 8th (8th
# of 8) a repeat of object 0, the rest random; then 3 sectors more (a short
# last object).
python3 - "$IMG" "$MB" <<'EOF' || { echo "Bail out! cannot write the test image"; exit 1; }
import os, sys
f, n = open(sys.argv[1], "wb"), int(sys.argv[2]) // 4
first = os.urandom(4 << 20)
for i in range(n):
    f.write(first if i == 0 or i % 8 == 7 else bytes(4 << 20) if i % 8 == 5 else os.urandom(4 << 20))
f.write(os.urandom(1536))
EOF
SUM=$(sha256sum <"$IMG" | cut -c1-64)
NOBJ=$((MB / 4 + 1)) NZERO=$((MB / 4 / 8)) NREP=$((MB / 4 / 8))

# localalloc=0: no node keeps a window of clusters it counts as used, so
# the free space the filesystem reports is what the files occupy.
up_lab 1 noopenlocks,nowritelocks,localalloc=0

# free: bytes free on the SAN, as s1's filesystem counts them.
free() { lab s1 "sync; stat -f -c '%a * %S' $SAN" | bc; }
# json KEY: KEY's number in the JSON on stdin.
json() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }

import1() {
	local out
	out=$(lab s1 "$CTL --json volume import $VIMG img1 --server $S1") || { echo "$out"; return 1; }
	echo "$out"
	[ "$(json objects_zero <<<"$out")" = "$NZERO" ] &&
	[ "$(json objects_deduplicated <<<"$out")" = "$NREP" ] &&
	[ "$(json objects_stored <<<"$out")" = $((NOBJ - NZERO - NREP)) ] &&
	lab s1 "$CTL volume list --server $S2" | grep -q '^img1 .* image$'
}
check_v "import of a $MB MiB image: all-zero objects not stored, repeated ones stored once" import1

check_v "export to stdout: sha256-exact, every object checked against its digest" bash -c "
	$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
	a=\$(lab h1 'set -o pipefail; $CTL volume export img1 - --server $S2 2>/tmp/e | sha256sum | cut -c1-64 ||
		{ cat /tmp/e; exit 1; }') &&
	echo export \$a image $SUM && test \"\$a\" = $SUM"

check_v "mapped read-only on h1, the device reads the image bit-exact" bash -c "
	$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
	a=\$(lab h1 'set -o pipefail; d=\$($CTL map img1 --read-only --server $S1) &&
		test \$(blockdev --getsize64 \$d) = $(stat -c %s "$IMG") &&
		dd if=\$d bs=1M iflag=direct status=none | sha256sum | cut -c1-64; rc=\$?; $CTL unmap \$d >/dev/null; exit \$rc') &&
	echo device \$a image $SUM && test \"\$a\" = $SUM"

# The same image again, from a pipe: nothing new to store.  What it may
# take is metadata: an inode per object, and OCFS2 grows a node's inode
# allocator by a whole 4 MiB group at a time (measured: 4.0 MiB for 256
# and 512 MiB images, 8.0 MiB for 1 GiB), so the bound is 1 % of the image
# plus one such group (objects copied instead of shared, 228 MiB at the
# suite's 256 MiB, exceed it by far).
import2() {
	local before after out
	before=$(free) || return 1
	out=$(lab h1 "set -o pipefail; cat $VIMG | $CTL --json volume import - img2 --server $S2") ||
		{ echo "$out"; return 1; }
	after=$(free) || return 1
	echo "$out"
	echo "the second import took $(( (before - after) >> 10 )) KiB of the SAN" \
	     "($(echo "scale=3; 100 * ($before - $after) / $(stat -c %s "$IMG")" | bc) % of the image)"
	[ "$(json objects_stored <<<"$out")" = 0 ] &&
	[ "$(json objects_deduplicated <<<"$out")" = $((NOBJ - NZERO)) ] &&
	[ $(( (before - after) * 100 )) -le $(( $(stat -c %s "$IMG") + (4 << 20) * 100 )) ]
}
check_v "the same image imported again (from stdin) stores nothing new: at most 1 % of its size + 4 MiB" import2

# A 64 MiB image cut from the first: all its objects are stored already;
# exported to a file, its two all-zero objects are holes.
small() {
	local out a
	out=$(lab h1 "set -o pipefail; head -c 64M $VIMG | $CTL --json volume import - small --server $S1") ||
		{ echo "$out"; return 1; }
	echo "$out"
	[ "$(json objects_stored <<<"$out")" = 0 ] && [ "$(json objects_deduplicated <<<"$out")" = 14 ] || return 1
	out=$(lab s2 "$CTL volume export small /tmp/out.raw --server $S2 2>/tmp/e || { cat /tmp/e; exit 1; }
		sha256sum </tmp/out.raw | cut -c1-64 &&
		du -k /tmp/out.raw | cut -f1 && rm /tmp/out.raw") || { echo "$out"; return 1; }
	a=$(head -c 64M "$IMG" | sha256sum | cut -c1-64)
	echo "$out (expected $a)"
	[ "$(head -n1 <<<"$out")" = "$a" ] && [ "$(sed -n 2p <<<"$out")" -le $((56 * 1024 + 64)) ] &&
	lab s1 "$CTL volume remove small --server $S1"
}
check_v "an image of objects all stored already; exported to a file: sha256-exact, zeros left as holes" small

du_images() {
	local out
	out=$(lab s1 "$CTL volume du --server $S1") || { echo "$out"; return 1; }
	echo "$out"
	# Every stored object of either image is shared with the other.
	lab s1 "$CTL --json volume du img2 --server $S1" | python3 -c '
import json, sys
v = json.load(sys.stdin)["volumes"][0]
sys.exit(not (v["kind"] == "image" and v["shared"] > 0 and v["shared"] * 100 >= v["used"] * 95))'
}
check_v "volume du: both images' objects shown as shared" du_images

# Clones of an image: a header each; writes to one change neither the
# image nor another clone.
clones() {
	local before after
	before=$(free) || return 1
	lab h1 "for i in \$(seq 1 20); do $CTL volume clone img1 c\$i --server $S1 >/dev/null || exit 1; done" || return 1
	after=$(free) || return 1
	echo "20 clones of the image took $(( (before - after) >> 10 )) KiB of the SAN"
	[ $((before - after)) -lt $((20 << 20)) ] &&
	# The first 16 MiB (objects 0-3) of c1, c2 and the image, read on h1.
	lab h1 "set -o pipefail
		h16() { local d; d=\$($CTL map \$1 --read-only --server $S1) &&
			dd if=\$d bs=1M count=16 iflag=direct status=none | sha256sum | cut -c1-64; $CTL unmap \$d >/dev/null; }
		d=\$($CTL map c1 --server $S1) && head -c 8M /dev/urandom >/tmp/w &&
		dd if=/tmp/w of=\$d bs=1M seek=2 oflag=direct conv=notrunc status=none && $CTL unmap \$d >/dev/null &&
		e=\$({ head -c 2M $VIMG; cat /tmp/w; head -c 16M $VIMG | tail -c +\$((10 * 1024 * 1024 + 1)); } | sha256sum | cut -c1-64) &&
		f=\$(head -c 16M $VIMG | sha256sum | cut -c1-64) &&
		a=\$(h16 c1) && b=\$(h16 c2) && c=\$(h16 img1) &&
		echo c1 \$a expected \$e, c2 \$b img1 \$c expected \$f && rm /tmp/w &&
		test \$a = \$e && test \$b = \$f && test \$c = \$f"
}
check_v "20 clones of the image use less than 20 MiB; a written clone changes neither the image nor its siblings" clones

# What the copy-up of a clone's first 4 KiB write into a 4 MiB object
# costs the SAN (COPY is a reflink: the rest stays shared).
cow_cost() {
	local before after
	lab h1 "$CTL map c3 --server $S1 >/dev/null" || return 1
	before=$(free) || return 1
	lab h1 "head -c 4096 /dev/urandom | dd of=/dev/archip/c3 bs=4k seek=$((16 * 1024 / 4 + 3)) oflag=direct,dsync status=none" ||
		return 1
	after=$(free) || return 1
	lab h1 "$CTL unmap c3" || return 1
	echo "a 4 KiB write into an object of a clone took $(( (before - after) >> 10 )) KiB of the SAN"
	[ $((before - after)) -lt $((4 << 20)) ]
}
check_v "a clone's first 4 KiB write into a 4 MiB object allocates less than the object" cow_cost

remove_images() {
	local n
	out=$(lab s1 "$CTL volume remove img1 --server $S1" 2>&1); echo "$out"
	grep -q 'c1, c10' <<<"$out" || return 1
	lab s1 "for i in \$(seq 1 20); do $CTL volume remove c\$i --server $S1 >/dev/null || exit 1; done" &&
	lab s1 "$CTL volume remove img1 --server $S2" || return 1
	n=$(lab s1 "find $STORE -name 'h.*' | wc -l")
	echo "content objects after removing img1: $n"
	[ "$n" = $((NOBJ - NZERO - NREP)) ] &&
	lab s1 "$CTL volume remove img2 --server $S1" || return 1
	n=$(lab s1 "find $STORE -name 'h.*' -o -name 'd.*' -o -name 'i.*' | wc -l")
	echo "objects after removing img2: $n"
	[ "$n" = 0 ] && lab h1 "set -o pipefail; $CTL volume export img2 - --server $S1 | wc -c" 2>&1 |
		grep -q 'does not exist'
}
check_v "an image with clones is not removed; removing the last image holding a content removes it" remove_images

# An import killed half way: listed incomplete, not mappable, and
# "volume remove" takes everything it stored.
cut_import() {
	local out n
	lab h1 "( $CTL volume import $VIMG cut --server $S1 >/dev/null 2>&1 & echo \$! >/tmp/imp.pid )
		for i in \$(seq 600); do
			o=\$($CTL --json volume info cut --server $S1 2>/dev/null | sed -E 's/.*\"object_set\":\"([0-9a-f]+)\".*/\1/')
			test -n \"\$o\" && $B/archip-obj -s $S1 stat d.\$o.0000000000000007 | grep -q exists=1 && break
			sleep 0.2
		done
		kill -9 \$(cat /tmp/imp.pid); test -n \"\$o\" && echo killed the import after object 7 of set \$o" ||
		return 1
	lab s1 "$CTL volume list --server $S1" | grep '^cut ' | tee /dev/stderr | grep -q 'image (incomplete)' || return 1
	out=$(lab h1 "$CTL map cut --read-only --server $S1" 2>&1); echo "$out"
	grep -q 'cut short' <<<"$out" || return 1
	lab s1 "$CTL volume remove cut --server $S1" || return 1
	n=$(lab s1 "find $STORE -name 'h.*' -o -name 'd.*' -o -name 'i.*' -o -name 'm.*' | wc -l")
	echo "objects after removing it: $n"
	[ "$n" = 0 ]
}
check_v "an import killed half way: listed incomplete, not mappable, removed with all it stored" cut_import

# Hostile storage (issue 21): headers, maps, manifests, data objects and
# snapshot requests corrupted on the store (bit flips, truncation, absurd
# sizes, names and depths, cycles), one kind at a time on fresh volumes:
# archipctl and the driver refuse what they cannot use, naming the volume
# and what is wrong, under a 1 GiB address-space limit and 30 s per
# command; list and du go on with the healthy volumes.  The console check
# at the end catches a kernel oops.  The suite runs 11 of the 37 kinds
# (hostile_storage.py's CI_KINDS, ~2 min); ARCHIP_HOSTILE_ALL=1 all (~9).
hostile() {
	LAB_TIMEOUT=1500 lab h1 "python3 $SELFTESTS/hostile_storage.py --ctl $CTL --obj $B/archip-obj \
		--server $S1 $([ -n "${ARCHIP_HOSTILE_ALL:-}" ] || echo --ci)"
}
check_v "hostile storage: corrupted volume objects refused with a clear error, no crash, hang or unbounded allocation" hostile

check "fsck.ocfs2 -fn finds the filesystem clean" fsck_clean

check "no WARN, BUG, oops, lockdep/KASAN report or hung task on any node" "$LABCMD" check

ktap_finish
