#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One benchmark cell, run on a lab node (the nodes see the host's root, so
# bench/block.sh calls this script by its path):
#
#   fio-cell.sh DEV OP BS QD SECS SIZE
#
# fio (direct, libaio, time based) with OP (randread, randwrite, or
# firstwrite: randwrite on a target never written) on DEV for
# SECS seconds, and this node's CPU time around it.  Prints one line:
#
#   IOPS MB/s P99_US IOS BUSY_US
#
# IOS: I/Os done; BUSY_US: CPU time this node spent (all CPUs; user,
# nice, system, irq, softirq, steal from /proc/stat) while fio ran.
#
#   fio-cell.sh rate DELAY WINDOW
#
# Waits DELAY seconds, then prints the CPU time this node spends per
# second (us/s) over the next WINDOW seconds: the other side of a cell
# whose fio runs elsewhere, sampled inside the fio run.
#
#   fio-cell.sh perf DELAY SECS
#
# Waits DELAY seconds, samples every CPU of this node for SECS seconds
# (perf, cpu-clock: the emulated CPU has no PMU) and prints where the time
# went: the top 25 symbols, with their module.
#
#   fio-cell.sh nvmedev NQN NSID
#
# Waits (up to 30 s) for the block device of namespace NSID of NVMe
# subsystem NQN and prints its path.
#
#   fio-cell.sh terse
#
# Reads fio's terse (v3) lines on stdin and prints IOPS MB/s P99_US IOS
# for each (the read side's if it read, else the write side's): the one
# place that knows the terse fields (bench/scale.sh uses it too).
set -euo pipefail
# terse v3: read fields from 6, write fields 41 later; 7 KiB/s, 8 IOPS,
# 9 runtime (ms), 30 the 99th percentile of completion latency ("99.00%=N").
terse() {
	awk -F';' '{ o = $8 > 0 ? 0 : 41; p99 = $(30 + o); sub(/.*=/, "", p99)
		printf "%.0f %.2f %s %.0f\n", $(8 + o), $(7 + o) * 1024 / 1e6, p99,
			$(8 + o) * $(9 + o) / 1000 }'
}
if [ "$1" = terse ]; then
	terse
	exit
fi
busy() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
hz=$(getconf CLK_TCK)
if [ "$1" = rate ]; then
	sleep "$2"
	b0=$(busy)
	sleep "$3"
	b1=$(busy)
	awk -v b0="$b0" -v b1="$b1" -v hz="$hz" -v w="$3" \
		'BEGIN { printf "%.0f\n", (b1 - b0) * 1e6 / hz / w }'
	exit
fi
if [ "$1" = perf ]; then
	sleep "$2"
	perf record -q -a -e cpu-clock -F 499 -o /tmp/fio-cell.perf -- sleep "$3" 2>/dev/null
	perf report -q -i /tmp/fio-cell.perf --no-children --sort dso,sym --stdio 2>/dev/null |
		grep -v '^$' | head -25
	exit
fi
if [ "$1" = nvmedev ]; then
	for _ in $(seq 300); do
		for d in /sys/block/nvme*; do
			[[ ${d##*/} =~ ^nvme[0-9]+n[0-9]+$ ]] || continue
			[ "$(cat "$d/nsid" 2>/dev/null)" = "$3" ] || continue
			[ "$(cat "$d/device/subsysnqn" 2>/dev/null)" = "$2" ] || continue
			[ -b "/dev/${d##*/}" ] && echo "/dev/${d##*/}" && exit 0
		done
		sleep 0.1
	done
	echo "fio-cell.sh: no namespace $3 of $2 after 30 s" >&2
	exit 1
fi
dev=$1 op=$2 bs=$3 qd=$4 secs=$5 size=$6
[ "$op" = firstwrite ] && op=randwrite	# the same writes, on a fresh target
b0=$(busy)
out=$(fio --name=b --filename="$dev" --rw="$op" --bs="$bs" --iodepth="$qd" \
	--ioengine=libaio --direct=1 --time_based --runtime="$secs" --size="$size" \
	--output-format=terse --terse-version=3)
b1=$(busy)
line=$(terse <<<"$out")
echo "${line%%$'\n'*} $(((b1 - b0) * 1000000 / hz))"
