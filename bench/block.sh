#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The thesis' Ch. 8 matrix: fio randread/randwrite, bs 4k/64k/1M, iodepth
# 1/16/32, direct I/O, side by side in one run, on:
#
#   archip  /dev/archipN on h1, volume served by archip_srv on s1
#   nvme    NVMe/TCP: nvmet-tcp on s1 exporting a file on the same OCFS2,
#           connected from h1 by the kernel's nvme-tcp host
#   nbd     NBD: qemu-nbd on s1 exporting a file on the same OCFS2
#           (direct I/O), connected from h1 by nbd-client
#   local   fio on s1, direct I/O on a file on the OCFS2 mount (the limit)
#   nodigest  archip mapped --no-digest (a second volume): the gap to
#           "archip" is what the crc32c digests of every frame cost
#   volatile  (writes only) archip with the server's sync_writes=N: writes
#           answered before they are stable, which archip never does; the
#           gap to "archip" is what durability (an fdatasync per write) costs
#
# Every target is 256 MiB and written fully first (unwritten extents would
# read as zeros for free).  Prints IOPS, MB/s and p99 latency, with archip
# as a ratio of NVMe/TCP and of NBD.  Never gates anything.
# Environment: SECS per run (default 5), BS, DEPTHS, OPS, TARGETS to narrow
# the matrix, ROUNDS (default 1) interleaved rounds of it, ARCHIP_LAB
# (default .cache/lab-bench).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
BS=${BS:-"4k 64k 1M"}
DEPTHS=${DEPTHS:-"1 16 32"}
OPS=${OPS:-"randread randwrite"}
TARGETS=${TARGETS:-"archip nodigest nvme nbd local volatile"}
ROUNDS=${ROUNDS:-1}
NQN=nqn.2026-11.org.archip:bench
SIZE=256M

echo "bench: booting s1 + h1" >&2
"$LABCMD" up -s 1 -H 1 -o noopenlocks,nowritelocks >&2

echo "bench: targets: archip volume, nvmet-tcp, qemu-nbd, local file (all $SIZE, preconditioned)" >&2
on s1 "modprobe archip_srv && mkdir -p $SAN/store && $CTL server start --root $SAN/store >/dev/null &&
	for f in nvme.img nbd.img local.img; do
		dd if=/dev/urandom of=$SAN/\$f bs=1M count=256 oflag=direct status=none || exit 1
	done
	# nvmet: a subsystem with one namespace backed by the file, a TCP port
	modprobe -a nvmet nvmet_tcp && cd /sys/kernel/config/nvmet &&
	mkdir subsystems/$NQN && echo 1 >subsystems/$NQN/attr_allow_any_host &&
	mkdir subsystems/$NQN/namespaces/1 &&
	echo $SAN/nvme.img >subsystems/$NQN/namespaces/1/device_path &&
	echo 0 >subsystems/$NQN/namespaces/1/buffered_io &&
	echo 1 >subsystems/$NQN/namespaces/1/enable &&
	mkdir ports/1 && echo tcp >ports/1/addr_trtype && echo ipv4 >ports/1/addr_adrfam &&
	echo $S1 >ports/1/addr_traddr && echo 4420 >ports/1/addr_trsvcid &&
	ln -s /sys/kernel/config/nvmet/subsystems/$NQN ports/1/subsystems/$NQN &&
	qemu-nbd --fork --persistent --shared=8 -f raw --cache=none --aio=native \
		-b $S1 -p 10809 -x bench $SAN/nbd.img" >&2
on h1 "export ARCHIP_SERVER=$S1; $CTL volume create bench --size $SIZE >/dev/null &&
	$CTL volume create bench2 --size $SIZE >/dev/null &&
	modprobe archip_blk && $CTL map bench >/dev/null && $CTL map bench2 --no-digest >/dev/null &&
	$CTL --json list | grep -q '\"volume\":\"bench\"[^}]*\"digest\":true' &&
	$CTL --json list | grep -q '\"volume\":\"bench2\"[^}]*\"digest\":false' &&
	dd if=/dev/urandom of=/dev/archip/bench bs=1M count=256 oflag=direct status=none &&
	dd if=/dev/urandom of=/dev/archip/bench2 bs=1M count=256 oflag=direct status=none &&
	modprobe nvme_tcp && echo 'transport=tcp,traddr=$S1,trsvcid=4420,nqn=$NQN' >/dev/nvme-fabrics &&
	modprobe nbd && nbd-client $S1 10809 /dev/nbd0 -N bench -b 4096 -C 4 >/dev/null 2>&1 &&
	sleep 2 && ls /dev/nvme*n1 >/dev/null" >&2
NVME=$(on h1 "ls /dev/nvme*n1 | head -1")

res=$(mktemp)
run_fio() {	# NODE DEV OP BS QD -> "IOPS MBPS P99US"
	on "$1" "fio --name=b --filename=$2 --rw=$3 --bs=$4 --iodepth=$5 --ioengine=libaio \
		--direct=1 --time_based --runtime=$SECS --size=$SIZE --output-format=terse \
		--terse-version=3 2>/dev/null" |
	awk -F';' -v op="$3" '{
		o = op == "randread" ? 0 : 41
		p99 = $(30+o); sub(/.*=/, "", p99)
		printf "%.0f %.2f %s\n", $(8+o), $(7+o)*1024/1e6, p99
	}'
}
# One cell of one target: NODE DEVICE, and for "volatile" the server's
# sync_writes off around it.
cell() {	# TARGET OP BS QD
	case $1 in
	archip) run_fio h1 /dev/archip/bench "$2" "$3" "$4" ;;
	nodigest) run_fio h1 /dev/archip/bench2 "$2" "$3" "$4" ;;
	nvme) run_fio h1 "$NVME" "$2" "$3" "$4" ;;
	nbd) run_fio h1 /dev/nbd0 "$2" "$3" "$4" ;;
	local) run_fio s1 $SAN/local.img "$2" "$3" "$4" ;;
	volatile)
		on s1 "echo N >/sys/module/archip_srv/parameters/sync_writes"
		run_fio h1 /dev/archip/bench "$2" "$3" "$4"
		on s1 "echo Y >/sys/module/archip_srv/parameters/sync_writes" ;;
	esac
}
# Rounds interleaved: each round runs every cell of every target once, so
# a slow spell of the emulator hits all of them alike; the table shows the
# median of the rounds (and, with ROUNDS > 1, the range of archip's IOPS).
for round in $(seq "$ROUNDS"); do
	for op in $OPS; do
		for bs in $BS; do
			for qd in $DEPTHS; do
				for t in $TARGETS; do
					[ "$t" = volatile ] && [ "$op" != randwrite ] && continue
					echo "$op $bs $qd $t $(cell "$t" "$op" "$bs" "$qd")" >>"$res"
				done
				echo "bench: round $round: $op bs=$bs qd=$qd done" >&2
			done
		done
	done
done
on h1 "$CTL unmap bench; $CTL unmap bench2; nbd-client -d /dev/nbd0; echo 1 >/sys/class/nvme/nvme0/delete_controller" >/dev/null 2>&1 || true
"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning" >&2

awk -v rounds="$ROUNDS" -v targets="$TARGETS" '
function median(k, t,   n, i, j, v, tmp) {
	n = cnt[k, t]
	for (i = 1; i <= n; i++) v[i] = val[k, t, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (v[j] < v[i]) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
	lo[k, t] = v[1]; hi[k, t] = v[n]
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function pmedian(k, t,   n, i, j, v, tmp) {
	n = cnt[k, t]
	for (i = 1; i <= n; i++) v[i] = pv[k, t, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (v[j] < v[i]) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
	return v[int((n + 1) / 2)]
}
{ k = $1 " " $2 " " $3; t = $4
  val[k, t, ++cnt[k, t]] = $5; mbs[k, t] += $6 / rounds; pv[k, t, cnt[k, t]] = $7
  if (!(k in seen)) { seen[k] = 1; keys[++n] = k } }
END {
	printf "fio, direct, libaio; 1 storage + 1 hypervisor VM (emulated: compare ratios); "
	printf "%d round(s), medians\n\n", rounds
	nt = split(targets, T, " ")
	printf "%-10s %5s %3s", "op", "bs", "qd"
	for (j = 1; j <= nt; j++) if (T[j] != "volatile") printf " | %-21s", T[j] " IOPS MB/s p99"
	if (rounds > 1) printf " | %-13s", "archip range"
	for (j = 1; j <= nt; j++) if (T[j] != "archip") printf " %9s", "vs " T[j]
	printf "\n"
	for (i = 1; i <= n; i++) {
		k = keys[i]; split(k, f, " ")
		for (j = 1; j <= nt; j++) if ((k, T[j]) in cnt) {
			iops[k, T[j]] = median(k, T[j])
			p99[k, T[j]] = pmedian(k, T[j])
		}
		printf "%-10s %5s %3s", f[1], f[2], f[3]
		for (j = 1; j <= nt; j++) if (T[j] != "volatile")
			printf " | %6d %6.1f %6sus", iops[k, T[j]], mbs[k, T[j]], p99[k, T[j]]
		if (rounds > 1) printf " | %5d-%-7d", lo[k, "archip"], hi[k, "archip"]
		for (j = 1; j <= nt; j++) if (T[j] != "archip") {
			if ((k, T[j]) in cnt)
				printf " %8.2fx", iops[k, "archip"] / (iops[k, T[j]] ? iops[k, T[j]] : 1)
			else
				printf " %9s", "-"
		}
		printf "\n"
	}
}' "$res"
rm -f "$res"
