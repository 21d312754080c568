#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the lab's debug kernel: the same linux-source-6.1 as the Debian
# kernel the lab boots, configured small (x86_64 defconfig + kvm_guest +
# what the lab loads) with KASAN, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP,
# KFENCE and kmemleak, hung-task detection and panic on any of them.
#
# Built once per machine: the result is cached under .cache/debug-kernel
# and reused while this script and the source tarball are unchanged (a hash
# of both is the stamp).  Reproducible: fixed build user, host, timestamp.
# Writes .cache/kernel-debug.env, which 'make ARCHIP_KERNEL=debug' and
# 'ARCHIP_KERNEL=debug archip-lab up' use instead of kernel.env.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
CACHE=${ARCHIP_CACHE:-$REPO/.cache}
DK=$CACHE/debug-kernel
say() { echo "archip debug-kernel: $*" >&2; }
die() { echo "archip debug-kernel: error: $*" >&2; exit 1; }

[ -f "$CACHE/kernel.env" ] || die "run 'make deps' first"
# shellcheck disable=SC1091
. "$CACHE/kernel.env"
[ -f "$KSRC_TAR" ] || die "linux-source tarball $KSRC_TAR missing: run 'make deps'"

stamp=$( (sha256sum "$0" | cut -d' ' -f1; echo "$KSRC_TAR $KDEBVER") | sha256sum | cut -c1-16)
if [ -f "$DK/stamp" ] && [ "$(cat "$DK/stamp")" = "$stamp" ] &&
   [ -f "$CACHE/kernel-debug.env" ]; then
	say "cached ($(cat "$DK/kernelrelease")), nothing to do"
	exit 0
fi

configure() {
	rm -rf "$DK"
	mkdir -p "$DK/src" "$DK/build" "$DK/image/boot"
	say "extracting $(basename "$KSRC_TAR")"
	tar -xJf "$KSRC_TAR" -C "$DK/src" --strip-components=1
	"${K[@]}" defconfig kvm_guest.config >/dev/null
	cfg() { "$DK/src/scripts/config" --file "$DK/build/.config" "$@"; }
	# What the lab needs: 9p root over virtio, overlay, modules, configfs,
	# debugfs, OCFS2 with o2cb as modules (ours replace ocfs2.ko and
	# ocfs2_nodemanager.ko), ext4, device-mapper with dm-delay (ocfs2_safety's
	# exclusion tests), the benchmarks' NBD and NVMe/TCP host and target,
	# HMAC-SHA256 for archip's handshake.
	cfg -e MODULES -e MODULE_UNLOAD -e BLK_DEV_INITRD \
	    -e VIRTIO -e VIRTIO_PCI -e VIRTIO_BLK -e VIRTIO_NET -e HW_RANDOM_VIRTIO \
	    -e NET_9P -e NET_9P_VIRTIO -e 9P_FS -e 9P_FS_POSIX_ACL -e OVERLAY_FS \
	    -e CONFIGFS_FS -e DEBUG_FS -e TMPFS -e DEVTMPFS -e DEVTMPFS_MOUNT \
	    -e EXT4_FS -e JBD2 -e QUOTA -e QUOTACTL \
	    -m OCFS2_FS -e OCFS2_FS_O2CB -e OCFS2_FS_STATS -d OCFS2_DEBUG_MASKLOG \
	    -m BLK_DEV_NBD -m NVME_TCP -m NVME_TARGET -m NVME_TARGET_TCP \
	    -e MD -e BLK_DEV_DM -m DM_DELAY \
	    -e SERIAL_8250 -e SERIAL_8250_CONSOLE -e MAGIC_SYSRQ -e BLK_DEV_LOOP \
	    -e CRYPTO_HMAC -e CRYPTO_SHA256
	# The checkers, each failing loudly.
	cfg -e KASAN -e KASAN_GENERIC -e KASAN_INLINE -e KASAN_VMALLOC \
	    -e PROVE_LOCKING -e DEBUG_LOCKDEP -e DEBUG_ATOMIC_SLEEP -e DEBUG_LIST \
	    -e KFENCE -e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF \
	    -e DETECT_HUNG_TASK -e BOOTPARAM_HUNG_TASK_PANIC \
	    --set-val DEFAULT_HUNG_TASK_TIMEOUT 120 \
	    -e SOFTLOCKUP_DETECTOR -e BOOTPARAM_SOFTLOCKUP_PANIC \
	    -e DEBUG_INFO_NONE -d DEBUG_INFO -d DEBUG_INFO_BTF \
	    -d DRM -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS -d INPUT_TOUCHSCREEN
	"${K[@]}" olddefconfig >/dev/null
	for o in KASAN PROVE_LOCKING DEBUG_ATOMIC_SLEEP KFENCE DEBUG_KMEMLEAK OCFS2_FS_O2CB 9P_FS DM_DELAY CRYPTO_HMAC CRYPTO_SHA256; do
		grep -qE "^CONFIG_$o=[ym]" "$DK/build/.config" || die "CONFIG_$o did not stick in the debug config"
	done
	echo "$stamp" >"$DK/configured"
}

start=$(date +%s)
export KBUILD_BUILD_USER=archip KBUILD_BUILD_HOST=lab
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 2026"
K=(make -s -C "$DK/src" O="$DK/build" LOCALVERSION=-archip-debug)
rm -f "$CACHE/kernel-debug.env"
# An interrupted build of the same stamp resumes where make stopped: the
# source and the configuration are the same, so only the build is redone.
if [ -f "$DK/configured" ] && [ "$(cat "$DK/configured")" = "$stamp" ] &&
   [ -f "$DK/build/.config" ]; then
	say "resuming the interrupted build in $DK"
else
	configure
fi

say "building (2 cores: about 40-60 minutes; once per machine, resumed if interrupted)"
"${K[@]}" -j"$(nproc)" bzImage modules >"$DK/build.log" 2>&1 ||
	{ tail -n 30 "$DK/build.log" >&2; die "kernel build failed, see $DK/build.log"; }
"${K[@]}" INSTALL_MOD_PATH="$DK/image" INSTALL_MOD_STRIP=1 modules_install >/dev/null
rel=$("${K[@]}" kernelrelease)
cp "$DK/build/arch/x86/boot/bzImage" "$DK/image/boot/vmlinuz-$rel"
echo "$rel" >"$DK/kernelrelease"
# External modules (ours, the patched ocfs2) build against the build tree.
cat >"$CACHE/kernel-debug.env" <<EOT
# written by tools/lab/debug-kernel.sh
KVER=$rel
KDEBVER=$KDEBVER
KDIR=$DK/build
KIMAGE=$DK/image/boot/vmlinuz-$rel
KMODROOT=$DK/image
KSRC_TAR=$KSRC_TAR
EOT
echo "$stamp" >"$DK/stamp"
say "kernel $rel built in $(( ($(date +%s) - start) / 60 )) min: $CACHE/kernel-debug.env"
