#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What an operator reads and types (no VM boots): the man pages render
# cleanly and cover every command, option and module parameter; the bash
# completion completes what archipctl accepts; make install puts the tools,
# pages and completion where man and bash look for them.
. "$(dirname "$0")/lib.sh"
set -o pipefail
ktap_plan 5
man8=$B/man/archipctl.8 man7=$B/man/archip.7 comp=$B/archipctl.bash-completion
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "archipctl.8 and archip.7 render with no groff warning" bash -c "
	for f in '$man8' '$man7'; do
		test -s \"\$f\" || { echo \"\$f missing (run make)\"; exit 1; }
		w=\$(groff -man -ww -z \"\$f\" 2>&1) || exit 1
		[ -z \"\$w\" ] || { echo \"\$f: \$w\"; exit 1; }
	done"

# Every command and option that --help lists, read from --help itself (not
# from the generator that wrote the page), must be in the rendered page
# under that command's heading.
MANWIDTH=200 man -l "$man8" 2>/dev/null | col -b >"$tmp/man8.txt"
help_walk() {
	local path=$1 kind word
	echo "CMD $path"
	# shellcheck disable=SC2086
	"$B/archipctl" ${path#archipctl} --help 2>/dev/null | awk '
		/^Subcommands:/ { s = "SUB"; next } /^Options:/ { s = "OPT"; next }
		/^Positionals:/ { s = "POS"; next } /^$/ { s = "" }
		!s || !/^  [^ ]/ { next }	# wrapped descriptions are indented deeper
		s != "OPT" { print s " " $1; next }
		{ n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] ~ /^--/) print "OPT " a[i] }' |
	while read -r kind word; do
		case $kind in
		SUB) help_walk "$path $word" ;;
		*) echo "$kind $word" ;;
		esac
	done
}
help_walk archipctl >"$tmp/help.txt"
missing=$(awk -v man="$tmp/man8.txt" '
	BEGIN { while ((getline l < man) > 0) { if (l ~ /^   archipctl /) { split(l, w, " "); cur = ""; for (i = 1; i <= length(w); i++) if (w[i] ~ /^[a-z]+$/) cur = cur (cur ? " " : "") w[i]; sec[cur] = 1 } else if (cur != "") { split(l, w, " "); if (w[1] != "") body[cur, w[1]] = 1 } else { split(l, w, " "); if (w[1] ~ /^--/) body["archipctl", w[1]] = 1 } } }
	$1 == "CMD" { $1 = ""; cmd = substr($0, 2); if (cmd != "archipctl" && !(cmd in sec)) print "no section for " cmd; next }
	$2 == "--help" || $2 == "--version" { next }
	$1 == "OPT" && !((cmd, $2) in body) { print cmd ": " $2 " not documented" }
	$1 == "POS" && !((cmd, toupper($2)) in body) { print cmd ": argument " $2 " not documented" }' "$tmp/help.txt")
n=$(grep -c '^CMD' "$tmp/help.txt")
if [ -z "$missing" ] && [ "$n" -ge 25 ]; then
	ktap_pass "archipctl.8 documents each of the $n commands --help lists, with every argument and option"
else
	ktap_fail "archipctl.8 documents each of the commands --help lists, with every argument and option"
	ktap_diag <<<"$n commands from --help; ${missing:-}"
fi

MANWIDTH=200 man -l "$man7" 2>/dev/null | col -b >"$tmp/man7.txt"
params=$(for m in archip_blk archip_srv; do
	modinfo -F parm "$REPO/drivers/block/archip/$m.ko" | cut -d: -f1; done)
undoc=$(for p in $params noopenlocks nowritelocks; do grep -qw -- "$p" "$tmp/man7.txt" || echo "$p"; done)
if [ -n "$params" ] && [ -z "$undoc" ]; then
	ktap_pass "archip.7 documents all $(wc -w <<<"$params") module parameters modinfo lists, and both mount options"
else
	ktap_fail "archip.7 documents every module parameter modinfo lists, and both mount options"
	ktap_diag <<<"parameters: $(echo ${params:-none found: run make}); undocumented: $(echo $undoc)"
fi

# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_archipctl; echo "${COMPREPLY[*]}"' _ "$comp" "$@"
}
want() {	# want "EXPECTED" WORDS...
	local exp=$1 got
	shift
	got=$(complete_words "$@" | tr ' ' '\n' | sort | xargs) || got="(failed)"
	[ "$got" = "$exp" ] || echo "'$*': got '$got', want '$exp'"
}
bad=$({
	want "volume" archipctl vol
	want "snapshot" archipctl volume sn
	want "--queue-depth --queues" archipctl map --que
	want "list" archipctl volume --server 10.0.0.1 li
	want "--json" archipctl volume create --js
	want "$tmp" archipctl --key-file "$tmp"
	want "" archipctl key generate zz
})
if [ -z "$bad" ]; then
	ktap_pass "bash completion: commands and options at each level, file names after --key-file"
else
	ktap_fail "bash completion: commands and options at each level, file names after --key-file"
	ktap_diag <<<"$bad"
fi

check "make install DESTDIR=...: archipctl, archip-obj, both man pages and the completion where man and bash look" bash -c "
	make -s -C '$REPO/tools/archipctl' install DESTDIR='$tmp/root' >/dev/null &&
	d='$tmp/root/usr' &&
	test -x \$d/sbin/archipctl && test -x \$d/sbin/archip-obj &&
	cmp -s \$d/share/man/man8/archipctl.8 '$man8' && cmp -s \$d/share/man/man7/archip.7 '$man7' &&
	cmp -s \$d/share/bash-completion/completions/archipctl '$comp' &&
	MANPATH=\$d/share/man man -w archipctl | grep -qx \$d/share/man/man8/archipctl.8"

ktap_finish
