# SPDX-License-Identifier: GPL-2.0
#
# KTAP helpers for archip's selftests.  Each test program sources this,
# declares its plan, and reports each check with ok/fail/skip.  A skipped
# check is reported as "# SKIP", never as a pass.

SELFTESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SELFTESTS/.." && pwd)
LABCMD="$REPO/tools/lab/archip-lab"
SAN=/mnt/san
# What the lab tests share: the built tools, the addresses archip-lab gives
# the storage nodes s1 and s2 (10.99.0.(10 + N)), the object store's root.
B=$REPO/build/tools
S1=10.99.0.11
S2=10.99.0.12
STORE=$SAN/store
_ktap_n=0
_ktap_fail=0

_ktap_plan=-1
ktap_plan() { _ktap_plan=$1; echo "TAP version 13"; echo "1..$1"; }
ktap_pass() { _ktap_n=$((_ktap_n + 1)); echo "ok $_ktap_n - $*"; }
ktap_fail() { _ktap_n=$((_ktap_n + 1)); _ktap_fail=$((_ktap_fail + 1)); echo "not ok $_ktap_n - $*"; }
ktap_skip() { _ktap_n=$((_ktap_n + 1)); echo "ok $_ktap_n - $1 # SKIP $2"; }
ktap_diag() { sed 's/^/# /'; }
ktap_finish() { [ "$_ktap_fail" = 0 ]; exit $?; }

# check DESC CMD...: run CMD; pass if it exits 0, else fail showing its
# output.  Either way it says how long the check took.
check() {
	local desc=$1 out t0=$SECONDS
	shift
	if out=$("$@" 2>&1); then
		ktap_pass "$desc"
	else
		ktap_fail "$desc"
		printf '%s\n' "$out" | tail -n 30 | ktap_diag
	fi
	echo "# took $((SECONDS - t0)) s"
}

# check_v DESC CMD...: as check, and shows CMD's output as diagnostics
# either way (the fault tests' measured times and counts).
check_v() {
	local desc=$1 out t0=$SECONDS
	shift
	if out=$("$@" 2>&1); then
		ktap_pass "$desc"
		printf '%s\n' "$out" | tail -n 12 | ktap_diag
	else
		ktap_fail "$desc"
		printf '%s\n' "$out" | tail -n 30 | ktap_diag
	fi
	echo "# took $((SECONDS - t0)) s"
}

# wait_until SECS CMD...: poll CMD every second, at most SECS seconds.
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}

# lab NODE CMD: run a bash command line on a lab node, for at most
# LAB_TIMEOUT seconds (600; the debug kernel runs several times slower).
export LAB_TIMEOUT=${LAB_TIMEOUT:-$([ "${ARCHIP_KERNEL:-}" = debug ] && echo 1800 || echo 600)}
lab() { local n=$1; shift; "$LABCMD" run "$n" -t "${LAB_TIMEOUT:-600}" "$*"; }

# expect_err NODE RC PATTERN CMD: CMD on NODE fails with exit status RC and
# says PATTERN (a user-facing error must be clear, and scripts must be able
# to rely on its exit status).
expect_err() {
	local out rc
	out=$(lab "$1" "$4" 2>&1)
	rc=$?
	echo "exit $rc: $out"
	[ "$rc" = "$2" ] && grep -q -- "$3" <<<"$out"
}

# load_kernel_env: the picked kernel's variables (KVER, KIMAGE, KDIR,
# KSRC_TAR, KDEBVER, ...) from the cache that 'make deps' wrote, for
# ARCHIP_KERNEL's series (6.1 unless it says 6.12); sets CACHE and KS.
load_kernel_env() {
	CACHE=${ARCHIP_CACHE:-$REPO/.cache}
	KS=$([ "${ARCHIP_KERNEL:-}" = 6.12 ] && echo -6.12)
	# shellcheck disable=SC1090
	. "$CACHE/kernel$KS.env"
}

# use_lab: run this test's VMs in the selftests' lab, torn down on exit.
# If a check failed, each node's last console lines go into the output
# first (the next program's lab overwrites them; CI keeps only the log).
# Under run.sh (ARCHIP_LAB_SHARE=1) a lab whose every check passed is
# parked instead, and the next program's 'up' ($LAB_REUSE) resets and
# reuses it when it asks for the same VMs: one boot for several programs.
use_lab() {
	export ARCHIP_LAB=${ARCHIP_LAB:-$REPO/.cache/lab-selftest}
	trap lab_exit EXIT
}
# lab_exit: what a test's EXIT trap runs for its lab (a test with more to
# clean up calls it from its own trap).
lab_exit() { lab_post_mortem; lab_release; }
LAB_REUSE=$([ "${ARCHIP_LAB_SHARE:-0}" = 1 ] && echo --reuse)
lab_release() {
	if [ -n "$LAB_REUSE" ] && [ "$_ktap_fail" = 0 ] && [ "$_ktap_n" = "$_ktap_plan" ]; then
		"$LABCMD" park >/dev/null 2>&1 && return
	fi
	"$LABCMD" down >/dev/null 2>&1
}
lab_post_mortem() {
	local c
	[ "$_ktap_fail" = 0 ] && return
	for c in "$ARCHIP_LAB"/nodes/*/console.log; do
		[ -f "$c" ] || continue
		echo "# console of $(basename "$(dirname "$c")"), last 40 lines:"
		tail -n 40 "$c" | ktap_diag
	done
}

# up_lab H OPTS [MEM]: the lab of storage nodes s1, s2 (the SAN mounted
# with OCFS2 options OPTS) and H hypervisors (MEM MiB each, if given),
# object servers started on s1 and s2, archip_blk loaded on each
# hypervisor: two checks; the test ends if the lab does not come up.
up_lab() {
	local h=$1 opts=$2 mem=${3:-} out hs
	hs=$(seq -f 'h%g' -s ' ' 1 "$h")
	if ! out=$("$LABCMD" up $LAB_REUSE -s 2 -H "$h" -o "$opts" ${mem:+--mem "$mem"} 2>&1); then
		ktap_fail "lab up: 2 storage nodes (OCFS2) + $h hypervisor(s)"
		ktap_diag <<<"$out"
		exit 1
	fi
	ktap_pass "lab up: 2 storage nodes (OCFS2) + $h hypervisor(s)"
	check "object servers on s1 and s2, archip_blk on $hs" bash -c "
		$(declare -f lab); LABCMD=$(printf %q "$LABCMD")
		for n in s1 s2; do lab \$n 'modprobe archip_srv && mkdir -p $STORE && $B/archipctl server start --root $STORE' || exit 1; done
		for n in $hs; do lab \$n 'modprobe archip_blk' || exit 1; done"
}

# fsck_ocfs2 NODE: fsck.ocfs2 -fn of the SAN from NODE (unmounted on every
# node).  Clean means exit status 0 and no problem reported: with -n the
# tool declines every fix ("... ? n") and for some problems (a cluster
# marked in the global bitmap that no inode uses) still exits 0, so its
# report is read too.
fsck_ocfs2() {
	local out rc
	out=$(lab "$1" "fsck.ocfs2 -fn /dev/vda" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	[ "$rc" = 0 ] || { echo "fsck.ocfs2 -fn exited $rc"; return 1; }
	if grep -E '^\[[A-Z0-9_]+\]|\? n$' <<<"$out"; then
		echo "fsck.ocfs2 -fn reported the problems above"
		return 1
	fi
}

# fsck_clean: stop the object servers of s1 and s2, unmount the SAN on
# both, and let fsck.ocfs2 -fn check it (what every fault test ends with).
fsck_clean() {
	lab s1 "$B/archipctl server stop" && lab s2 "$B/archipctl server stop" &&
	"$LABCMD" umount s1 && "$LABCMD" umount s2 && fsck_ocfs2 s1
}
