#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel object server (archip_srv) on two storage nodes sharing the
# OCFS2 SAN, driven from the hypervisor node with archip-obj (the protocol
# client) and managed with archipctl.
. "$(dirname "$0")/lib.sh"
use_lab

ktap_plan 31

if ! out=$("$LABCMD" up $LAB_REUSE -s 2 -H 1 -o noopenlocks,nowritelocks 2>&1); then
	ktap_fail "lab up: 2 storage nodes with OCFS2 (noopenlocks,nowritelocks) + 1 hypervisor"
	ktap_diag <<<"$out"
	exit 1
fi
ktap_pass "lab up: 2 storage nodes with OCFS2 (noopenlocks,nowritelocks) + 1 hypervisor"

start_server() { lab "$1" "modprobe archip_srv && mkdir -p $STORE && $B/archipctl server start --root $STORE"; }
check "archipctl server start on s1 and s2" bash -c "
	$(declare -f lab start_server); LABCMD=$(printf %q "$LABCMD") B=$B STORE=$STORE
	start_server s1 && start_server s2"

# -------------------------------------------------------- user errors
check "not root: exit 4, says to rerun with sudo" expect_err s1 4 "rerun with sudo" \
	"su nobody -s /bin/sh -c '$B/archipctl server status'"
check "root not on OCFS2: says to mount the SAN first" expect_err s1 1 "mount the SAN first" \
	"$B/archipctl server start --root /tmp --listen 0.0.0.0:7999"
check "second start: says a server is already running" expect_err s1 1 "already running" \
	"$B/archipctl server start --root $STORE"
check "port in use: says so and how to pick another" expect_err s1 1 "port is already in use: pick another" \
	"$B/archipctl server stop && { python3 -c 'import socket,time; s=socket.socket(); s.bind((\"0.0.0.0\", 7890)); s.listen(); open(\"/tmp/bound\", \"w\"); time.sleep(20)' & }
	 while [ ! -e /tmp/bound ]; do sleep 0.2; done
	 $B/archipctl server start --root $STORE; rc=\$?; kill %1; wait; exit \$rc"
check "restart after the port is free again" lab s1 "sleep 1; $B/archipctl server start --root $STORE"
check "stop when none runs: exit 3, says so" expect_err s2 3 "no server is running" \
	"$B/archipctl server stop && $B/archipctl server stop"
check "start again on s2" lab s2 "$B/archipctl server start --root $STORE"

# ----------------------------------------------------- authentication
# Documentation/security.rst: a server needs the cluster key, or
# --insecure (which warns, and status says so).
check "no key file: start refused (exit 4, names the fix); --insecure starts, warns; status says NONE; clients with a key refuse it" lab s1 "
	$B/archipctl server stop || exit 1
	out=\$(ARCHIP_KEY_FILE=/nonexistent $B/archipctl server start --root $STORE 2>&1); rc=\$?; echo \"\$out\"
	test \$rc = 4 && echo \"\$out\" | grep -q 'archipctl key generate makes one' || exit 1
	out=\$($B/archipctl --insecure server start --root $STORE 2>&1) || exit 1; echo \"\$out\"
	echo \"\$out\" | grep -q 'warning: --insecure' && dmesg | grep -q 'WITHOUT authentication' &&
	$B/archipctl server status | grep -q 'authentication: NONE' || exit 1
	out=\$($B/archip-obj -s 127.0.0.1 stat x 2>&1); rc=\$?; echo \"\$out\"
	test \$rc = 1 && echo \"\$out\" | grep -q 'runs --insecure' || exit 1
	ARCHIP_KEY_FILE= $B/archip-obj -s 127.0.0.1 stat x >/dev/null || exit 1
	$B/archipctl server stop && $B/archipctl server start --root $STORE &&
	id=\$($B/archipctl key id) && $B/archipctl server status | grep -q \"authentication: key \$id\""
strangers_refused() {
	lab h1 "out=\$(ARCHIP_KEY_FILE= $B/archip-obj -s $S1 stat x 2>&1); echo \"\$out\"
		echo \"\$out\" | grep -q 'needs the cluster key' || exit 1
		(umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \\n' >/tmp/other.key)
		out=\$(ARCHIP_KEY_FILE=/tmp/other.key $B/archip-obj -s $S1 stat x 2>&1); echo \"\$out\"
		echo \"\$out\" | grep -q 'a different cluster key' || exit 1
		out=\$($B/archipctl --key-file /tmp/other.key volume list --server $S1 2>&1); echo \"\$out\"
		echo \"\$out\" | grep -q 'different cluster key'" || return 1
	lab s1 "dmesg | grep -q 'refused: this server needs the cluster key' &&
		dmesg | grep -q \"refused: the client's key is not this server's\""
}
check "a client without the key, or with another: refused with the reason on both sides" strangers_refused

# ------------------------------------------------------------- layout
# The directory a key hashes to (Documentation/protocol.rst, "Storage
# layout"): FNV-1a modulo 256, two hex digits.
hash_dir() {
	python3 -c 'import sys
h = 2166136261
for c in sys.argv[1].encode(): h = ((h ^ c) * 16777619) & 0xffffffff
print("%02x" % (h % 256))' "$1"
}
layout_2() {
	local n want names="d.lv.0000000000000000 d.lv.0000000000000001 d.lv.00000000000000ff"
	names+=" d.lv.0000000000000100 d.lv.0000000000001f00 h.00ab v.lv m.lv"
	lab h1 "head -c 8192 /dev/urandom >/tmp/l &&
		for n in $names; do $B/archip-obj -s $S1 -l lv.test put \$n 0 </tmp/l || exit 1; done" || return 1
	lab s2 "test -d $STORE/layout.2" || { echo "no $STORE/layout.2"; return 1; }
	for n in $names; do
		case $n in d.*) want=$(hash_dir "${n%??}") ;; *) want=$(hash_dir "$n") ;; esac
		lab s2 "test -f $STORE/$want/$n" || { echo "$n is not in $want/"; return 1; }
	done
	n=$(lab s2 "ls -d $STORE/*/d.lv.00000000000000?? | xargs -n1 dirname | sort -u | wc -l")
	[ "$n" = 1 ] || { echo "objects 0, 1 and ff of one set in $n directories"; return 1; }
	lab h1 "for n in $names; do
		test \"\$($B/archip-obj -s $S2 get \$n 0 8192 | sha256sum)\" = \"\$(sha256sum </tmp/l)\" || exit 1
		$B/archip-obj -s $S2 -l lv.test rm \$n || exit 1; done"
}
layout_1() {
	local old=$SAN/store-v1 n=d.lv.0000000000000001
	lab s2 "$B/archipctl server stop && mkdir -p $old &&
		for i in \$(seq 0 255); do mkdir -p $old/\$(printf %02x \$i); done &&
		$B/archipctl server start --root $old" || return 1
	local rc=0
	lab h1 "head -c 4096 /dev/urandom >/tmp/l1 && $B/archip-obj -s $S2 -l lv.test put $n 0 </tmp/l1 &&
		test \"\$($B/archip-obj -s $S2 get $n 0 4096 | sha256sum)\" = \"\$(sha256sum </tmp/l1)\"" || rc=1
	[ $rc = 1 ] || lab s2 "test ! -e $old/layout.2 && test -f $old/$(hash_dir $n)/$n &&
		dmesg | grep -q 'serving $old (store layout 1)'" || { echo "$n not in $(hash_dir $n)/ of a layout 1 store"; rc=1; }
	# Back on the cluster's store whatever happened: the checks after use it.
	lab s2 "$B/archipctl server stop && rm -rf $old && $B/archipctl server start --root $STORE" || rc=1
	return $rc
}
# Two servers started at once on a fresh store: both must pick layout 2
# (a node that looked for the marker first could find no marker, then the
# object directories the other node had just made, and pick layout 1).
# fault_layout_ms holds one of them between its two lookups, a different
# time each try, so the other makes the store meanwhile.  Each try costs
# about 30 s here (two nodes making 257 directories in one, taking its
# lock from each other), so the suite makes 2; ARCHIP_LAYOUT_TRIES=20 (the
# issue's count: 20 of 20 agreed, 9.7 min, 2026-12-02) makes more.
LAYOUT_TRIES=${ARCHIP_LAYOUT_TRIES:-2}
layout_race() {
	local i d p=/sys/module/archip_srv/parameters n bad=0
	for i in $(seq 1 "$LAYOUT_TRIES"); do
		d=$((i * 397 % 1500))
		n=$([ $((i % 2)) = 0 ] && echo s1 || echo s2)
		lab s1 "$B/archipctl server stop; mkdir -p $SAN/race$i" >/dev/null &&
			lab s2 "$B/archipctl server stop" >/dev/null &&
			lab $n "echo $d >$p/fault_layout_ms" || return 1
		lab s1 "$B/archipctl server start --root $SAN/race$i" >/dev/null & p1=$!
		lab s2 "$B/archipctl server start --root $SAN/race$i" >/dev/null || bad=1
		wait $p1 || bad=1
		lab $n "echo 0 >$p/fault_layout_ms" || return 1
		[ $bad = 0 ] || { echo "try $i: a server did not start"; return 1; }
		for m in s1 s2; do
			lab $m "dmesg | grep -q 'serving $SAN/race$i (store layout 2)'" ||
				{ echo "try $i ($n held $d ms): $m: $(lab $m "dmesg | grep 'serving $SAN/race$i'")"; return 1; }
		done
	done
	echo "$LAYOUT_TRIES tries, one node held 0-1500 ms between its lookups: both nodes chose layout 2 every time"
	lab s1 "$B/archipctl server stop; rm -rf $SAN/race*; $B/archipctl server start --root $STORE" &&
		lab s2 "$B/archipctl server stop; $B/archipctl server start --root $STORE"
}
check_v "two servers started at once on a fresh store agree on its layout ($LAYOUT_TRIES tries)" layout_race

check "layout 2: a data object's directory is the hash of its name less two index digits (256 objects of a set share one); others by name" layout_2
check "a store made before layout 2 (no layout.2 marker) keeps placing objects by name" layout_1

# -------------------------------------------------------------- data
check "3 MB object written through s1 reads back bit-exact through s2" lab h1 "
	head -c 3000001 /dev/urandom >/tmp/a && $B/archip-obj -s $S1 put a1 12345 </tmp/a &&
	test \"\$($B/archip-obj -s $S2 get a1 12345 3000001 | sha256sum)\" = \"\$(sha256sum </tmp/a)\" &&
	test \"\$($B/archip-obj -s $S2 get a1 0 12345 | tr -d '\\0' | wc -c)\" = 0"
check "missing object: STAT says absent, READ gives zeros" lab h1 "
	$B/archip-obj -s $S2 stat nothere | grep -qx 'exists=0 size=0 allocated=0' &&
	test \"\$($B/archip-obj -s $S1 get nothere 4096 65536 | tr -d '\\0' | wc -c)\" = 0"
check "COPY is a new, independent object; DELETE removes; DISCARD punches" lab h1 "
	$B/archip-obj -s $S1 copy a1 a2 || exit 1
	head -c 8192 /dev/zero | tr '\\0' x | $B/archip-obj -s $S1 put a1 12345 || exit 1
	test \"\$($B/archip-obj -s $S2 get a2 12345 3000001 | sha256sum)\" = \"\$(sha256sum </tmp/a)\" || exit 1
	! $B/archip-obj -s $S2 copy a1 a2 2>/dev/null || exit 1
	$B/archip-obj -s $S2 rm a1 && $B/archip-obj -s $S1 stat a1 | grep -q exists=0 || exit 1
	before=\$($B/archip-obj -s $S1 stat a2 | sed 's/.*allocated=//')
	$B/archip-obj -s $S2 discard a2 1048576 1048576 || exit 1
	after=\$($B/archip-obj -s $S1 stat a2 | sed 's/.*allocated=//')
	echo allocated \$before -> \$after
	test \$((before - after)) -ge 1000000 &&
	test \"\$($B/archip-obj -s $S1 get a2 1048576 1048576 | tr -d '\\0' | wc -c)\" = 0"
check "object deleted via s2: s1 reads zeros at once, and its next write makes a new object" lab h1 "
	head -c 65536 /dev/urandom >/tmp/c && $B/archip-obj -s $S1 put c1 0 </tmp/c || exit 1
	test \"\$($B/archip-obj -s $S1 get c1 0 65536 | sha256sum)\" = \"\$(sha256sum </tmp/c)\" || exit 1
	$B/archip-obj -s $S2 rm c1 || exit 1
	test \"\$($B/archip-obj -s $S1 get c1 0 65536 | tr -d '\\0' | wc -c)\" = 0 || exit 1
	head -c 4096 /dev/urandom >/tmp/d && $B/archip-obj -s $S1 put c1 8192 </tmp/d || exit 1
	test \"\$($B/archip-obj -s $S2 get c1 8192 4096 | sha256sum)\" = \"\$(sha256sum </tmp/d)\" || exit 1
	test \"\$($B/archip-obj -s $S2 get c1 0 8192 | tr -d '\\0' | wc -c)\" = 0 || exit 1
	$B/archip-obj -s $S1 rm c1 && $B/archip-obj -s $S1 stat c1 | grep -q exists=0 &&
	test \"\$($B/archip-obj -s $S1 get c1 8192 4096 | tr -d '\\0' | wc -c)\" = 0"
check "8 connections through both nodes, pipelined reads/writes, match a reference" lab h1 "
	$B/archip-obj -s $S1 mix 4 400 11 & p=\$!
	$B/archip-obj -s $S2 mix 4 400 22 || exit 1
	wait \$p"

# ------------------------------------------------------------- locks
check "two clients on s1 and s2 contend for one volume lock: exactly one wins" lab h1 "
	$B/archip-obj -s $S1 lock vol1 6 >/tmp/l1 2>&1 & p=\$!
	$B/archip-obj -s $S2 lock vol1 6 >/tmp/l2 2>&1
	wait \$p; cat /tmp/l1 /tmp/l2
	test \$(cat /tmp/l1 /tmp/l2 | grep -c '^acquired') = 1 && test \$(cat /tmp/l1 /tmp/l2 | grep -c '^busy') = 1"
# A create that loses the race to another node's gets -EEXIST from OCFS2
# though O_CREAT came without O_EXCL: the server opens the name again
# (archip_store_create_open()).  Without that, the contention check above
# failed one CI run with "acquire: File exists".
check_v "s1 and s2 create 100 new objects and 100 new lock files at once: no error, data exact" lab h1 "
	python3 $SELFTESTS/createrace.py $S1 $S2 7890 100 \$RANDOM"
check "the lock is freed when its holder's connection dies" lab h1 "
	$B/archip-obj -s $S1 lock vol2 300 >/tmp/l3 2>&1 & p=\$!
	while ! grep -q acquired /tmp/l3; do sleep 0.2; done
	$B/archip-obj -s $S2 lock vol2 0 | grep -q busy || exit 1
	kill -9 \$p
	for i in \$(seq 50); do $B/archip-obj -s $S2 lock vol2 0 && exit 0; sleep 0.2; done; exit 1"

# ------------------------------------------------------ bad input
# 100,000 frames (ARCHIP_FUZZ_FRAMES): every refusal rule hundreds of
# times, half the streams with digests, tens of thousands of well-framed
# requests answered by the rules (fencing's among them), 1,000 hostile
# hellos; the checked client beside them.  The seed is new each run and
# printed: "archip-obj -s HOST fuzz FRAMES SEED" makes the same frames.
FUZZ_FRAMES=${ARCHIP_FUZZ_FRAMES:-100000}
check_v "fuzzing: $FUZZ_FRAMES hostile frames and hellos; each well-framed one answered by the rules, each refused one closes; a busy client and a checked one carry on" lab h1 "
	seed=$(date +%s); echo seed \$seed
	$B/archip-obj -s $S1 mix 2 600 33 & p=\$!
	$B/archip-obj -s $S1 fuzz $FUZZ_FRAMES \$seed || exit 1
	wait \$p || exit 1
	$B/archip-obj -s $S1 stat a2 | grep -q exists=1"

check "the server does what protocol.rst says: each validation rule closes, each op answers as documented (protocheck.py)" lab h1 "
	python3 $SELFTESTS/protocheck.py $S1 7890"

check_v "300 BINDs waiting for a slot hold no worker: a good client's READs keep their latency" lab h1 "
	head -c 4096 /dev/urandom | $B/archip-obj -s $S1 put flood.obj 0 &&
	python3 $SELFTESTS/bindflood.py $S1 7890 vol.flood flood.obj 300 60000 1000"

check "status --json lists connections and per-op counters" lab s1 "
	$B/archip-obj -s $S1 lock vol3 30 >/dev/null & sleep 3
	j=\$($B/archipctl --json server status); echo \"\$j\"; kill %1
	echo \"\$j\" | grep -q '\"running\":true' && echo \"\$j\" | grep -q '\"locks\":1' &&
	echo \"\$j\" | grep -Eq '\"write\":\\{\"count\":[1-9]'"

check "stop with clients connected: clean, clients disconnected, start again" lab s1 "
	$B/archip-obj -s $S1 lock vol4 60 >/tmp/l4 2>&1 & p=\$!
	$B/archip-obj -s $S1 bench write 65536 8 60 >/tmp/b4 2>&1 & q=\$!
	for i in \$(seq 100); do grep -q '^acquired' /tmp/l4 && break; sleep 0.1; done
	test \$(ss -Htn state established '( dport = :7890 )' | wc -l) -ge 2 || { echo 'clients not connected'; exit 1; }
	$B/archipctl server stop || exit 1
	# The busy client fails at once with a lost connection; the idle
	# one's socket was closed by the server (CLOSE-WAIT on its side).
	wait \$q; b=\$?; echo bench exit \$b; cat /tmp/b4
	test \$b = 1 && grep -Eq 'connection lost|send failed' /tmp/b4 || exit 1
	ss -Htn state close-wait '( dport = :7890 )' | grep -q . || { echo 'idle client not disconnected'; exit 1; }
	kill \$p; wait \$p
	$B/archipctl server start --root $STORE &&
	test \"\$($B/archipctl --json server status | grep -o '\"connections\":\\[\\]')\" != ''"

many_conns() {
	lab s1 "$B/archipctl server stop && $B/archipctl server start --root $STORE --max-conns 600" || return 1
	out=$(lab h1 "python3 $SELFTESTS/conns.py $S1 7890 610") || return 1
	echo "from h1: $out"
	lab s1 "$B/archipctl server stop && $B/archipctl server start --root $STORE" || return 1
	[ "$out" = "600 accepted 10 busy 0 other" ]
}
check "600 connections at once from one hypervisor are served; past --max-conns a clean busy" many_conns

check "rmmod with a running server and a connected client" lab s1 "
	$B/archip-obj -s $S1 lock vol5 60 >/tmp/l5 2>&1 & p=\$!
	for i in \$(seq 100); do grep -q '^acquired' /tmp/l5 && break; sleep 0.1; done
	grep -q '^acquired' /tmp/l5 || { echo 'the client never got its lock'; exit 1; }
	rmmod archip_srv || exit 1
	# The server closed the client's connection on its way out.
	ss -Htn state close-wait '( dport = :7890 )' | grep -q . || { echo 'client not disconnected'; exit 1; }
	kill \$p; wait \$p
	! lsmod | grep -q archip_srv && modprobe archip_srv && $B/archipctl server start --root $STORE"

# ------------------------------------------------------- durability
# New objects (allocating writes: the extent and size changes live in the
# journal until it commits) written with FUA through s1; s1 is killed at
# once.  After s2 has recovered s1's journal, and after s1 is back, every
# acknowledged byte is there.
check "FUA writes survive killing the storage node right after the ack" bash -c "
	$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
	lab h1 'rm -rf /tmp/fua && mkdir /tmp/fua && for i in \$(seq 12); do
		head -c \$((i * 33333 + 4096)) /dev/urandom >/tmp/fua/\$i &&
		$B/archip-obj -s $S1 put fua\$i 8192 --fua </tmp/fua/\$i || exit 1; done' || exit 1
	\"\$LABCMD\" kill s1
	verify() { lab h1 \"for i in \\\$(seq 12); do
		test \\\"\\\$($B/archip-obj -s \$1 get fua\\\$i 8192 \\\$(stat -c %s /tmp/fua/\\\$i) | sha256sum)\\\" = \\\"\\\$(sha256sum </tmp/fua/\\\$i)\\\" || exit 1; done\"; }
	ok=0
	for t in \$(seq 60); do verify $S2 >/dev/null 2>&1 && { ok=1; break; }; sleep 3; done
	[ \$ok = 1 ] || { echo 's2 never served the data'; exit 1; }
	echo \"s2 serves all 12 objects after recovering s1's journal\"
	\"\$LABCMD\" start s1 && lab s1 'grep -q \" /mnt/san ocfs2 .*noopenlocks\" /proc/mounts' &&
	lab s1 'modprobe archip_srv && $B/archipctl server start --root $STORE' && verify $S1 &&
	echo 's1 is back and serves them too'"

check "no WARN, BUG, oops or panic on any node (panic_on_warn=1)" "$LABCMD" check

ktap_finish
