#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS's build of archip for one kernel (dkms.conf's MAKE): archip_srv and
# archip_blk, and ocfs2.ko and ocfs2_nodemanager.ko patched from that
# kernel's own source, which Debian's linux-source-X.Y package installs as
# /usr/src/linux-source-X.Y.tar.xz (ARCHIP_KSRC_TAR names another).  Keep
# it at the kernel's version: the OCFS2 modules replace the distro's.
# usage: dkms-build.sh KERNELVER KERNEL_SOURCE_DIR  (in the DKMS build dir)
set -euo pipefail
kver=$1 kdir=$2
xy=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$kver")
tar=${ARCHIP_KSRC_TAR:-/usr/src/linux-source-$xy.tar.xz}
[ -f "$tar" ] || {
	echo "archip-dkms: $tar missing: apt-get install linux-source-$xy (at the version of linux-image-$kver)" >&2
	exit 1
}
# DKMS runs MAKE[0] as written (its own -j is for its default command):
# one job per CPU here, and the archip modules build while fs/ocfs2 is
# extracted from the source tarball (a whole-file xz decompression).
jobs=-j$(nproc)
make $jobs -C "$kdir" M="$PWD" modules &
mk=$!
bash fs/ocfs2/prepare.sh "$tar" "$PWD/ocfs2-src" || { kill "$mk" 2>/dev/null; wait; exit 1; }
wait "$mk"
make $jobs -C "$kdir" M="$PWD/ocfs2-src/fs/ocfs2" modules
