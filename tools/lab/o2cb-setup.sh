#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bring the o2cb cluster stack online on a lab storage node by writing the
# node map straight into configfs, as o2cb_ctl would from cluster.conf.
# usage: o2cb-setup.sh CLUSTER SELF NAME:NUM:IP...
set -euo pipefail
cluster=$1 self=$2
shift 2

modprobe ocfs2_stack_o2cb
modprobe ocfs2
[ -d /sys/kernel/config/cluster ] || mount -t configfs configfs /sys/kernel/config
C=/sys/kernel/config/cluster/$cluster
mkdir -p "$C"
for spec in "$@"; do
	IFS=: read -r name num ip <<<"$spec"
	[ -d "$C/node/$name" ] && continue
	mkdir "$C/node/$name"
	echo "$ip" >"$C/node/$name/ipv4_address"
	echo 7777 >"$C/node/$name/ipv4_port"
	echo "$num" >"$C/node/$name/num"
done
# Emulated nodes share two host cores: be patient before declaring a peer
# dead (a false fence would reboot a healthy node).
echo "${O2CB_IDLE_TIMEOUT_MS:-30000}" >"$C/idle_timeout_ms"
echo "${O2CB_KEEPALIVE_DELAY_MS:-2000}" >"$C/keepalive_delay_ms"
echo "${O2CB_HEARTBEAT_THRESHOLD:-31}" >"$C/heartbeat/dead_threshold"
echo 1 >"$C/node/$self/local"
mkdir -p /etc/ocfs2
{
	echo "cluster:"
	echo "	node_count = $#"
	echo "	name = $cluster"
	for spec in "$@"; do
		IFS=: read -r name num ip <<<"$spec"
		printf 'node:\n\tip_port = 7777\n\tip_address = %s\n\tnumber = %s\n\tname = %s\n\tcluster = %s\n' \
			"$ip" "$num" "$name" "$cluster"
	done
} >/etc/ocfs2/cluster.conf
