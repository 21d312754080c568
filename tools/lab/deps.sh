#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything archip needs to build, test and run its QEMU lab, and
# fetch the Debian 6.1 kernel the lab boots.
#
# The lab kernel is a Debian linux-image-6.1.0-N-amd64 whose headers
# (linux-headers-6.1.0-N-amd64) and source (linux-source-6.1) are of the
# very same Debian version: out-of-tree modules and the patched ocfs2.ko
# must match the booted kernel exactly.  We pick the newest N for which all
# three exist (or ARCHIP_KVER=6.1.0-N-amd64 if set), install the headers on
# this host, and download and *extract* (never install) the image and the
# source into the cache directory.
#
# Result: $ARCHIP_CACHE/kernel.env, sourced by the Makefile and the lab.
set -euo pipefail

CACHE=${ARCHIP_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache}
mkdir -p "$CACHE"

die() { echo "archip deps: error: $*" >&2; exit 1; }
say() { echo "archip deps: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages); rerun with sudo"
command -v apt-get >/dev/null || die "this needs a Debian 12 (bookworm) host with apt-get"

PKGS=(build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
      xz-utils rsync patch file
      qemu-system-x86 qemu-utils busybox-static ocfs2-tools fio iproute2
      e2fsprogs util-linux procps iputils-ping nbd-client
      libnl-3-dev libnl-genl-3-dev libcli11-dev nlohmann-json3-dev pkg-config g++ cmake
      python3 man-db groff-base bsdextrautils systemd)

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

pick_kver() {
	local n kv v srcvers
	srcvers=$(apt-cache madison linux-source-6.1 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
	[ -n "$srcvers" ] || { echo "no linux-source-6.1 in the apt archive" >&2; return 1; }
	if [ -n "${ARCHIP_KVER:-}" ]; then
		set -- "$ARCHIP_KVER"
	else
		set -- $(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
			 awk '{print $1}' | sed 's/^linux-image-//' | sort -t- -k2,2nr)
	fi
	for kv in "$@"; do
		v=$(pkgver "linux-image-$kv")
		[ -n "$v" ] || { say "linux-image-$kv: not in the archive"; continue; }
		[ "$(pkgver "linux-headers-$kv")" = "$v" ] ||
			{ say "linux-headers-$kv: not at version $v, skipping"; continue; }
		grep -qx "$v" <<<"$srcvers" ||
			{ say "linux-source-6.1: not at version $v, skipping $kv"; continue; }
		echo "$kv $v"
		return 0
	done
	return 1
}

if [ -f "$CACHE/kernel.env" ] && [ -z "${ARCHIP_REPICK:-}" ]; then
	# shellcheck disable=SC1091
	. "$CACHE/kernel.env"
	if [ -n "${ARCHIP_KVER:-}" ] && [ "$ARCHIP_KVER" != "$KVER" ]; then
		KVER=
	fi
	if [ -n "${KVER:-}" ] && [ -f "$KIMAGE" ] && [ -d "$KDIR" ] && [ -f "$KSRC_TAR" ]; then
		say "kernel $KVER (Debian $KDEBVER), cached"
		exit 0
	fi
fi

read -r KVER KDEBVER < <(pick_kver) ||
	die "no Debian 6.1 kernel whose image, headers and linux-source-6.1 share one version; \
run 'apt-get update', or set ARCHIP_KVER=6.1.0-N-amd64 to one listed by 'apt-cache search linux-image-6.1.0'"
say "picked kernel $KVER (Debian $KDEBVER): image, headers and source all match"

if [ ! -d "/usr/src/linux-headers-$KVER" ]; then
	say "installing linux-headers-$KVER"
	apt-get install -y -q --no-install-recommends "linux-headers-$KVER=$KDEBVER" \
		>>"$CACHE/apt-install.log" 2>&1 ||
		die "could not install linux-headers-$KVER, see $CACHE/apt-install.log"
fi

KROOT="$CACHE/kernel/$KVER"
mkdir -p "$KROOT/debs"
if [ ! -f "$KROOT/image/boot/vmlinuz-$KVER" ]; then
	say "downloading and extracting linux-image-$KVER (not installed on this host)"
	(cd "$KROOT/debs" && apt-get download -q "linux-image-$KVER=$KDEBVER" >/dev/null 2>&1) ||
		die "apt-get download linux-image-$KVER=$KDEBVER failed"
	rm -rf "$KROOT/image.tmp"
	dpkg-deb -x "$KROOT"/debs/linux-image-"$KVER"_*.deb "$KROOT/image.tmp"
	rm -rf "$KROOT/image" && mv "$KROOT/image.tmp" "$KROOT/image"
	rm -f "$KROOT"/debs/linux-image-*.deb
fi
if [ ! -f "$KROOT/linux-source-6.1.tar.xz" ]; then
	say "downloading linux-source-6.1=$KDEBVER"
	(cd "$KROOT/debs" && apt-get download -q "linux-source-6.1=$KDEBVER" >/dev/null 2>&1) ||
		die "apt-get download linux-source-6.1=$KDEBVER failed"
	dpkg-deb --fsys-tarfile "$KROOT"/debs/linux-source-6.1_*.deb |
		tar -xO ./usr/src/linux-source-6.1.tar.xz >"$KROOT/linux-source-6.1.tar.xz.tmp"
	mv "$KROOT/linux-source-6.1.tar.xz.tmp" "$KROOT/linux-source-6.1.tar.xz"
	rm -f "$KROOT"/debs/linux-source-*.deb
fi

cat >"$CACHE/kernel.env.tmp" <<EOT
# written by tools/lab/deps.sh
KVER=$KVER
KDEBVER=$KDEBVER
KDIR=/lib/modules/$KVER/build
KIMAGE=$KROOT/image/boot/vmlinuz-$KVER
KMODROOT=$KROOT/image
KSRC_TAR=$KROOT/linux-source-6.1.tar.xz
EOT
mv "$CACHE/kernel.env.tmp" "$CACHE/kernel.env"
say "kernel $KVER ready: $CACHE/kernel.env"
