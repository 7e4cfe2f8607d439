#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The registry contract (tests/contract/test-registry-contract) on a real
# 3-member etcd cluster on loopback ports above 20000, started here by
# tests/etcd/cluster.sh and stopped by PID when the run ends, whatever its end.
# Exit 77 (skip, said loudly) when etcd is not installed or does not start.
: "${TOP_SRCDIR:?run through make check}"
: "${TOP_BUILDDIR:?run through make check}"
CLUSTER="$TOP_SRCDIR/tests/etcd/cluster.sh"
SUITE="$TOP_BUILDDIR/tests/contract/test-registry-contract"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-contract-etcd-XXXXXX") || exit 1
cleanup() {
	"$CLUSTER" stop "$tmp/cluster" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if ! "$CLUSTER" start "$tmp/cluster" >"$tmp/cluster.log" 2>&1; then
	cat "$tmp/cluster.log" >&2
	echo "*** SKIP: test-registry-contract-etcd: cannot start a 3-member etcd cluster (install etcd-server) ***" >&2
	exit 77
fi
endpoints=$(cat "$tmp/cluster/endpoints")
echo "# cluster: $endpoints"
"$SUITE" "etcd:$endpoints"
