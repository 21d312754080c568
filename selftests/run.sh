#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run archip's selftests (the programs in TEST_PROGS of selftests/Makefile,
# or those named on the command line), each a KTAP producer, and close with
# the line "N passed, N failed[, N skipped]".  Exits non-zero on any failure,
# on a program that dies, or on a program whose plan does not match.
set -u
cd "$(dirname "$0")"
progs=${*:-$(make -s --no-print-directory print-progs)}
pass=0 fail=0 skip=0
# Programs that ask for the same VMs share one boot (selftests/lib.sh,
# use_lab): a program that passed parks its lab for the next; after one
# that did not, and at the end, the lab goes down.
export ARCHIP_LAB_SHARE=${ARCHIP_LAB_SHARE:-1}
export ARCHIP_LAB=${ARCHIP_LAB:-$(cd .. && pwd)/.cache/lab-selftest}
lab_down() { ../tools/lab/archip-lab down >/dev/null 2>&1 || true; }
trap lab_down EXIT
for p in $progs; do
	echo "# ---- $p"
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
		echo "not ok - $p: ran $((P + S + F)) of ${plan:-?} planned checks (exit $rc)"
		F=$((F + 1))
	elif [ "$rc" != 0 ] && [ "$F" = 0 ]; then
		echo "not ok - $p: exited $rc with no failed check"
		F=$((F + 1))
	fi
	[ "$F" = 0 ] && [ "$rc" = 0 ] || lab_down
	echo "# $p: $P passed, $F failed, $S skipped in $(( $(date +%s) - start ))s"
	pass=$((pass + P)) fail=$((fail + F)) skip=$((skip + S))
	rm -f "$out"
done
if [ "$skip" != 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" = 0 ]
