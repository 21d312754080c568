#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The build glue, without booting anything: kernel pick, the OCFS2 patch
# series, the module it builds, style.
. "$(dirname "$0")/lib.sh"
. "${ARCHIP_CACHE:-$REPO/.cache}/kernel.env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ktap_plan 7

check "picked kernel: image, headers and source share Debian version $KDEBVER" bash -c "
	test -f '$KIMAGE' && test -d '$KDIR' && test -f '$KSRC_TAR' &&
	test \"\$(dpkg-query -W -f='\${Version}' linux-headers-$KVER)\" = '$KDEBVER'"

out=$(ARCHIP_CACHE="$tmp/cache" ARCHIP_KVER=6.1.0-9999-amd64 bash "$REPO/tools/lab/deps.sh" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "ARCHIP_KVER=6.1.0-N-amd64" <<<"$out" &&
   grep -q "linux-image-6.1.0-9999-amd64: not in the archive" <<<"$out"; then
	ktap_pass "an unavailable kernel is refused with the reason and the fix"
else
	ktap_fail "an unavailable kernel is refused with the reason and the fix"
	ktap_diag <<<"rc=$rc $out"
fi

check "the series applies to this kernel's fs/ocfs2 and builds ocfs2.ko only" bash -c "
	bash '$REPO/fs/ocfs2/prepare.sh' '$KSRC_TAR' '$tmp/src' >/dev/null &&
	grep -qx 'obj-m := ocfs2.o' '$tmp/src/fs/ocfs2/Kbuild' &&
	grep -q Opt_noopenlocks '$tmp/src/fs/ocfs2/super.c' &&
	! test -e '$tmp/src/fs/ocfs2/Makefile'"

mkdir -p "$tmp/bad/patches"
cp "$REPO/fs/ocfs2/prepare.sh" "$tmp/bad/"
cp "$REPO"/fs/ocfs2/patches/*.patch "$tmp/bad/patches/"
cp "$REPO/fs/ocfs2/series" "$tmp/bad/"
# The kernel moved on: the first line the first patch that removes lines
# removes is not there any more.
p2=$(cd "$tmp/bad/patches" && grep -l "^-$(printf '\t')" $(cat ../series) | head -n1)
sed -i '0,/^-\t/{s/^-\t/-\tdrifted /}' "$tmp/bad/patches/$p2"
out=$(bash "$tmp/bad/prepare.sh" "$KSRC_TAR" "$tmp/badsrc" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "patch $p2 does not apply" <<<"$out" &&
   grep -q "refresh fs/ocfs2/patches/$p2" <<<"$out" && [ ! -e "$tmp/badsrc" ]; then
	ktap_pass "a patch that does not apply fails the build, naming it and the fix"
else
	ktap_fail "a patch that does not apply fails the build, naming it and the fix"
	ktap_diag <<<"rc=$rc $out"
fi

stock="$KMODROOT/lib/modules/$KVER/kernel/fs/ocfs2/ocfs2.ko"
ours="$REPO/build/ocfs2/ocfs2.ko"
check "built ocfs2.ko has the lab kernel's vermagic" bash -c "
	test \"\$(modinfo -F vermagic '$ours')\" = \"\$(modinfo -F vermagic '$stock')\""
check "built ocfs2.ko needs the same modules as the distro's" bash -c "
	test \"\$(modinfo -F depends '$ours')\" = \"\$(modinfo -F depends '$stock')\""

check "checkpatch: the OCFS2 patches and kernel sources are clean" make -s -C "$REPO" checkpatch

ktap_finish
