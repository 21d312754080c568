# SPDX-License-Identifier: GPL-2.0
#
# The tables of bench/block.sh, from its per-round results, one line per
# round, cell and target:
#
#   ROUND OP BS QD TARGET IOPS MB/s P99_US IOS H_US S_US
#
# (H_US, S_US: CPU microseconds per I/O on the hypervisor and on the
# storage node).  Variables: rounds, targets (in the order to print),
# secs.  Every figure is the median over the rounds; archip's ratio to
# another system is taken per round (the two ran minutes apart at most)
# and printed as median [min-max] of the rounds' ratios.

function sort_(v, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
}
function med(v, n) {
	sort_(v, n)
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# stat(KEY, FIELD): median of FIELD over the rounds of KEY (cell SUBSEP target)
function stat(key, f,   v, n, r) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((key, r) in got) v[++n] = x[key, r, f]
	return n ? med(v, n) : -1
}
# ratio(CELL, T): sets rlo, rhi; returns the median of archip/T per round
function ratio(c, t,   v, n, r) {
	n = 0
	for (r = 1; r <= rounds; r++)
		if ((c SUBSEP "archip", r) in got && (c SUBSEP t, r) in got && x[c, t, r, 6] > 0)
			v[++n] = x[c, "archip", r, 6] / x[c, t, r, 6]
	if (!n) return -1
	sort_(v, n); rlo = v[1]; rhi = v[n]
	return med(v, n)
}
function cellname(c,   f) { split(c, f, " "); return sprintf("%-10s %4s %3s", f[1], f[2], f[3]) }
# One figure of table MODE: iops, p99 (ms) or cpu (hypervisor+storage us/IO)
function fig(c, t, mode,   v, h) {
	if (mode == "cpu") {
		h = stat(c SUBSEP t, 10); v = stat(c SUBSEP t, 11)
		return h < 0 ? "-" : sprintf("%.0f+%.0f", h, v)
	}
	v = stat(c SUBSEP t, mode == "iops" ? 6 : 8)
	if (v < 0) return "-"
	return mode == "iops" ? sprintf("%.0f", v) : sprintf("%.1f", v / 1000)
}
# A table: a row per cell, a column per target; IOPS adds archip's ratios.
function table(title, mode,   i, j, c, w, r) {
	w = mode == "cpu" ? 13 : 9
	printf "\n%s\n%-18s", title, "op          bs  qd"
	for (j = 1; j <= nt; j++) printf(" %" w "s", T[j])
	if (mode == "iops")
		for (j = 1; j <= nt; j++) if (T[j] != "archip") printf "  %-19s", "archip/" T[j]
	printf "\n"
	for (i = 1; i <= n; i++) {
		c = order[i]
		printf "%-18s", cellname(c)
		for (j = 1; j <= nt; j++) printf(" %" w "s", fig(c, T[j], mode))
		if (mode == "iops")
			for (j = 1; j <= nt; j++) if (T[j] != "archip") {
				r = ratio(c, T[j])
				printf "  %-19s", r < 0 ? "-" : sprintf("%.2fx [%.2f-%.2f]", r, rlo, rhi)
			}
		printf "\n"
	}
}

{
	c = $2 " " $3 " " $4; t = $5
	if (!(c in seen)) { seen[c] = 1; cells[++nc] = c }
	got[c, t, $1] = 1
	for (i = 6; i <= 11; i++) x[c, t, $1, i] = $i
}

END {
	nt = split(targets, T, " ")
	# cells in a fixed order: by op as first seen, then block size, depth
	n = 0
	split("randread randwrite firstwrite", O, " ")
	split("4k 8k 16k 32k 64k 128k 256k 512k 1M 2M 4M", S, " ")
	for (o = 1; o <= 3; o++) for (s = 1; s <= 11; s++) for (q = 1; q <= 256; q++) {
		c = O[o] " " S[s] " " q
		if (c in seen) order[++n] = c
	}
	for (i = 1; i <= nc; i++) {	# anything the fixed order missed, last
		found = 0
		for (j = 1; j <= n; j++) if (order[j] == cells[i]) found = 1
		if (!found) order[++n] = cells[i]
	}

	printf "fio direct libaio, %s s per cell, %d interleaved round(s) (cells and systems rotated);\n", secs, rounds
	printf "1 storage node (s1) + 1 hypervisor (h1), emulated: compare within this table.\n"
	printf "Medians over the rounds; ratios per round, as median [min-max].\n"

	table("IOPS", "iops")
	table("p99 completion latency, ms", "p99")
	table("CPU per I/O, microseconds, hypervisor + storage node (fio on s1 for local)", "cpu")

	# Against the goals (issue 22): every randread/randwrite cell >= 1.0x
	# NVMe/TCP, >= 1.5x krbd, >= 2x NBD at iodepth >= 16.
	goal["nvme"] = 1.0; goal["nvmeplain"] = 1.0; goal["krbd"] = 1.5; goal["nbd"] = 2.0
	printf "\nSummary over the randread/randwrite cells (median ratio per cell):\n"
	for (j = 1; j <= nt; j++) {
		t = T[j]
		if (t == "archip") continue
		k = 0; met = 0; lo = ""; hi = ""
		delete rv
		for (i = 1; i <= n; i++) {
			c = order[i]; split(c, f, " ")
			if (f[1] == "firstwrite") continue
			if (t == "nbd" && f[3] < 16) continue
			r = ratio(c, t)
			if (r < 0) continue
			rv[++k] = r
			if (lo == "" || r < lo) { lo = r; loc = c }
			if (hi == "" || r > hi) { hi = r; hic = c }
			if ((t in goal) && r >= goal[t]) met++
		}
		if (!k) continue
		printf "  archip/%-9s %2d cells%s: median %.2fx, worst %.2fx (%s), best %.2fx (%s)",
			t, k, t == "nbd" ? " (qd>=16)" : "", med(rv, k), lo, loc, hi, hic
		if (t in goal) printf "; %d of %d at or above %.1fx", met, k, goal[t]
		printf "\n"
	}
}
