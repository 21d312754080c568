#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run archip's selftests (the programs in TEST_PROGS of selftests/Makefile,
# or those named on the command line), each a KTAP producer, and close with
# the line "N passed, N failed[, N skipped]".  Exits non-zero on any failure,
# on a program that dies, or on a program whose plan does not match.
#
# With no programs named and no ARCHIP_KERNEL set (what 'make test' and CI
# run), the whole suite runs on Debian's 6.1 kernel and then the core
# subset TEST_PROGS_6_12 on Debian's 6.12 LTS, with ARCHIP_CORE=1 (a
# program's checks of what the kernels can differ in): the modules are
# built for 6.12, the subset runs on a 6.12 lab, and the 6.1 modules are
# built again.
# ARCHIP_KERNEL=6.12 (or debug) runs the whole suite on that kernel alone.
set -u
cd "$(dirname "$0")"
progs=${*:-$(make -s --no-print-directory print-progs)}
second=
[ $# = 0 ] && [ -z "${ARCHIP_KERNEL:-}" ] && second=$(make -s --no-print-directory print-progs-6.12)
pass=0 fail=0 skip=0
digest=$(mktemp)
# Programs that ask for the same VMs share one boot (selftests/lib.sh,
# use_lab): a program that passed parks its lab for the next; after one
# that did not, and at the end, the lab goes down.
export ARCHIP_LAB_SHARE=${ARCHIP_LAB_SHARE:-1}
export ARCHIP_LAB=${ARCHIP_LAB:-$(cd .. && pwd)/.cache/lab-selftest}
lab_down() { ../tools/lab/archip-lab down >/dev/null 2>&1 || true; }
trap 'lab_down; rm -f "$digest"' EXIT
# not_ok DESC: a failure of the run itself, also kept for the end.
not_ok() { echo "not ok - $*" | tee -a "$digest"; }

# run_prog PROG [LABEL]: run one program, count its results.
run_prog() {
	local p=$1 name=${2:-$1} start out rc P S F plan
	echo "# ---- $name"
	start=$(date +%s)
	out=$(mktemp)
	timeout "${ARCHIP_TEST_TIMEOUT:-1500}" "./$p" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	P=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
	S=$(grep -cE '^ok [0-9]+ .*# SKIP' "$out" | tr -d ' ')
	F=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n1)
	P=$((P - S))
	if [ -z "$plan" ] || [ $((P + S + F)) != "$plan" ]; then
		not_ok "$name: ran $((P + S + F)) of ${plan:-?} planned checks (exit $rc)"
		F=$((F + 1))
	elif [ "$rc" != 0 ] && [ "$F" = 0 ]; then
		not_ok "$name: exited $rc with no failed check"
		F=$((F + 1))
	fi
	[ "$F" = 0 ] && [ "$rc" = 0 ] || lab_down
	# Each failure and the first lines it printed, again at the end: a
	# long log is read from its tail.
	awk -v p="$name" '/^not ok/ { n = 14; print "# " p ": " $0; next }
		n > 0 && /^# took / { n = 0 } n > 0 && /^#/ { print "# " $0; n-- }
		/^(ok|not ok) / { n = 0 }' "$out" >>"$digest"
	echo "# $name: $P passed, $F failed, $S skipped in $(( $(date +%s) - start ))s"
	pass=$((pass + P)) fail=$((fail + F)) skip=$((skip + S))
	rm -f "$out"
}

for p in $progs; do
	run_prog "$p"
done

# build DESC MAKEARGS...: the modules, or a failure naming DESC.
build() {
	local desc=$1 log
	shift
	log=$(make -C .. --no-print-directory "$@" modules 2>&1) && return 0
	not_ok "the modules build for $desc (make $* modules)"
	tail -n 20 <<<"$log" | sed 's/^/# /'
	fail=$((fail + 1))
	return 1
}

if [ -n "$second" ]; then
	lab_down
	echo "# ---- Debian's 6.12 LTS kernel: $second"
	if build 6.12 ARCHIP_KERNEL=6.12; then
		for p in $second; do
			ARCHIP_CORE=1 ARCHIP_KERNEL=6.12 run_prog "$p" "$p (6.12)"
		done
		lab_down
	fi
	# Leave the tree's modules built for the default lab kernel.
	build "6.1 again"
fi

if [ -s "$digest" ]; then
	echo "# ---- the failures again, each with the start of what it printed"
	sed -E "s/^([^#])/# \1/" "$digest"
fi
if [ "$skip" != 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]
