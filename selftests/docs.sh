#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What an operator installs, reads and types (no VM boots): the man pages
# render cleanly and cover every command, option and module parameter; the
# bash completion completes what archipctl accepts; make install puts the
# tools, pages, completion and systemd units where man, bash and systemd
# look for them; the units verify; archipmap maps and unmaps a maptab.
. "$(dirname "$0")/lib.sh"
set -o pipefail
ktap_plan 7
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

check "make install DESTDIR=...: archipctl, archip-obj, archipmap, both man pages, the completion and the units where man, bash and systemd look" bash -c "
	make -s -C '$REPO/tools/archipctl' install DESTDIR='$tmp/root' >/dev/null &&
	d='$tmp/root/usr' &&
	test -x \$d/sbin/archipctl && test -x \$d/sbin/archip-obj && test -x \$d/sbin/archipmap &&
	cmp -s \$d/share/man/man8/archipctl.8 '$man8' && cmp -s \$d/share/man/man7/archip.7 '$man7' &&
	cmp -s \$d/share/bash-completion/completions/archipctl '$comp' &&
	test -f \$d/lib/systemd/system/archip-server.service &&
	test -f \$d/lib/systemd/system/archip-map.service &&
	test -f \$d/share/doc/archipctl/examples/maptab && test -f \$d/lib/udev/rules.d/60-archip.rules &&
	MANPATH=\$d/share/man man -w archipctl | grep -qx \$d/share/man/man8/archipctl.8"

# The units as systemd reads them: no unknown key, every command and man
# page they name found (the installed ones, pointed to by path and MANPATH).
mkdir -p "$tmp/units"
for u in archip-server.service archip-map.service; do
	sed "s|/usr/sbin/|$tmp/root/usr/sbin/|g" "$tmp/root/usr/lib/systemd/system/$u" >"$tmp/units/$u"
done
out=$(MANPATH=$tmp/root/usr/share/man systemd-analyze verify "$tmp/units/archip-server.service" \
	"$tmp/units/archip-map.service" 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then
	ktap_pass "systemd-analyze verify: archip-server.service and archip-map.service clean"
else
	ktap_fail "systemd-analyze verify: archip-server.service and archip-map.service clean"
	ktap_diag <<<"exit status $rc: $out"
fi

# archipmap against a stand-in archipctl that logs what it is asked and
# keeps the mapped volumes in a file: order, options, skips, errors.
mkdir -p "$tmp/stub"
cat >"$tmp/stub/archipctl" <<'EOS'
#!/bin/bash
echo "$*" >>"$STUB/log"
case $1 in
--json) printf '['; sep=; while read -r v; do
		printf '%s{"device":"/dev/archipX","volume":"%s","size":1}' "$sep" "$v"; sep=,
	done <"$STUB/mapped"; echo ']' ;;
map) [ "$2" = bad ] && { echo "no such volume" >&2; exit 1; }
	echo "$2" >>"$STUB/mapped"; echo /dev/archip9 ;;
unmap) grep -vx "$2" "$STUB/mapped" >"$STUB/m2"; mv "$STUB/m2" "$STUB/mapped" ;;
esac
EOS
chmod +x "$tmp/stub/archipctl"
printf '%s\n' '# volumes of this hypervisor' 'a  s1,s2' \
	'b  s1:7000  --read-only --queues 2   # the base image' 'lonely' 'bad s1' 'c s2' >"$tmp/stub/maptab"
printf '%s\n' c other >"$tmp/stub/mapped"
export STUB=$tmp/stub ARCHIPCTL=$tmp/stub/archipctl ARCHIP_MAPTAB=$tmp/stub/maptab
map_err=$("$tmp/root/usr/sbin/archipmap" map 2>&1); map_rc=$?
map_log=$(grep -v '^--json' "$tmp/stub/log"); : >"$tmp/stub/log"
"$tmp/root/usr/sbin/archipmap" unmap >/dev/null 2>&1; unmap_rc=$?
unmap_log=$(grep -v '^--json' "$tmp/stub/log")
want_map=$(printf '%s\n' 'map a --server s1,s2' 'map b --server s1:7000 --read-only --queues 2' 'map bad --server s1')
want_unmap=$(printf '%s\n' 'unmap c' 'unmap b' 'unmap a')
if [ "$map_rc" = 1 ] && [ "$map_log" = "$want_map" ] && [ "$unmap_rc" = 0 ] &&
   [ "$unmap_log" = "$want_unmap" ] && [ "$(cat "$tmp/stub/mapped")" = other ] &&
   grep -q "maptab:4: 'lonely' names no servers" <<<"$map_err" &&
   grep -q "maptab:5: mapping bad failed" <<<"$map_err" && grep -q "c: mapped already" <<<"$map_err"; then
	ktap_pass "archipmap: maps a maptab in order with its options, skips the mapped, names bad lines, unmaps in reverse"
else
	ktap_fail "archipmap: maps a maptab in order with its options, skips the mapped, names bad lines, unmaps in reverse"
	ktap_diag <<<"map rc=$map_rc: $map_log
$map_err
unmap rc=$unmap_rc: $unmap_log; left mapped: $(cat "$tmp/stub/mapped")"
fi

ktap_finish
