#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages, installed on lab nodes and used.  'make deb' builds
# archipctl and archip-dkms.  DKMS builds archip's modules from
# archip-dkms's own source once, on the build host, for the lab's kernel,
# and packs the binaries (dkms mktarball --binaries-only).  On a storage
# node and a hypervisor, which have no kernel headers (as hosts without a
# compiler), the binaries go where archip-dkms's postinst loads them from
# and dpkg installs both packages: DKMS installs the binaries and compiles
# nothing (under TCG its build would take ~10 minutes).  Then s1 serves as archip-server.service says and h1 maps its
# maptab as archip-map.service says (their lines run as written: systemd
# is not PID 1 in the lab), udev names the device with the packaged rule,
# data goes through it, checked by sha256, and dpkg --purge takes it all
# away.  Runs last in the suite: the nodes' module trees get a writable
# layer for the install, removed at the end.
. "$(dirname "$0")/lib.sh"
use_lab
load_kernel_env
VER=$(cat "$REPO/VERSION")
DEB=$REPO/build/deb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; lab_exit' EXIT

ktap_plan 8

# What each package must hold (paths as dpkg-deb -c prints them).
CTL_FILES="./usr/sbin/archipctl ./usr/sbin/archip-obj ./usr/sbin/archipmap
./lib/systemd/system/archip-server.service ./lib/systemd/system/archip-map.service
./lib/udev/rules.d/60-archip.rules ./usr/share/man/man8/archipctl.8.gz
./usr/share/man/man7/archip.7.gz ./usr/share/bash-completion/completions/archipctl
./usr/share/doc/archipctl/examples/server.conf ./usr/share/doc/archipctl/examples/maptab"
DKMS_FILES="./usr/src/archip-$VER/dkms.conf ./usr/src/archip-$VER/dkms-build.sh
./usr/src/archip-$VER/Kbuild ./usr/src/archip-$VER/fs/ocfs2/series
./usr/src/archip-$VER/drivers/block/archip/srv_main.c ./usr/src/archip-$VER/include/uapi/linux/archip.h"
build_debs() {
	local f
	make -s -C "$REPO" deb >/dev/null || return 1
	for f in $CTL_FILES; do
		dpkg-deb -c "$DEB/archipctl_${VER}_amd64.deb" | awk '{print $6}' | grep -qx -- "$f" ||
			{ echo "archipctl lacks $f"; return 1; }
	done
	for f in $DKMS_FILES; do
		dpkg-deb -c "$DEB/archip-dkms_${VER}_all.deb" | awk '{print $6}' | grep -qx -- "$f" ||
			{ echo "archip-dkms lacks $f"; return 1; }
	done
	# The units are enabled at install, never started by it.
	dpkg-deb -e "$DEB/archipctl_${VER}_amd64.deb" "$tmp/ctl.control" || return 1
	grep -q 'deb-systemd-helper enable .*archip-map\.service' "$tmp/ctl.control/postinst" &&
		grep -q 'deb-systemd-helper enable .*archip-server\.service' "$tmp/ctl.control/postinst" ||
		{ echo "the postinst does not enable both units"; return 1; }
	! grep -q 'deb-systemd-invoke .*start' "$tmp/ctl.control/postinst" ||
		{ echo "the postinst starts a unit"; return 1; }
	ls -l "$DEB"/*.deb
}
check_v "make deb: archipctl (tools, units enabled not started, udev rule, man pages, completion) and archip-dkms (source, dkms.conf)" \
	build_debs

# DKMS itself, in a private tree (of the host's own DKMS state only the
# signing key it makes once, /var/lib/dkms/mok.key, is used).
dkms_binaries() {
	local d=$tmp/dkms m
	local opts=(-m archip -v "$VER" -k "$KVER" --dkmstree "$d/tree" --sourcetree "$d/root/usr/src"
		--installtree "$d/inst")
	mkdir -p "$d/tree" "$d/inst" &&
	dpkg-deb -x "$DEB/archip-dkms_${VER}_all.deb" "$d/root" || return 1
	ARCHIP_KSRC_TAR=$KSRC_TAR dkms build "${opts[@]}" --kernelsourcedir "$KDIR" >"$d/build.log" 2>&1 ||
		{ tail -n 20 "$d/build.log"; cat "$d/tree/archip/$VER/build/make.log" 2>/dev/null | tail -n 20; return 1; }
	for m in archip_srv archip_blk ocfs2 ocfs2_nodemanager; do
		test "$(modinfo -F vermagic "$d/tree/archip/$VER/$KVER/x86_64/module/$m.ko"* | cut -d' ' -f1)" = "$KVER" ||
			{ echo "$m: not built for $KVER"; return 1; }
	done
	dkms mktarball "${opts[@]}" --binaries-only --archive=archip-bin.tar.gz >/dev/null || return 1
	for n in s1 h1; do
		cp "$DEB/archipctl_${VER}_amd64.deb" "$DEB/archip-dkms_${VER}_all.deb" \
			"$d/tree/archip/$VER/tarball/archip-bin.tar.gz" "$ARCHIP_LAB/nodes/$n/share/" || return 1
	done
	echo "DKMS built archip_srv, archip_blk, ocfs2, ocfs2_nodemanager for $KVER from archip-dkms's source"
}

if ! out=$("$LABCMD" up $LAB_REUSE -s 2 -H 2 -o noopenlocks,nowritelocks 2>&1); then
	ktap_fail "lab up: 2 storage nodes (OCFS2) + 2 hypervisors"
	ktap_diag <<<"$out"
	exit 1
fi
ktap_pass "lab up: 2 storage nodes (OCFS2) + 2 hypervisors"

check_v "DKMS builds the four modules from archip-dkms's source for $KVER and packs the binaries" dkms_binaries

# On a node: a writable layer over its module tree (the lab's is the
# host's, read-only) without the tree's own archip modules, then the
# binaries where archip-dkms's postinst looks for them (dh_dkms: a
# NAME-VERSION.dkms.tar.gz in /usr/share/archip-dkms is loaded with dkms
# ldtarball and installed, nothing is compiled), then the packages.
# mandb over every man page of the host would take minutes under TCG:
# its trigger is off (man -w still finds the pages).  A "! cmd" never
# stops a "set -e" script: each here says "|| exit 1".
INSTALL="set -e
	export DEBIAN_FRONTEND=noninteractive
	mkdir -p /tmp/mods/u /tmp/mods/w
	mount -t overlay -o lowerdir=/lib/modules,upperdir=/tmp/mods/u,workdir=/tmp/mods/w mods /lib/modules
	rm -f /lib/modules/$KVER/updates/*.ko	# dkms install runs depmod
	rm -f /var/lib/man-db/auto-update
	test ! -e /lib/modules/$KVER/build
	install -D -m 644 /lab/archip-bin.tar.gz /usr/share/archip-dkms/archip-$VER.dkms.tar.gz
	t0=\$SECONDS
	dpkg -i /lab/archipctl_${VER}_amd64.deb /lab/archip-dkms_${VER}_all.deb >/tmp/dpkg.log 2>&1 ||
		{ tail -n 20 /tmp/dpkg.log; exit 1; }
	echo dpkg -i took \$((SECONDS - t0)) s
	dkms status archip | grep -qx 'archip/$VER, $KVER, x86_64: installed' || { dkms status; tail -n 20 /tmp/dpkg.log; exit 1; }
	! grep -q 'Building initial module' /tmp/dpkg.log || exit 1
	for m in archip_srv archip_blk ocfs2 ocfs2_nodemanager; do
		modinfo -n \$m | grep -q '^/lib/modules/$KVER/updates/dkms/'\$m'\.ko' || { echo \"\$m: \$(modinfo -n \$m)\"; exit 1; }
	done
	test \"\$(modinfo -F version ocfs2)\" = archip-$VER
	test \"\$(command -v archipctl)\" = /usr/sbin/archipctl
	archipctl --version | grep -q '^archipctl $VER'
	test \"\$(man -w archipctl)\" = /usr/share/man/man8/archipctl.8.gz
	bash -c '. /usr/share/bash-completion/completions/archipctl && complete -p archipctl' >/dev/null
	test -L /etc/systemd/system/multi-user.target.wants/archip-map.service"
# both FN: FN s1 and FN h1 at once (each VM takes a host core; dpkg's
# depmod over the whole module tree takes a minute under TCG), then what
# each printed; fails if either did.
both() {
	local f=$1 n rc=0
	for n in s1 h1; do
		("$f" "$n" >"$tmp/$f.$n" 2>&1; echo $? >"$tmp/$f.$n.rc") &
	done
	wait
	for n in s1 h1; do
		echo "== $n"
		cat "$tmp/$f.$n"
		[ "$(cat "$tmp/$f.$n.rc")" = 0 ] || rc=1
	done
	return $rc
}
install_on() { lab "$1" "$INSTALL"; }
check_v "dpkg installs both packages on s1 and h1: archip-dkms's postinst installs the DKMS binaries into updates/dkms, compiles nothing" \
	both install_on

# A unit's Exec lines of one kind, run as systemd would run them (its
# '-' prefix, failure ignored, dropped; EnvironmentFile exported; no
# process substitution: the VMs have no /dev/fd).
UNITRUN='unit_run() {
	local line
	while IFS= read -r line; do
		eval "${line#-}" || return 1
	done <<<"$(sed -n "s/^$2=//p" /lib/systemd/system/$1)"
}'

serve() {
	lab s1 "set -e; $UNITRUN
		mkdir -p $STORE
		echo ARCHIP_ROOT=$STORE >/etc/archip/server.conf
		set -a; . /etc/archip/server.conf; set +a
		unit_run archip-server.service ExecStartPre
		unit_run archip-server.service ExecStart
		test \"\$(cat /sys/module/archip_srv/srcversion)\" = \"\$(modinfo -F srcversion archip_srv)\"
		archipctl server status | grep -q $STORE
		echo s1 serves $STORE from \$(modinfo -n archip_srv)"
}
check_v "s1: archip-server.service's lines with /etc/archip/server.conf start the packaged archip_srv" serve

# h1 as at boot: udev with the packaged rule, then archip-map.service.
map_use() {
	lab h1 "set -e; $UNITRUN
		archipctl volume create pk --size 64M --server $S1 >/dev/null
		/lib/systemd/systemd-udevd --daemon
		printf 'pk $S1,$S2\n' >/etc/archip/maptab
		unit_run archip-map.service ExecStartPre
		unit_run archip-map.service ExecStart
		test \"\$(cat /sys/module/archip_blk/srcversion)\" = \"\$(modinfo -F srcversion archip_blk)\"
		udevadm settle -t 60
		test -b /dev/archip/pk && test -L /dev/disk/by-id/archip-pk
		head -c 16M /dev/urandom >/tmp/pk
		dd if=/tmp/pk of=/dev/archip/pk bs=1M oflag=direct status=none
		unit_run archip-map.service ExecStop
		! archipctl list | grep -q pk || exit 1
		unit_run archip-map.service ExecStart
		udevadm settle -t 60
		test \"\$(head -c 16M /dev/archip/pk | sha256sum)\" = \"\$(sha256sum </tmp/pk)\"
		echo 16 MiB through /dev/archip/pk, unmapped and mapped again by the unit: sha256 equal
		unit_run archip-map.service ExecStop
		archipctl volume remove pk --server $S1 >/dev/null
		m=\$(modprobe -v ocfs2)
		grep -q 'insmod /lib/modules/$KVER/updates/dkms/ocfs2\.ko' <<<\"\$m\"
		modprobe -r ocfs2
		echo the packaged ocfs2 loads on h1
		udevadm control --exit"
}
check_v "h1: archip-map.service's lines map /etc/archip/maptab, the packaged udev rule names /dev/archip/pk; data by sha256 across an unmap" map_use

# Everything goes: modules out of updates/dkms, tools, units.
purge_on() {
	lab "$1" "set -e
		modprobe -r \$([ $1 = s1 ] && echo archip_srv || echo archip_blk)
		t0=\$SECONDS
		dpkg --purge archip-dkms archipctl >/tmp/dpkg.log 2>&1 || { tail -n 20 /tmp/dpkg.log; exit 1; }
		echo dpkg --purge took \$((SECONDS - t0)) s
		! ls /lib/modules/$KVER/updates/dkms/*.ko* 2>/dev/null || exit 1
		test ! -e /usr/sbin/archipctl && test ! -e /lib/systemd/system/archip-map.service
		test ! -e /etc/systemd/system/multi-user.target.wants/archip-map.service
		test -z \"\$(dkms status archip)\"
		rm -f /etc/archip/server.conf /etc/archip/maptab /usr/share/archip-dkms/archip-$VER.dkms.tar.gz
		umount /lib/modules && rm -rf /tmp/mods
		echo purged"
}
purge() {
	lab s1 "$UNITRUN; set -a; . /etc/archip/server.conf; set +a
		unit_run archip-server.service ExecStop" || return 1
	both purge_on
}
check_v "dpkg --purge removes modules, tools and units from s1 and h1" purge

check "no WARN, BUG, oops or panic on any node (panic_on_warn=1)" "$LABCMD" check

ktap_finish
