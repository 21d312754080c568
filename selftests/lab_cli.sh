#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# archip-lab's own errors: each is clear and exits non-zero (no VM boots).
. "$(dirname "$0")/lib.sh"
export ARCHIP_LAB=$(mktemp -d)
trap 'rm -rf "$ARCHIP_LAB"' EXIT

ktap_plan 5

refused() {
	local desc=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc != 0 ] && grep -q -- "$want" <<<"$out"; then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		ktap_diag <<<"rc=$rc: $out"
	fi
}

refused "run on a node that does not exist" "no node 'x9'" "$LABCMD" run x9 true
refused "up with zero storage nodes" "need 1-8 storage" "$LABCMD" up -s 0
refused "up with an unknown argument" "unknown argument '--bogus'" "$LABCMD" up --bogus
refused "park with no lab up" "no lab to park" "$LABCMD" park
refused "an unknown command prints usage" "usage: archip-lab" "$LABCMD" frobnicate

ktap_finish
