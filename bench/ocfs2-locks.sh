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
#   read    open(O_NOATIME) + one 4 KiB O_DIRECT read + close of a file s1 wrote
#   write   open(O_NOATIME) + one 4 KiB O_DIRECT|O_DSYNC write + close of a file
#           s1 wrote (O_NOATIME: as the object server opens objects)
#   new     create + one 4 KiB O_DIRECT|O_DSYNC write + close of a new file in
#           a directory s1 made: what a new object costs the object server
#           (it creates an object on its first write), not in the thesis
#
# so every lock s2 needs is held by s1 or not yet created.  Rounds rotate
# the order of the rows so that drift in the emulated machine does not
# favour one.  Prints a table of medians (the median over rounds of each
# round's median latency) with their range over rounds; never gates
# anything.
#
# Environment: N (files per operation and round, default 200),
# ROUNDS (default 3), ARCHIP_LAB (default .cache/lab-bench),
# COMBOS (option sets, default the four: "stock noopenlocks nowritelocks
# noopenlocks,nowritelocks"), OCFS2_KO ("LABEL=PATH ..." ocfs2.ko builds
# to compare in the same run, default this tree's; each row loads its
# module afresh on both nodes).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
N=${N:-200}
ROUNDS=${ROUNDS:-3}
OPS="create read write new"
OPLAT=$REPO/build/bench/oplat
read -r -a COMBOS <<<"${COMBOS:-stock noopenlocks nowritelocks noopenlocks,nowritelocks}"
read -r -a KOS <<<"${OCFS2_KO:-}"
# Rows: (module label, options); label "" = the module the lab loads.
ROWS=()
for ko in "${KOS[@]:-=}"; do
	for c in "${COMBOS[@]}"; do ROWS+=("${ko%%=*}|$c"); done
done
# The VMs see the host's files, but their /tmp and /run are their own:
# the host's are under /.host there.
ko_path() {
	local k p
	for k in "${KOS[@]}"; do
		[ "${k%%=*}" = "$1" ] || continue
		p=$(readlink -f "${k#*=}")
		case $p in /tmp/* | /run/*) p=/.host$p ;; esac
		echo "$p"
	done
}
for k in "${KOS[@]}"; do
	[ -f "${k#*=}" ] || { echo "bench: no ocfs2.ko at ${k#*=}" >&2; exit 1; }
done

mkdir -p "$(dirname "$OPLAT")"
cc -O2 -Wall -o "$OPLAT" "$REPO/bench/oplat.c"

echo "bench: booting 2 storage nodes (N=$N files per operation, $ROUNDS rounds)" >&2
"$LABCMD" up -s 2 -H 0 --no-mount >&2

results=$(mktemp)
nrows=${#ROWS[@]}
for r in $(seq 0 $((ROUNDS - 1))); do
	for k in $(seq 0 $((nrows - 1))); do
		row=$(( (k + r) % nrows ))
		label=${ROWS[$row]%%|*}
		opts=${ROWS[$row]#*|}
		[ "$opts" = stock ] && opts=
		for n in s1 s2; do
			"$LABCMD" run "$n" "mountpoint -q $SAN && umount $SAN; true" >/dev/null
		done
		if [ -n "$label" ]; then
			for n in s1 s2; do
				"$LABCMD" run "$n" "rmmod ocfs2 && insmod $(ko_path "$label")" >&2 ||
					{ echo "bench: cannot load $label's ocfs2.ko on $n" >&2; exit 1; }
			done
		fi
		for n in s1 s2; do "$LABCMD" mount "$n" "$opts" >&2; done
		d=$SAN/bench.$r.$row
		"$LABCMD" run s1 "mkdir -p $d/r $d/w $d/c $d/n && $OPLAT populate $d/r $N &&
			$OPLAT populate $d/w $N && sync" >/dev/null
		for op in $OPS; do
			sub=${op:0:1}
			line=$("$LABCMD" run s2 "$OPLAT $op $d/$sub $N")
			echo "$row $line" >>"$results"
			echo "bench: round $((r + 1)) [${label:+$label }${opts:-stock}] $line" >&2
		done
		"$LABCMD" run s1 "rm -rf $d" >/dev/null
	done
done

"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning (see logs)" >&2

# Per row and operation: the median over rounds of each round's median
# latency, its range, and the change against the same module's stock row.
names=$(printf '%s\n' "${ROWS[@]}")
awk -v rounds="$ROUNDS" -v n="$N" -v names="$names" -v ops="$OPS" '
function median(a, k,    i, j, t) {
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ k = ++cnt[$1, $2]; v[$1, $2, k] = $5 / 1000 }
END {
	nr = split(names, row, "\n")
	nop = split(ops, op, " ")
	for (i = 1; i <= nr; i++)
		for (j = 1; j <= nop; j++) {
			k = cnt[i - 1, op[j]]
			lo = 1e18; hi = 0
			for (m = 1; m <= k; m++) {
				x[m] = v[i - 1, op[j], m]
				if (x[m] < lo) lo = x[m]
				if (x[m] > hi) hi = x[m]
			}
			med[i, j] = median(x, k); rlo[i, j] = lo; rhi[i, j] = hi
		}
	printf "OCFS2 lock latency, 2 nodes, ops on files whose locks s2 does not hold\n"
	printf "(median over %d rounds of the per-round median of %d ops, [range over rounds];\n", rounds, n
	printf " emulated VMs: compare rows of this run, not absolute times)\n\n"
	printf "%-34s", "module options"
	for (j = 1; j <= nop; j++) printf "  %-24s %8s", op[j] " ms", "vs stock"
	printf "\n"
	for (i = 1; i <= nr; i++) {
		split(row[i], f, "|")
		base = 0
		for (b = 1; b <= nr; b++) { split(row[b], g, "|"); if (g[1] == f[1] && g[2] == "stock") base = b }
		printf "%-34s", (f[1] == "" ? "" : f[1] " ") f[2]
		for (j = 1; j <= nop; j++) {
			printf "  %6.2f [%6.2f-%6.2f]", med[i, j], rlo[i, j], rhi[i, j]
			if (!base || base == i) printf "  %8s", "-"
			else printf "  %7.1f%%", (med[base, j] - med[i, j]) / med[base, j] * 100
		}
		printf "\n"
	}
	printf "\nthesis (Tables 8.3-8.5, both options): create 31.4%%, read 31.2%%, write 29.2%%\n"
}' "$results"
rm -f "$results"
