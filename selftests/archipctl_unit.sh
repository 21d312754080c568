#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# archipctl's unit tests: the code that runs without a kernel (argument
# parsing, JSON output, the wire structures' sizes).  KTAP from the binary.
. "$(dirname "$0")/lib.sh"
bin=$B/archipctl-unit
if [ ! -x "$bin" ]; then
	ktap_plan 1
	ktap_fail "archipctl-unit is built (run 'make' first)"
	exit 1
fi
exec "$bin"
