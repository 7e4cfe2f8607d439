#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/enforce.sh [RUNS [SIZES]]: bench/enforce in a fresh network namespace
# (root; nft(8) for the baseline). From the build folder: make bench first.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${ENFORCE_BENCH:-$here/enforce}
ns=vmbenchenf$$
ip netns add $ns
trap 'ip netns del $ns' EXIT
exec ip netns exec $ns "$bin" "$@"
