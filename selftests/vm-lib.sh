# SPDX-License-Identifier: GPL-2.0
#
# Helpers sourced by test commands running inside lab VMs.
SAN=/mnt/san

# "TYPE LEVEL FLAGS" for each OCFS2 lock resource of FILE on this node
# (TYPE: O open, W rw, M meta; LEVEL: -1 none, 0 NL, 3 PR, 5 EX).
locks_of() {
	local h
	h=$(printf %016x "$(stat -c %i "$1")") || return 1
	awk -v h="$h" 'substr($2, 8, 16) == h { print substr($2, 1, 1), $3, $4 }' \
		/sys/kernel/debug/ocfs2/*/locking_state
}

# Is this node holding (granted, attached) the TYPE lock of FILE?
lock_held() {
	local t l f
	while read -r t l f; do
		[ "$t" = "$2" ] && [ "$l" -ge 0 ] && [ $((f & 1)) = 1 ] && return 0
	done <<<"$(locks_of "$1")"
	return 1
}

used_bytes() { df -B1 --output=used "$SAN" | tail -n1 | tr -d ' '; }

# hold_open FILE TAG: keep FILE open on a descriptor in the background.
# Touch /tmp/TAG.read to make it read the file through that descriptor
# (result in /tmp/TAG.sum, .err, .rc) and /tmp/TAG.release to close it.
hold_open() {
	local f=$1 t=/tmp/$2
	rm -f "$t".*
	(
		exec 3<"$f" || exit 1
		: >"$t.opened"
		while [ ! -e "$t.read" ] && [ ! -e "$t.release" ]; do sleep 0.1; done
		if [ -e "$t.read" ]; then
			sha256sum <&3 >"$t.sum" 2>"$t.err"
			echo $? >"$t.rc"
		fi
		while [ ! -e "$t.release" ]; do sleep 0.1; done
		exec 3<&-
		: >"$t.closed"
	) </dev/null >/dev/null 2>&1 &
	for _ in $(seq 100); do [ -e "$t.opened" ] && return 0; sleep 0.1; done
	return 1
}

wait_file() { for _ in $(seq "${2:-200}"); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
