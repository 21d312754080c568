#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The thesis' Ch. 8 matrix: fio randread/randwrite, bs 4k/64k/1M, iodepth
# 1/16/32, direct I/O, side by side in one run, on:
#
#   archip    /dev/archipN on h1, volume served by archip_srv on s1, with
#             its crc32c digests (the default)
#   nvme      NVMe/TCP with header and data digests (crc32c, as archip):
#             nvmet-tcp on s1 exporting a file on the same OCFS2, connected
#             from h1 by the kernel's nvme-tcp host
#   nvmeplain NVMe/TCP without digests (a second subsystem and file)
#   krbd      the kernel's RBD client on h1, Debian's Ceph (16.2) on s1: one
#             monitor, one OSD whose BlueStore block is a file on the same
#             OCFS2, one replica, crc32c on (bench/ceph-up.sh)
#   nbd       NBD: qemu-nbd on s1 exporting a file on the same OCFS2
#             (direct I/O), connected from h1 by nbd-client
#   local     fio on s1, direct I/O on a file on the OCFS2 mount (the limit)
#   nodigest  archip mapped --no-digest (a second volume): the gap to
#             "archip" is what the digests cost
#   nobatch   archip with the driver's batch_sends=N: each request sent on
#             its own, no MSG_MORE between frames (what batching buys)
#   volatile  (writes only) archip with the server's sync_writes=N: writes
#             answered before they are stable, which archip never does; the
#             gap to "archip" is what durability (an fdatasync per write) costs
#
# Every target is 256 MiB and written fully first (unwritten extents would
# read as zeros for free).  OPS may add "firstwrite": randwrite at iodepth
# FW_QD (16) on a fresh, never written target of each system per round and
# block size (a new archip volume, a new sparse file behind a new NVMe
# namespace, a new NBD export, a new local file): what a new VM disk costs.
#
# Rounds interleave: each round runs every cell of every target once, the
# order of the cells and of the targets rotated from round to round, so a
# slow spell of the emulator or a warm cache favours none of them.  Each
# cell also takes the CPU time of both nodes (bench/fio-cell.sh), per I/O.
# bench/block-report.awk prints the tables: medians over the rounds, and
# archip's ratio to each system per round, as median [min-max].
# Never gates anything.
# PROFILE="archip nvme ..." then runs PROFILE_CELLS (default "randread 4k 16,
# randwrite 4k 16") once more for each of those targets with perf sampling
# both nodes, and prints where their CPU time went (not in the tables).
# Environment: SECS per run (default 5), BS, DEPTHS, OPS, TARGETS to narrow
# the matrix, ROUNDS (default 3), FW_QD, RAW=FILE to keep the per-round
# results, PROFILE, PROFILE_CELLS, ARCHIP_LAB (default .cache/lab-bench).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
BS=${BS:-"4k 64k 1M"}
DEPTHS=${DEPTHS:-"1 16 32"}
OPS=${OPS:-"randread randwrite firstwrite"}
TARGETS=${TARGETS:-"archip nvme nvmeplain krbd nbd local volatile"}
ROUNDS=${ROUNDS:-3}
FW_QD=${FW_QD:-16}
NQN=nqn.2026-11.org.archip:bench	# with digests on the host's side
NQNP=nqn.2026-11.org.archip:plain	# without
SIZE=256M
CELL="bash $REPO/bench/fio-cell.sh"
has() { [[ " $TARGETS " = *" $1 "* ]]; }
NVME='' NVMEP='' KRBD=''	# their devices on h1

if has krbd && ! command -v ceph-osd >/dev/null; then
	echo "bench: installing Debian's Ceph for the krbd target" >&2
	apt-get install -y -q --no-install-recommends ceph-mon ceph-osd ceph-common >&2
fi
echo "bench: booting s1 + h1" >&2
# 1 GiB nodes: s1 serves every target at once (the OSD caches 128 MiB);
# a 6 GiB SAN: seven 256 MiB targets, the OSD's file, the fresh ones
export ARCHIP_SAN_SIZE=${ARCHIP_SAN_SIZE:-6G}
"$LABCMD" up -s 1 -H 1 -o noopenlocks,nowritelocks --mem "${LAB_MEM:-1024}" >&2

# nvmet_subsys NQN FILE: a subsystem with namespace 1 backed by FILE,
# on TCP port 4420 of s1 (made once).
nvmet_subsys() {
	on s1 "modprobe -a nvmet nvmet_tcp && cd /sys/kernel/config/nvmet &&
	mkdir subsystems/$1 && echo 1 >subsystems/$1/attr_allow_any_host &&
	mkdir subsystems/$1/namespaces/1 &&
	echo $2 >subsystems/$1/namespaces/1/device_path &&
	echo 0 >subsystems/$1/namespaces/1/buffered_io &&
	echo 1 >subsystems/$1/namespaces/1/enable &&
	if [ ! -d ports/1 ]; then
		mkdir ports/1 && echo tcp >ports/1/addr_trtype && echo ipv4 >ports/1/addr_adrfam &&
		echo $S1 >ports/1/addr_traddr && echo 4420 >ports/1/addr_trsvcid
	fi &&
	ln -s /sys/kernel/config/nvmet/subsystems/$1 ports/1/subsystems/$1" >&2
}

echo "bench: targets: $TARGETS (all $SIZE, preconditioned)" >&2
on s1 "modprobe archip_srv && mkdir -p $SAN/store && $CTL server start --root $SAN/store >/dev/null" >&2
for t in nvme nvmeplain nbd local; do
	has $t || continue
	on s1 "dd if=/dev/urandom of=$SAN/$t.img bs=1M count=256 oflag=direct status=none" >&2
done
has nvme && nvmet_subsys $NQN $SAN/nvme.img
has nvmeplain && nvmet_subsys $NQNP $SAN/nvmeplain.img
has nbd && on s1 "qemu-nbd --fork --persistent --shared=8 -f raw --cache=none --aio=native \
		-b $S1 -p 10809 -x bench $SAN/nbd.img" >&2
on h1 "export ARCHIP_SERVER=$S1; modprobe archip_blk &&
	$CTL volume create bench --size $SIZE >/dev/null && $CTL map bench >/dev/null &&
	$CTL --json list | grep -q '\"volume\":\"bench\"[^}]*\"digest\":true' &&
	dd if=/dev/urandom of=/dev/archip/bench bs=1M count=256 oflag=direct status=none" >&2
has nodigest && on h1 "export ARCHIP_SERVER=$S1;
	$CTL volume create bench2 --size $SIZE >/dev/null && $CTL map bench2 --no-digest >/dev/null &&
	$CTL --json list | grep -q '\"volume\":\"bench2\"[^}]*\"digest\":false' &&
	dd if=/dev/urandom of=/dev/archip/bench2 bs=1M count=256 oflag=direct status=none" >&2
has nvme && on h1 "modprobe nvme_tcp &&
	echo 'transport=tcp,traddr=$S1,trsvcid=4420,nqn=$NQN,hdr_digest,data_digest' >/dev/nvme-fabrics" >&2
has nvmeplain && on h1 "modprobe nvme_tcp &&
	echo 'transport=tcp,traddr=$S1,trsvcid=4420,nqn=$NQNP' >/dev/nvme-fabrics" >&2
if has krbd; then
	on s1 "bash $REPO/bench/ceph-up.sh $S1 $SAN/krbd-osd.img" >&2
	KRBD=$(on h1 "bash $REPO/bench/ceph-up.sh client $S1 && modprobe rbd &&
		rbd create bench --size $SIZE && bash $REPO/bench/ceph-up.sh map bench" | tail -1)
	[[ $KRBD = /dev/rbd* ]] || { echo "bench: rbd map failed: $KRBD" >&2; exit 1; }
	on h1 "dd if=/dev/urandom of=$KRBD bs=1M count=256 oflag=direct status=none" >&2
fi
has nbd && on h1 "modprobe nbd nbds_max=32 && nbd-client $S1 10809 /dev/nbd0 -N bench -b 4096 -C 4 >/dev/null 2>&1" >&2
has nvme && NVME=$(on h1 "$CELL nvmedev $NQN 1")
has nvmeplain && NVMEP=$(on h1 "$CELL nvmedev $NQNP 1")
# fresh TARGET I: a never written target of TARGET, number I; prints
# "NODE DEVICE".  unfresh TARGET I removes it.
fresh() {
	local f=$SAN/fw-$1-$2.img
	case $1 in
	archip | volatile | nodigest | nobatch)	# a new volume, named after the target
		local o=''; [ "$1" = nodigest ] && o=--no-digest
		on h1 "export ARCHIP_SERVER=$S1; $CTL volume create fw-$1-$2 --size $SIZE >/dev/null &&
			$CTL map fw-$1-$2 $o >/dev/null" >&2
		echo "h1 /dev/archip/fw-$1-$2" ;;
	nvme | nvmeplain)
		local q=$NQN; [ "$1" = nvme ] || q=$NQNP
		on s1 "truncate -s $SIZE $f && d=/sys/kernel/config/nvmet/subsystems/$q/namespaces/$(($2 + 1)) &&
			mkdir \$d && echo $f >\$d/device_path && echo 0 >\$d/buffered_io &&
			echo 1 >\$d/enable" >&2
		echo "h1 $(on h1 "$CELL nvmedev $q $(($2 + 1))")" ;;
	nbd) on s1 "truncate -s $SIZE $f && qemu-nbd --fork --persistent --shared=8 -f raw \
			--cache=none --aio=native -b $S1 -p $((10810 + $2)) -x fw$2 \
			--pid-file /tmp/fw$2.pid $f" >&2
		on h1 "nbd-client $S1 $((10810 + $2)) /dev/nbd$(($2 + 1)) -N fw$2 -b 4096 -C 4 >/dev/null 2>&1" >&2
		echo "h1 /dev/nbd$(($2 + 1))" ;;
	local) on s1 "truncate -s $SIZE $f" >&2
		echo "s1 $f" ;;
	krbd) echo "h1 $(on h1 "rbd create fw$2 --size $SIZE && bash $REPO/bench/ceph-up.sh map fw$2" | tail -1)" ;;
	esac
}
unfresh() {
	local f=$SAN/fw-$1-$2.img
	case $1 in
	archip | volatile | nodigest | nobatch)
		on h1 "export ARCHIP_SERVER=$S1; $CTL unmap fw-$1-$2 && $CTL volume remove fw-$1-$2" ;;
	nvme | nvmeplain)
		local q=$NQN; [ "$1" = nvme ] || q=$NQNP
		on s1 "d=/sys/kernel/config/nvmet/subsystems/$q/namespaces/$(($2 + 1)) &&
			echo 0 >\$d/enable && rmdir \$d && rm $f" ;;
	nbd) on h1 "nbd-client -d /dev/nbd$(($2 + 1))"
		on s1 "kill \$(cat /tmp/fw$2.pid); rm $f" ;;
	local) on s1 "rm $f" ;;
	krbd) on h1 "rbd device unmap -o noudev fw$2 && rbd rm fw$2" ;;
	esac >/dev/null 2>&1 || echo "bench: could not remove fresh target $1 $2" >&2
}

# cell TARGET OP BS QD [I]: one fio run; prints "IOPS MB/s P99 IOS H_US S_US"
# (H_US, S_US: CPU microseconds per I/O on h1 and on s1).
cell() {
	local node=h1 dev fresh_i=${5:-} r w line rate fd
	case $1 in
	archip | volatile | nobatch) dev=/dev/archip/bench ;;
	nodigest) dev=/dev/archip/bench2 ;;
	nvme) dev=$NVME ;;
	nvmeplain) dev=$NVMEP ;;
	nbd) dev=/dev/nbd0 ;;
	krbd) dev=$KRBD ;;
	local) node=s1 dev=$SAN/local.img ;;
	esac
	if [ "$2" = firstwrite ]; then
		fd=$(fresh "$1" "$fresh_i") || return 1
		read -r node dev <<<"$fd"
	fi
	[ "$1" = volatile ] && on s1 "echo N >/sys/module/archip_srv/parameters/sync_writes"
	[ "$1" = nobatch ] && on h1 "echo N >/sys/module/archip_blk/parameters/batch_sends"
	# s1's CPU rate sampled inside the run (skipping its first second and
	# last half second); h1's (or s1's, for local) around fio itself
	w=$(awk -v s="$SECS" 'BEGIN { print s - 1.5 }')
	r=$(mktemp)
	on s1 "$CELL rate 1 $w" >"$r" &
	line=$(on "$node" "$CELL $dev $2 $3 $4 $SECS $SIZE") || line=''
	wait $! || true
	rate=$(cat "$r"); rm -f "$r"
	# the knobs back even when fio failed: the next cells must not inherit them
	[ "$1" = volatile ] && on s1 "echo Y >/sys/module/archip_srv/parameters/sync_writes"
	[ "$1" = nobatch ] && on h1 "echo Y >/sys/module/archip_blk/parameters/batch_sends"
	[ "$2" = firstwrite ] && unfresh "$1" "$fresh_i"
	[ -n "$line" ] || return 1
	awk -v node="$node" -v rate="${rate:-0}" '{
		iops = $1 > 0 ? $1 : 1
		h = node == "h1" ? $5 / ($4 ? $4 : 1) : 0
		printf "%s %s %s %s %.0f %.0f\n", $1, $2, $3, $4, h, rate / iops
	}' <<<"$line"
}

# The cells, each "OP BS QD"; firstwrite only at FW_QD.
cells=()
for op in $OPS; do
	for bs in $BS; do
		if [ "$op" = firstwrite ]; then
			cells+=("$op $bs $FW_QD")
		else
			for qd in $DEPTHS; do cells+=("$op $bs $qd"); done
		fi
	done
done
read -r -a tgts <<<"$TARGETS"
nc=${#cells[@]} nt=${#tgts[@]}
res=${RAW:-$(mktemp)}
: >"$res"
fw=0 failed=''
for round in $(seq "$ROUNDS"); do
	for ((i = 0; i < nc; i++)); do
		c=${cells[$(((i + (round - 1) * nc / ROUNDS) % nc))]}
		read -r op bs qd <<<"$c"
		[ "$op" = firstwrite ] && fw=$((fw + 1))
		for ((j = 0; j < nt; j++)); do
			t=${tgts[$(((j + round - 1) % nt))]}
			[ "$t" = volatile ] && [ "$op" = randread ] && continue
			if ! out=$(cell "$t" "$op" "$bs" "$qd" "$fw"); then
				# one failed cell costs that cell, not the run; the
				# report names it
				echo "bench: $t $op $bs qd$qd failed (round $round)" >&2
				failed+="  round $round: $t $op $bs qd$qd"$'\n'
				continue
			fi
			echo "$round $op $bs $qd $t $out" >>"$res"
		done
		echo "bench: round $round: $op bs=$bs qd=$qd done" >&2
	done
done
# Profiles: the cell again, perf on both nodes inside its run.
IFS=, read -r -a pcells <<<"${PROFILE_CELLS:-randread 4k 16,randwrite 4k 16}"
prof=$(mktemp)
for t in ${PROFILE:-}; do
	for c in "${pcells[@]}"; do
		read -r op bs qd <<<"$c"
		ps=$(mktemp) ph=$(mktemp)
		on s1 "$CELL perf 1 $((SECS - 2))" >"$ps" &
		on h1 "$CELL perf 1 $((SECS - 2))" >"$ph" &
		r=$(cell "$t" "$op" "$bs" "$qd" 0) || r=failed
		wait
		echo "== profile: $t $op $bs qd$qd ($r)"
		echo "-- s1 (storage node)"; cat "$ps"
		echo "-- h1 (hypervisor)"; cat "$ph"
		rm -f "$ps" "$ph"
	done
done >"$prof"
on h1 "$CTL unmap bench; $CTL unmap bench2; nbd-client -d /dev/nbd0; rbd device unmap -o noudev bench;
	for c in /sys/class/nvme/nvme*; do echo 1 >\$c/delete_controller; done" >/dev/null 2>&1 || true
"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning" >&2

awk -v rounds="$ROUNDS" -v targets="$TARGETS" -v secs="$SECS" \
	-f "$REPO/bench/block-report.awk" "$res"
[ -n "${RAW:-}" ] || rm -f "$res"
[ -z "$failed" ] || printf '\nCells that failed (not in the tables, "-"):\n%s' "$failed"
[ -s "$prof" ] && { echo; cat "$prof"; }
rm -f "$prof"
