#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Starts a 3-member etcd cluster on loopback ports (tests/etcd/cluster.sh),
# runs bench/etcd on it, stops it. From the build folder:
#   make bench && $(top_srcdir)/bench/etcd.sh [-n CLAIMS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_ETCD:-./bench/etcd}
[ -x "$bench" ] || { echo "bench/etcd.sh: run 'make bench' in the build folder first" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-bench-etcd-XXXXXX")
trap '"$here/../tests/etcd/cluster.sh" stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
"$here/../tests/etcd/cluster.sh" start "$dir"
echo "etcd $(etcd --version | head -1 | awk '{print $3}'), $(nproc) CPUs, data on $(df --output=fstype "$dir" | tail -1)"
"$bench" "$(cat "$dir/endpoints")" "$@"
