#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything archip needs to build, test and run its QEMU lab, and
# fetch the Debian kernel(s) the lab boots.
#
# The lab kernel is a Debian kernel image whose headers and source
# (linux-source-X.Y) are of the very same Debian version: out-of-tree
# modules and the patched ocfs2.ko must match the booted kernel exactly.
#   6.1  (always): linux-image-6.1.0-N-amd64; its headers are installed on
#        this host, the image and the source only downloaded and
#        *extracted* (never installed) into the cache.  -> kernel.env
#   6.12 (ARCHIP_KERNEL=6.12): linux-image-6.12.N+deb12-amd64, Debian 12's
#        LTS kernel; its headers package depends on the image, so the
#        headers are unpacked into the cache as well.  -> kernel-6.12.env
# We pick the newest version for which all three exist, or the one
# ARCHIP_KVER (6.1.0-N-amd64) / ARCHIP_KVER_612 (6.12.N+deb12-amd64) names.
#
# Result: $ARCHIP_CACHE/kernel[-6.12].env, sourced by the Makefile and the lab.
set -euo pipefail

CACHE=${ARCHIP_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}
mkdir -p "$CACHE"

die() { echo "archip deps: error: $*" >&2; exit 1; }
say() { echo "archip deps: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages); rerun with sudo"
command -v apt-get >/dev/null || die "this needs a Debian 12 (bookworm) host with apt-get"
case ${ARCHIP_KERNEL:-} in
''|debug|6.1|6.12) ;;
*) die "ARCHIP_KERNEL=$ARCHIP_KERNEL: known are 6.1 (the default), debug (6.1, make debug-kernel) and 6.12" ;;
esac

PKGS=(build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
      xz-utils rsync patch file
      qemu-system-x86 qemu-utils busybox-static ocfs2-tools fio iproute2
      e2fsprogs util-linux procps iputils-ping nbd-client
      libnl-3-dev libnl-genl-3-dev libcli11-dev nlohmann-json3-dev pkg-config g++ cmake
      python3 man-db groff-base bsdextrautils systemd udev
      debhelper dh-dkms dkms)

# Skip apt entirely when every package is already there (the common case).
need_install=0
st=$(dpkg-query -W -f='${Status}\n' "${PKGS[@]}" 2>/dev/null) || need_install=1
[ "$(grep -c 'install ok installed' <<<"$st")" = "${#PKGS[@]}" ] || need_install=1

export DEBIAN_FRONTEND=noninteractive
if [ $need_install = 1 ]; then
	say "apt-get update"
	apt-get update -q >"$CACHE/apt-update.log" 2>&1 ||
		die "apt-get update failed, see $CACHE/apt-update.log"
	say "installing: ${PKGS[*]}"
	apt-get install -y -q --no-install-recommends "${PKGS[@]}" \
		>"$CACHE/apt-install.log" 2>&1 ||
		die "apt-get install failed, see $CACHE/apt-install.log"
fi

# Version of a binary package as the archive offers it (first = newest).
pkgver() { apt-cache show "$1" 2>/dev/null | sed -n "s/^Version: //p" | head -n1 || true; }

# pick_kver XY WANT PATTERN: "KVER DEBVER" of image WANT (or, if empty, the
# newest whose package name matches PATTERN) whose headers and
# linux-source-XY are at its version.
pick_kver() {
	local xy=$1 want=$2 pattern=$3 kv v srcvers
	srcvers=$(apt-cache madison "linux-source-$xy" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
	[ -n "$srcvers" ] || { say "no linux-source-$xy in the apt archive"; return 1; }
	if [ -n "$want" ]; then
		set -- "$want"
	else
		# Newest first: 6.1.0-N by N, 6.12.N+deb12 by N.
		set -- $(apt-cache search --names-only "$pattern" | awk '{print $1}' |
			 sed 's/^linux-image-//' | sort -V -r)
	fi
	for kv in "$@"; do
		v=$(pkgver "linux-image-$kv")
		[ -n "$v" ] || { say "linux-image-$kv: not in the archive"; continue; }
		[ "$(pkgver "linux-headers-$kv")" = "$v" ] ||
			{ say "linux-headers-$kv: not at version $v, skipping"; continue; }
		grep -qx "$v" <<<"$srcvers" ||
			{ say "linux-source-$xy: not at version $v, skipping $kv"; continue; }
		echo "$kv $v"
		return 0
	done
	return 1
}

# The 6.12 headers, unpacked (with their -common part and the kbuild
# scripts) under ROOT; their Makefile includes the common part by its
# installed path.  Prints the KDIR.
unpack_headers() {
	local kv=$1 v=$2 root=$3 base=${1%-amd64} kdir
	kdir=$root/usr/src/linux-headers-$kv
	if [ ! -f "$kdir/.archip-ready" ]; then
		say "downloading and unpacking linux-headers-$kv (not installed on this host)"
		rm -rf "$root" && mkdir -p "$root/debs"
		(cd "$root/debs" && apt-get download -q "linux-headers-$kv=$v" \
			"linux-headers-$base-common=$v" "linux-kbuild-$base=$v" >/dev/null 2>&1) ||
			die "apt-get download of linux-headers-$kv, its -common and linux-kbuild-$base ($v) failed"
		for d in "$root"/debs/*.deb; do dpkg-deb -x "$d" "$root"; done
		rm -rf "$root/debs"
		sed -i "s|^include /usr/src/|include $root/usr/src/|" "$kdir/Makefile"
		[ -f "$kdir/Module.symvers" ] && [ -x "$kdir/scripts/basic/fixdep" ] ||
			die "linux-headers-$kv unpacked without Module.symvers or kbuild's scripts"
		touch "$kdir/.archip-ready"
	fi
	echo "$kdir"
}

# fetch_kernel XY ENVFILE WANTVAR FORM PATTERN: pick (the image the
# variable WANTVAR names, of the form FORM, or the newest whose package
# matches PATTERN), fetch and describe one kernel of series XY.
fetch_kernel() {
	local xy=$1 env=$CACHE/$2 wantvar=$3 form=$4 pattern=$5 KVER KDEBVER KDIR KROOT want
	want=${!wantvar:-}
	if [ -f "$env" ] && [ -z "${ARCHIP_REPICK:-}" ]; then
		local KIMAGE= KSRC_TAR=
		# shellcheck disable=SC1090
		. "$env"
		[ -z "$want" ] || [ "$want" = "$KVER" ] || KVER=
		if [ -n "${KVER:-}" ] && [ -f "$KIMAGE" ] && [ -d "$KDIR" ] && [ -f "$KSRC_TAR" ]; then
			say "kernel $KVER (Debian $KDEBVER), cached"
			return 0
		fi
	fi

	read -r KVER KDEBVER < <(pick_kver "$xy" "$want" "$pattern") ||
		die "no Debian $xy kernel whose image, headers and linux-source-$xy share one version; \
run 'apt-get update', or set $wantvar=$form to one listed by 'apt-cache search linux-image-$xy'"
	say "picked kernel $KVER (Debian $KDEBVER): image, headers and source all match"

	# A KVER keeps its name across Debian revisions (6.1.192-2, -3): what
	# is cached must be of this one.
	KROOT="$CACHE/kernel/$KVER"
	if [ -f "$KROOT/debver" ] && [ "$(cat "$KROOT/debver")" != "$KDEBVER" ]; then
		say "$KVER cached at Debian $(cat "$KROOT/debver"), not $KDEBVER: fetching it afresh"
		rm -rf "$KROOT"
	fi
	mkdir -p "$KROOT/debs"
	echo "$KDEBVER" >"$KROOT/debver"
	if [ "$xy" = 6.1 ]; then
		KDIR=/lib/modules/$KVER/build
		if [ ! -d "/usr/src/linux-headers-$KVER" ]; then
			say "installing linux-headers-$KVER"
			apt-get install -y -q --no-install-recommends "linux-headers-$KVER=$KDEBVER" \
				>>"$CACHE/apt-install.log" 2>&1 ||
				die "could not install linux-headers-$KVER, see $CACHE/apt-install.log"
		fi
	else
		KDIR=$(unpack_headers "$KVER" "$KDEBVER" "$KROOT/headers")
	fi
	if [ ! -f "$KROOT/image/boot/vmlinuz-$KVER" ]; then
		say "downloading and extracting linux-image-$KVER (not installed on this host)"
		(cd "$KROOT/debs" && apt-get download -q "linux-image-$KVER=$KDEBVER" >/dev/null 2>&1) ||
			die "apt-get download linux-image-$KVER=$KDEBVER failed"
		rm -rf "$KROOT/image.tmp"
		dpkg-deb -x "$KROOT"/debs/linux-image-"$KVER"_*.deb "$KROOT/image.tmp"
		rm -rf "$KROOT/image" && mv "$KROOT/image.tmp" "$KROOT/image"
		rm -f "$KROOT"/debs/linux-image-*.deb
	fi
	if [ ! -f "$KROOT/linux-source-$xy.tar.xz" ]; then
		say "downloading linux-source-$xy=$KDEBVER"
		(cd "$KROOT/debs" && apt-get download -q "linux-source-$xy=$KDEBVER" >/dev/null 2>&1) ||
			die "apt-get download linux-source-$xy=$KDEBVER failed"
		dpkg-deb --fsys-tarfile "$KROOT"/debs/linux-source-"$xy"_*.deb |
			tar -xO "./usr/src/linux-source-$xy.tar.xz" >"$KROOT/linux-source-$xy.tar.xz.tmp"
		mv "$KROOT/linux-source-$xy.tar.xz.tmp" "$KROOT/linux-source-$xy.tar.xz"
		rm -f "$KROOT"/debs/linux-source-*.deb
	fi

	cat >"$env.tmp" <<EOT
# written by tools/lab/deps.sh
KVER=$KVER
KDEBVER=$KDEBVER
KDIR=$KDIR
KIMAGE=$KROOT/image/boot/vmlinuz-$KVER
KMODROOT=$KROOT/image
KSRC_TAR=$KROOT/linux-source-$xy.tar.xz
EOT
	mv "$env.tmp" "$env"
	say "kernel $KVER ready: $env"
}

# 6.1 always: the default lab kernel, the debug kernel's base and
# checkpatch's source.  6.12 when asked ('make test' does: the suite runs
# its core subset there too).
fetch_kernel 6.1 kernel.env ARCHIP_KVER 6.1.0-N-amd64 '^linux-image-6\.1\.0-[0-9]+-amd64$'
[ "${ARCHIP_KERNEL:-}" != 6.12 ] ||
	fetch_kernel 6.12 kernel-6.12.env ARCHIP_KVER_612 6.12.N+deb12-amd64 '^linux-image-6\.12\.[0-9]+\+deb12-amd64$'
