#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lock-latency benchmark of the OCFS2 mount options (the thesis' Tables
# 8.3-8.5).  For each of the four combinations of noopenlocks and
# nowritelocks, both storage nodes mount the SAN afresh (no lock resource
# cached anywhere), node s1 creates and writes the files, and node s2 then
# times, one operation at a time:
#
#   create  open(O_CREAT|O_EXCL) + close of a new file in a directory s1 made
#   read    open + one 4 KiB O_DIRECT read + close of a file s1 wrote
#   write   open + one 4 KiB O_DIRECT|O_DSYNC write + close of a file s1 wrote
#
# so every lock s2 needs is held by s1 or not yet created.  Rounds rotate
# the order of the combinations so that drift in the emulated machine does
# not favour one.  Prints a table; never gates anything.
#
# Environment: N (files per operation and round, default 200),
# ROUNDS (default 3), ARCHIP_LAB (default .cache/lab-bench).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
LABCMD=$REPO/tools/lab/archip-lab
export ARCHIP_LAB=${ARCHIP_LAB:-$REPO/.cache/lab-bench}
N=${N:-200}
ROUNDS=${ROUNDS:-3}
SAN=/mnt/san
OPLAT=$REPO/build/bench/oplat
COMBOS=("" "noopenlocks" "nowritelocks" "noopenlocks,nowritelocks")

mkdir -p "$(dirname "$OPLAT")"
cc -O2 -Wall -o "$OPLAT" "$REPO/bench/oplat.c"

trap '"$LABCMD" down >/dev/null 2>&1 || true' EXIT
echo "bench: booting 2 storage nodes (N=$N files per operation, $ROUNDS rounds)" >&2
"$LABCMD" up -s 2 -H 0 --no-mount >&2

results=$(mktemp)
for r in $(seq 0 $((ROUNDS - 1))); do
	for k in 0 1 2 3; do
		c=$(( (k + r) % 4 ))
		opts=${COMBOS[$c]}
		for n in s1 s2; do
			"$LABCMD" run "$n" "mountpoint -q $SAN && umount $SAN; true" >/dev/null
		done
		for n in s1 s2; do "$LABCMD" mount "$n" "$opts" >&2; done
		d=$SAN/bench.$r.$c
		"$LABCMD" run s1 "mkdir -p $d/r $d/w $d/c && $OPLAT populate $d/r $N &&
			$OPLAT populate $d/w $N && sync" >/dev/null
		for op in create read write; do
			sub=${op:0:1}
			line=$("$LABCMD" run s2 "$OPLAT $op $d/$sub $N")
			echo "$c $line" >>"$results"
			echo "bench: round $((r + 1)) [${opts:-stock}] $line" >&2
		done
		"$LABCMD" run s1 "rm -rf $d" >/dev/null
	done
done

"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning (see logs)" >&2

# Average the per-round mean latencies and compare with stock (combo 0).
awk -v rounds="$ROUNDS" -v n="$N" '
{ sum[$1, $2] += $4; med[$1, $2] += $5 }
END {
	split("stock|noopenlocks|nowritelocks|noopenlocks,nowritelocks", name, "|")
	split("create read write", op, " ")
	printf "OCFS2 lock latency, 2 nodes, ops on files whose locks s2 does not hold\n"
	printf "(mean of %d rounds x %d ops; emulated VMs: compare rows, not absolute times)\n\n", rounds, n
	printf "%-26s", "options"
	for (j = 1; j <= 3; j++) printf "  %9s ms  %7s", op[j], "vs stock"
	printf "\n"
	for (c = 0; c < 4; c++) {
		printf "%-26s", name[c + 1]
		for (j = 1; j <= 3; j++) {
			avg = sum[c, op[j]] / rounds / 1000
			base = sum[0, op[j]] / rounds / 1000
			if (c == 0) printf "  %12.2f  %8s", avg, "-"
			else printf "  %12.2f  %7.1f%%", avg, (base - avg) / base * 100
		}
		printf "\n"
	}
	printf "\nthesis (Tables 8.3-8.5, both options): create 31.4%%, read 31.2%%, write 29.2%%\n"
}' "$results"
rm -f "$results"
