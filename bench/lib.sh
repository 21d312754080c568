# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
#
# What the benchmarks share: paths, the lab they boot (its own directory,
# so a benchmark never reuses the selftests' lab), the storage nodes'
# addresses, a helper to run a command on a node, and the lab torn down on
# exit.  Each bench/*.sh sources this after "set -euo pipefail".

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LABCMD=$REPO/tools/lab/archip-lab
export ARCHIP_LAB=${ARCHIP_LAB:-$REPO/.cache/lab-bench}
CTL=$REPO/build/tools/archipctl
SAN=/mnt/san
S1=10.99.0.11
S2=10.99.0.12

# on NODE CMD...: run the bash command line CMD on NODE, print its output.
on() { local n=$1; shift; "$LABCMD" run "$n" "$*"; }

trap '"$LABCMD" down >/dev/null 2>&1 || true' EXIT
