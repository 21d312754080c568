#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The build glue, without booting anything: kernel pick, the OCFS2 patch
# series, the module it builds, style.  For the kernel the suite runs on:
# Debian's 6.1 (and the debug kernel built from it), or ARCHIP_KERNEL=6.12.
. "$(dirname "$0")/lib.sh"
load_kernel_env
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ktap_plan 12

# 6.1's headers are installed on the host (dpkg knows their version);
# 6.12's are unpacked into the cache.  The image names its Debian version.
if [ -z "$KS" ]; then
	hdr="test \"\$(dpkg-query -W -f='\${Version}' linux-headers-$KVER)\" = '$KDEBVER'"
else
	hdr="test \"\$(cat '$KDIR/include/config/kernel.release')\" = '$KVER'"
fi
check "picked kernel $KVER: image, headers and source share Debian version $KDEBVER" bash -c "
	test -f '$KIMAGE' && test -d '$KDIR' && test -f '$KSRC_TAR' &&
	file -b '$KIMAGE' | grep -qF 'Debian $KDEBVER ' && $hdr"

out=$(ARCHIP_CACHE="$tmp/cache" ARCHIP_KVER=6.1.0-9999-amd64 bash "$REPO/tools/lab/deps.sh" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "ARCHIP_KVER=6.1.0-N-amd64" <<<"$out" &&
   grep -q "linux-image-6.1.0-9999-amd64: not in the archive" <<<"$out"; then
	ktap_pass "an unavailable kernel is refused with the reason and the fix"
else
	ktap_fail "an unavailable kernel is refused with the reason and the fix"
	ktap_diag <<<"rc=$rc $out"
fi
# The same for 6.12, with 6.1 already there (a copy of kernel.env, which
# points at the real cache).
mkdir -p "$tmp/cache612" && cp "$CACHE/kernel.env" "$tmp/cache612/"
out=$(ARCHIP_CACHE="$tmp/cache612" ARCHIP_KERNEL=6.12 ARCHIP_KVER_612=6.12.9999+deb12-amd64 \
	bash "$REPO/tools/lab/deps.sh" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "ARCHIP_KVER_612=6.12.N+deb12-amd64" <<<"$out" &&
   grep -q "linux-image-6.12.9999+deb12-amd64: not in the archive" <<<"$out" &&
   [ ! -e "$tmp/cache612/kernel-6.12.env" ]; then
	ktap_pass "an unavailable 6.12 kernel is refused with the reason and the fix"
else
	ktap_fail "an unavailable 6.12 kernel is refused with the reason and the fix"
	ktap_diag <<<"rc=$rc $out"
fi

check "the series applies to this kernel's fs/ocfs2 and builds ocfs2.ko and ocfs2_nodemanager.ko only" bash -c "
	bash '$REPO/fs/ocfs2/prepare.sh' '$KSRC_TAR' '$tmp/src' >/dev/null &&
	grep -qx 'obj-m := ocfs2.o cluster/' '$tmp/src/fs/ocfs2/Kbuild' &&
	grep -qx 'obj-m := ocfs2_nodemanager.o' '$tmp/src/fs/ocfs2/cluster/Kbuild' &&
	grep -q Opt_noopenlocks '$tmp/src/fs/ocfs2/super.c' &&
	grep -q 'spin_lock_bh(&qs->qs_lock)' '$tmp/src/fs/ocfs2/cluster/quorum.c' &&
	! test -e '$tmp/src/fs/ocfs2/Makefile' && ! test -e '$tmp/src/fs/ocfs2/cluster/Makefile'"

mkdir -p "$tmp/bad/patches"
cp "$REPO/fs/ocfs2/prepare.sh" "$tmp/bad/"
cp "$REPO"/fs/ocfs2/patches/*.patch "$tmp/bad/patches/"
cp "$REPO/fs/ocfs2/series" "$tmp/bad/"
# The kernel moved on: the first line the first patch that removes lines
# removes is not there any more.
p2=$(cd "$tmp/bad/patches" && grep -l "^-$(printf '\t')" $(awk '!/^#/ && NF {print $1}' ../series) | head -n1)
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

# Ours replace the distro's modules of the same name: same vermagic, same
# dependencies, and every symbol the distro's other OCFS2 modules (o2dlm,
# dlmfs, the o2cb stack) take from ocfs2_nodemanager with the same CRC.
kmods="$KMODROOT/lib/modules/$KVER/kernel/fs/ocfs2"
ko() { ls "$1".ko "$1".ko.xz 2>/dev/null | head -n1; }	# 6.12 ships .ko.xz
for m in ocfs2 cluster/ocfs2_nodemanager; do
	stock=$(ko "$kmods/$m") ours="$REPO/build/ocfs2$KS/$(basename "$m").ko"
	check "built $(basename "$m").ko has the lab kernel's vermagic and needs the same modules as the distro's" bash -c "
		test \"\$(modinfo -F vermagic '$ours')\" = \"\$(modinfo -F vermagic '$stock')\" &&
		test \"\$(modinfo -F depends '$ours')\" = \"\$(modinfo -F depends '$stock')\""
done
symvers="$REPO/build/ocfs2-src$KS/fs/ocfs2/Module.symvers"
bad=$(for m in dlm/ocfs2_dlm dlmfs/ocfs2_dlmfs ocfs2_stack_o2cb; do
	f=$(ko "$kmods/$m") && modprobe --dump-modversions "$f" || echo "cannot read $kmods/$m.ko*"
done | awk -v symvers="$symvers" '
	BEGIN { while ((getline l < symvers) > 0) { split(l, f, "\t"); if (f[3] ~ /ocfs2_nodemanager$/) crc[f[2]] = f[1] } }
	/^cannot/ { print; next }
	($2 in crc) { n++; if (crc[$2] != $1) print "CRC of " $2 ": distro " $1 ", ours " crc[$2] }
	END { if (n < 20) print "only " n " ocfs2_nodemanager symbols found in the distro modules" }')
if [ -z "$bad" ]; then
	ktap_pass "the distro's o2dlm, dlmfs and o2cb stack take our ocfs2_nodemanager's symbols with their CRCs"
else
	ktap_fail "the distro's o2dlm, dlmfs and o2cb stack take our ocfs2_nodemanager's symbols with their CRCs"
	ktap_diag <<<"$bad"
fi

rel=$(cat "$REPO/VERSION")
check "archipctl --version (exit 0, --json before or after it too) and both modules' modinfo name release $rel, the OCFS2 ones archip-$rel" bash -c "
	set -o pipefail
	'$B/archipctl' --version | sed -n 1p | grep -qx 'archipctl $rel\(+g[0-9a-f]*\)\?' &&
	for a in '--json --version' '--version --json'; do
		'$B/archipctl' \$a | python3 -c 'import json, re, sys; v = json.load(sys.stdin)
assert re.fullmatch(r\"$rel(\\+g[0-9a-f]*)?\", v[\"archipctl\"]), v
assert all(isinstance(v[k], int) for k in (\"wire_protocol\", \"volume_format\")), v
assert set(v[\"netlink\"]) == {\"archip_srv\", \"archip_blk\"}, v' || exit 1
	done &&
	test \"\$(modinfo -F version '$REPO/drivers/block/archip/archip_blk.ko')\" = '$rel' &&
	test \"\$(modinfo -F version '$REPO/drivers/block/archip/archip_srv.ko')\" = '$rel' &&
	test \"\$(modinfo -F version '$REPO/build/ocfs2$KS/ocfs2.ko')\" = 'archip-$rel' &&
	test \"\$(modinfo -F version '$REPO/build/ocfs2$KS/ocfs2_nodemanager.ko')\" = 'archip-$rel'"

# Both kernels archip supports (compat.h): the modules build W=1 with no
# warning for each, in a copy (the tree's .ko files are the lab kernel's).
for k in "" -6.12; do
	env="$CACHE/kernel$k.env"
	check "archip_srv and archip_blk build for $(sed -n 's/^KVER=//p' "$env" 2>/dev/null || echo "kernel$k (missing: ARCHIP_KERNEL=6.12 make deps)"), W=1 with no warning" bash -c "
		. '$env' || exit 1
		mkdir -p '$tmp/w1$k' &&
		rsync -a --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
			--exclude='.*.cmd' --exclude='*.order' --exclude='*.symvers' \
			'$REPO/Kbuild' '$REPO/VERSION' '$REPO/include' '$REPO/drivers' '$tmp/w1$k/' || exit 1
		out=\$(make -j\$(nproc) -C \"\$KDIR\" M='$tmp/w1$k' W=1 modules 2>&1) || { echo \"\$out\" | tail -n 20; exit 1; }
		if grep -iE 'warning|error' <<<\"\$out\"; then exit 1; fi
		for m in archip_srv archip_blk; do
			test \"\$(modinfo -F vermagic '$tmp/w1$k/drivers/block/archip/'\$m.ko | cut -d' ' -f1)\" = \"\$KVER\" || exit 1
		done"
done

check "checkpatch: the OCFS2 patches and kernel sources are clean" make -s -C "$REPO" checkpatch

ktap_finish
