#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Where new objects go: two storage nodes creating objects of different
# volumes at once, under store layout 1 (every object's directory by the
# hash of its whole name) and layout 2 (256 consecutive objects of a set
# share a directory; Documentation/protocol.rst, "Storage layout").
#
# Hypervisor h1 maps volume a through s1 only and volume b through s2
# only, both fresh, and writes 4 KiB at the start of every 4 MiB object of
# both at once (fio rw=write:4092k, one request at a time per volume):
# every write creates an object on its storage node.  Each round makes a
# new store root per layout (layout 1: the 256 directories made first,
# without the layout.2 marker, as an earlier server left them) and the
# layouts alternate which goes first.  Prints objects created per second
# per node, the median over rounds and its range.  Never gates anything.
#
# Environment: ROUNDS (default 3), OBJS per volume (default 256),
# OPTS (OCFS2 mount options, default noopenlocks,nowritelocks),
# ARCHIP_LAB (default .cache/lab-bench).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
OBJS=${OBJS:-256}
OPTS=${OPTS:-noopenlocks,nowritelocks}

echo "bench: booting s1, s2 + h1" >&2
"$LABCMD" up -s 2 -H 1 -o "$OPTS" >&2
on s1 "modprobe archip_srv" && on s2 "modprobe archip_srv" && on h1 "modprobe archip_blk"

res=$(mktemp)
for r in $(seq 1 "$ROUNDS"); do
	layouts="1 2"
	[ $((r % 2)) = 0 ] && layouts="2 1"
	for l in $layouts; do
		root=$SAN/store.$r.$l
		if [ "$l" = 1 ]; then
			on s1 "mkdir -p $root && for i in \$(seq 0 255); do mkdir $root/\$(printf %02x \$i); done"
		fi
		for n in s1 s2; do on $n "mkdir -p $root && $CTL server start --root $root >/dev/null"; done
		on s1 "dmesg | grep -q 'serving $root (store layout $l)'" ||
			{ echo "bench: $root is not layout $l" >&2; exit 1; }
		on h1 "$CTL volume --server $S1 create a --size $((OBJS * 4))M >/dev/null &&
			$CTL volume --server $S1 create b --size $((OBJS * 4))M >/dev/null &&
			$CTL map --server $S1 a >/dev/null && $CTL map --server $S2 b >/dev/null"
		out=$(on h1 "fio --output-format=json --direct=1 --ioengine=psync --bs=4k \
			--rw=write:4092k --size=$((OBJS * 4))M --number_ios=$OBJS \
			--name=s1 --filename=/dev/archip/a --name=s2 --filename=/dev/archip/b")
		python3 -c 'import json, sys
for j in json.loads(sys.stdin.read())["jobs"]:
    print(sys.argv[1], j["jobname"], "%.1f" % j["write"]["iops"])' "$l" <<<"$out" >>"$res"
		echo "bench: round $r layout $l: $(grep "^$l " "$res" | tail -2 | cut -d' ' -f2- | tr '\n' ' ')" >&2
		on h1 "$CTL unmap a && $CTL unmap b" >/dev/null
		for n in s1 s2; do on $n "$CTL server stop >/dev/null"; done
	done
done
"$LABCMD" check >&2 || echo "bench: WARNING: a node logged a kernel warning (see logs)" >&2

echo "New objects per second per storage node, both nodes creating at once"
echo "(median over $ROUNDS rounds [range]; $OBJS objects per volume and round; mount -o $OPTS)"
echo
python3 - "$res" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    l, node, iops = line.split()
    rows.setdefault((l, node), []).append(float(iops))
print("%-10s %-24s %-24s" % ("layout", "s1 objects/s", "s2 objects/s"))
for l in ("1", "2"):
    cells = []
    for node in ("s1", "s2"):
        v = rows.get((l, node), [0])
        cells.append("%6.1f [%6.1f-%6.1f]" % (statistics.median(v), min(v), max(v)))
    print("%-10s %-24s %-24s" % (l, *cells))
EOF
