#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac pool check/import/list/show/allocate/remove on the etcd registry of
# a real 3-member cluster on loopback ports: tests/cli/test-cli-pool.sh, the
# very checks it makes on SQLite, with POOL_TEST_REGISTRY naming the cluster.
: "${TOP_SRCDIR:?run through make check}"
CLUSTER="$TOP_SRCDIR/tests/etcd/cluster.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-etcd-pool-cli-XXXXXX")
cleanup() {
	"$CLUSTER" stop "$dir/cluster" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
if ! "$CLUSTER" start "$dir/cluster" >"$dir/cluster.log" 2>&1; then
	cat "$dir/cluster.log" >&2
	echo "*** SKIP: test-etcd-pool-cli: cannot start a 3-member etcd cluster (install etcd-server) ***" >&2
	exit 77
fi
POOL_TEST_REGISTRY="etcd:$(cat "$dir/cluster/endpoints")" $SHELL "$TOP_SRCDIR/tests/cli/test-cli-pool.sh"
