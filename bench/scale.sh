#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# How archip scales (issue 22's scale table), on one storage node s1 and
# two hypervisors h1, h2 with HCPUS vCPUs each:
#
#   volumes   IOPS and p99 of 4 KiB random reads and writes with 1, 8 and
#             32 volumes mapped at once, spread over h1 and h2, one fio job
#             per volume (iodepth 4), all at once
#   queues    one volume on h1 mapped with 1, 2 and 4 hardware queues,
#             4 fio jobs (one per vCPU, iodepth 8): what the queues buy
#   store     `volume list` and map + unmap times with 10, 1,000 and 10,000
#             volumes in the store (created as an operator would, with
#             archipctl, several at a time)
#
# Rounds interleave (the order of the cases rotated); medians with their
# range.  Never gates anything.
# Environment: SECS (5), ROUNDS (3), COUNTS ("1 8 32"), QUEUES ("1 2 4"),
# STORE ("10 1000 10000"), HCPUS (4), ARCHIP_LAB (default .cache/lab-bench).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-3}
COUNTS=${COUNTS:-"1 8 32"}
QUEUES=${QUEUES:-"1 2 4"}
STORE=${STORE:-"10 1000 10000"}
HCPUS=${HCPUS:-4}
VSIZE=32M
maxn=0
for n in $COUNTS; do [ "$n" -gt "$maxn" ] && maxn=$n; done
[ "$maxn" -ge 1 ] || maxn=1

echo "bench: booting s1 + h1, h2 ($HCPUS vCPUs each)" >&2
"$LABCMD" up -s 1 -H 2 -o noopenlocks,nowritelocks --hyp-cpus "$HCPUS" --mem 1024 >&2
on s1 "modprobe archip_srv && mkdir -p $SAN/store && $CTL server start --root $SAN/store >/dev/null" >&2
for h in h1 h2; do on $h "modprobe archip_blk" >&2; done
export ARCHIP_SERVER=$S1
E="export ARCHIP_SERVER=$S1;"
# the volumes v1..vMAX, written fully once (reads of unwritten space are free)
on h1 "$E for i in \$(seq $maxn); do $CTL volume create v\$i --size $VSIZE >/dev/null || exit 1; done
	for i in \$(seq $maxn); do
		$CTL map v\$i >/dev/null && dd if=/dev/urandom of=/dev/archip/v\$i bs=1M oflag=direct \
			status=none && $CTL unmap v\$i || exit 1
	done" >&2

res=$(mktemp)
# fio_terse NODE ARGS...: IOPS and p99 (us) of one fio run on NODE
fio_terse() {
	local n=$1; shift
	on "$n" "fio --ioengine=libaio --direct=1 --time_based --runtime=$SECS --bs=4k \
		--group_reporting --output-format=terse --terse-version=3 $*" |
	bash "$REPO/bench/fio-cell.sh" terse | awk '{ print $1, $3 }'
}
# volumes N OP: N volumes mapped (odd ones on h1, even on h2), fio on both
volumes() {
	local n=$1 op=$2 i h jobs1='' jobs2='' a b
	for i in $(seq "$n"); do
		h=h$((2 - i % 2))
		on $h "$E $CTL map v$i --queues 1 >/dev/null" >&2
		if [ $h = h1 ]; then jobs1+=" --name=v$i --filename=/dev/archip/v$i"
		else jobs2+=" --name=v$i --filename=/dev/archip/v$i"; fi
	done
	a=$(mktemp) b=$(mktemp)
	fio_terse h1 "--rw=$op --iodepth=4 $jobs1" >"$a" &
	[ -n "$jobs2" ] && fio_terse h2 "--rw=$op --iodepth=4 $jobs2" >"$b"
	wait
	for i in $(seq "$n"); do on h$((2 - i % 2)) "$E $CTL unmap v$i" >&2; done
	cat "$a" "$b" | awk '{ s += $1; if ($2 > p) p = $2 } END { printf "%d %d\n", s, p }'
	rm -f "$a" "$b"
}
# queues Q OP: v1 on h1 with Q queues, one fio job per vCPU
queues() {
	local r
	on h1 "$E $CTL map v1 --queues $1 >/dev/null" >&2
	r=$(fio_terse h1 "--name=q --filename=/dev/archip/v1 --rw=$2 --iodepth=8 \
		--numjobs=$HCPUS --cpus_allowed=0-$((HCPUS - 1)) --cpus_allowed_policy=split")
	on h1 "$E $CTL unmap v1" >&2
	echo "$r"
}
# ms to run CMD on h1 (the median of three runs)
time_ms() {
	on h1 "$E for k in 1 2 3; do
		t0=\$(date +%s%N); { $1; } >/dev/null || exit 1; echo \$(( (\$(date +%s%N) - t0) / 1000000 ))
	done | sort -n | sed -n 2p"
}

cases=()
for n in $COUNTS; do for op in randread randwrite; do cases+=("volumes $n $op"); done; done
for q in $QUEUES; do for op in randread randwrite; do cases+=("queues $q $op"); done; done
nc=${#cases[@]}
for round in $(seq "$ROUNDS"); do
	for ((i = 0; i < nc; i++)); do
		c=${cases[$(((i + (round - 1) * nc / ROUNDS) % nc))]}
		read -r kind n op <<<"$c"
		echo "$kind $n $op $($kind "$n" "$op")" >>"$res"
		echo "bench: round $round: $c done" >&2
	done
done

# The store grows once (creating volumes is not repeatable cheaply); each
# size's times are medians of three runs.
have=$maxn
for k in $STORE; do
	if [ "$k" -gt "$have" ]; then
		echo "bench: creating volumes $((have + 1))-$k" >&2
		t0=$(date +%s)
		on h1 "$E seq $((have + 1)) $k | xargs -P 4 -I{} $CTL volume create s{} --size 1G >/dev/null" >&2
		echo "bench: $((k - have)) volumes in $(($(date +%s) - t0)) s" >&2
		have=$k
	fi
	echo "store $k list $(time_ms "$CTL volume list") map $(time_ms "$CTL map v1 && $CTL unmap v1")" >>"$res"
done
"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning" >&2

awk -v rounds="$ROUNDS" '
function sort_(v, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
		t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
}
function med(v, n) { sort_(v, n); return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
$1 == "store" { store[++ns] = sprintf("%8d %12d %12d", $2, $4, $6); next }
{	k = $1 " " $2 " " $3
	if (!(k in n)) order[++nk] = k
	n[k]++; iops[k, n[k]] = $4; p99[k, n[k]] = $5 }
END {
	printf "4 KiB random I/O, fio libaio direct, 1 storage node + 2 hypervisors (emulated);\n"
	printf "%d interleaved rounds, median [min-max]\n\n", rounds
	printf "%-8s %5s %-10s %24s %10s\n", "case", "n", "op", "IOPS (all volumes)", "p99 ms"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, f, " ")
		m = n[k]
		for (j = 1; j <= m; j++) { a[j] = iops[k, j]; b[j] = p99[k, j] }
		mi = med(a, m); lo = a[1]; hi = a[m]; mp = med(b, m)
		printf "%-8s %5s %-10s %8.0f [%6.0f-%6.0f] %10.1f\n", f[1], f[2], f[3], mi, lo, hi, mp / 1000
	}
	printf "\nvolumes in the store   list ms  map+unmap ms  (median of 3)\n"
	for (i = 1; i <= ns; i++) print store[i]
}' <(sort -s -k1,1r -k2,2n "$res")
rm -f "$res"
