#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Object server throughput and latency (issue: object server benchmark).
# One object of 4 MiB (preconditioned: written fully first), random
# offsets, for bs 4k and 1M at queue depth 1 and 16, read and write:
#
#   local   fio, direct I/O on a 4 MiB file on the OCFS2 mount of s1 (the limit)
#   loop    archip-obj on s1 -> archip_srv on s1 over 127.0.0.1
#   net     archip-obj on h1 -> archip_srv on s1 over the lab network
#
# Prints IOPS, MB/s, mean and p99 latency, and each path's IOPS as a
# ratio of the local limit.  Never gates anything.
# Environment: SECS per run (default 10), ARCHIP_LAB (default .cache/lab-bench).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
B=$REPO/build/tools
SECS=${SECS:-10}

echo "bench: booting s1 + h1" >&2
"$LABCMD" up -s 1 -H 1 -o noopenlocks,nowritelocks >&2
"$LABCMD" run s1 "modprobe archip_srv && mkdir -p $SAN/store &&
	$B/archipctl server start --root $SAN/store --max-io 1M >/dev/null &&
	head -c 4M /dev/urandom >/tmp/pre && $B/archip-obj -s 127.0.0.1 put bench 0 </tmp/pre &&
	dd if=/tmp/pre of=$SAN/fio.bench bs=1M oflag=direct status=none && sync" >&2

res=$(mktemp)
for op in read write; do
	for bs in 4096 1048576; do
		for qd in 1 16; do
			l=$("$LABCMD" run s1 "fio --name=b --filename=$SAN/fio.bench --size=4M \
				--rw=rand$op --bs=$bs --iodepth=$qd --ioengine=libaio --direct=1 \
				--time_based --runtime=$SECS --output-format=terse --terse-version=3 2>/dev/null")
			# terse v3: read bw f7 (KiB/s), iops f8, lat mean f40 (us),
			# clat p99 f30 ("99.000000%=US"); write fields +41
			awk -F';' -v op=$op -v bs=$bs -v qd=$qd '{
				o = op == "read" ? 0 : 41
				p99 = $(30+o); sub(/.*=/, "", p99)
				printf "%s %s %s local %.0f %.2f %.0f %s\n", op, bs, qd, $(8+o), $(7+o)*1024/1e6, $(40+o), p99
			}' <<<"$l" >>"$res"
			for path in loop net; do
				if [ $path = loop ]; then n=s1 srv=127.0.0.1; else n=h1 srv=10.99.0.11; fi
				l=$("$LABCMD" run $n "$B/archip-obj -s $srv bench $op $bs $qd $SECS")
				sed -E 's/.*iops=([0-9.]+) mbps=([0-9.]+) lat_avg_us=([0-9.]+) lat_p99_us=([0-9.]+)/\1 \2 \3 \4/' <<<"$l" |
					awk -v op=$op -v bs=$bs -v qd=$qd -v p=$path '{ print op, bs, qd, p, $1, $2, $3, $4 }' >>"$res"
			done
			echo "bench: $op bs=$bs qd=$qd done" >&2
		done
	done
done
"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning" >&2

awk '
{ key = $1 " " $2 " " $3; iops[key, $4] = $5; row[++n] = $0 }
END {
	printf "archip object server vs local direct I/O on OCFS2 (emulated lab: compare ratios)\n\n"
	printf "%-6s %8s %3s %-6s %9s %9s %10s %10s %9s\n", "op", "bs", "qd", "path", "IOPS", "MB/s", "mean us", "p99 us", "vs local"
	for (i = 1; i <= n; i++) {
		split(row[i], f, " ")
		key = f[1] " " f[2] " " f[3]
		printf "%-6s %8s %3s %-6s %9.0f %9.2f %10.0f %10s %8.0f%%\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], 100 * f[5] / iops[key, "local"]
	}
}' "$res"
rm -f "$res"
