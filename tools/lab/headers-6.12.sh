#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian 12's 6.12 LTS kernel headers, unpacked (never installed: the
# headers package depends on the kernel image) into the cache, so archip's
# modules can be built for 6.12 beside the lab's 6.1:
#   make archip KDIR=$(bash tools/lab/headers-6.12.sh)
# Prints the KDIR.  The newest linux-headers-6.12.N+deb12-amd64 the archive
# has, or ARCHIP_KVER_612=6.12.N+deb12-amd64.  Only the build so far: the
# lab boots 6.1 (issue 23 ports the lab and the OCFS2 series).
set -euo pipefail

CACHE=${ARCHIP_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}
die() { echo "archip headers-6.12: error: $*" >&2; exit 1; }
say() { echo "archip headers-6.12: $*" >&2; }

kv=${ARCHIP_KVER_612:-$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
	awk '{print $1}' | sed 's/^linux-headers-//' | sort -t. -k3,3n | tail -n1)}
[ -n "$kv" ] || die "no linux-headers-6.12.N+deb12-amd64 in the archive; run 'apt-get update' \
(bookworm's main suite has them), or set ARCHIP_KVER_612"
base=${kv%-amd64}
root=$CACHE/headers/$kv
kdir=$root/usr/src/linux-headers-$kv
if [ ! -f "$kdir/.archip-ready" ]; then
	say "downloading and unpacking linux-headers-$kv (not installed on this host)"
	rm -rf "$root" && mkdir -p "$root/debs"
	(cd "$root/debs" && apt-get download -q "linux-headers-$kv" "linux-headers-$base-common" \
		"linux-kbuild-$base" >/dev/null 2>&1) ||
		die "apt-get download of linux-headers-$kv, its -common and linux-kbuild-$base failed"
	for d in "$root"/debs/*.deb; do dpkg-deb -x "$d" "$root"; done
	rm -rf "$root/debs"
	# Its Makefile includes the common part by its installed path.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" "$kdir/Makefile"
	[ -f "$kdir/Module.symvers" ] && [ -x "$kdir/scripts/basic/fixdep" ] ||
		die "linux-headers-$kv unpacked without Module.symvers or kbuild's scripts"
	touch "$kdir/.archip-ready"
fi
echo "$kdir"
