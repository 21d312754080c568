#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# archip-lab's own errors: each is clear and exits non-zero (no VM boots).
. "$(dirname "$0")/lib.sh"
export ARCHIP_LAB=$(mktemp -d)
trap 'rm -rf "$ARCHIP_LAB"' EXIT

ktap_plan 6

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

# A node whose QEMU ended by itself between two commands: the first
# command to find it gone says why from its console, once; the next only
# that it is not running.
gone() {
	local nd=$ARCHIP_LAB/nodes/s9 out1 out2
	mkdir -p "$nd/share" && echo 'IP=10.0.0.9' >"$nd/conf" && echo s9 >"$ARCHIP_LAB/nodes.list" &&
		printf '%s\n' '--- boot' 'o2quo: fencing this system by restarting' 'last words' >"$nd/console.log" || return 1
	out1=$("$LABCMD" run s9 true 2>&1) && return 1
	out2=$("$LABCMD" run s9 true 2>&1) && return 1
	echo "$out1"
	grep -q 'node s9 is not running' <<<"$out1" && grep -q 'went down by itself' <<<"$out1" &&
		grep -q 'fencing this system' <<<"$out1" && grep -q 'node s9 is not running' <<<"$out2" &&
		! grep -q 'went down' <<<"$out2"
}
check "a node gone between commands: the first run on it shows why from its console, once" gone

ktap_finish
