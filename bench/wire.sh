#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/wire.sh [ENTRIES [RUNS]]: a namespace with a bridge whose FDB holds
# ENTRIES (default 10000) entries added with `bridge fdb add`, a foreign
# machine that makes it learn the MAC looked for, then bench/wire in it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${WIRE_BENCH:-$here/wire}
n=${1:-10000}
runs=${2:-50}
ns=vmbench$$
ip netns add $ns
ip netns add $ns-f
trap 'ip netns del $ns; ip netns del $ns-f' EXIT
ip netns exec $ns-f sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip netns exec $ns ip link add xenbr0 type bridge
ip netns exec $ns ip link set xenbr0 up
ip netns exec $ns ip link add eth0 type veth peer name ext netns $ns-f
ip netns exec $ns ip link set eth0 master xenbr0 up
ip netns exec $ns ip link add port1 type veth peer name port1p
ip netns exec $ns ip link set port1 master xenbr0 up
# ENTRIES entries on port1, in one batch
python3 -c "
import sys
for i in range($n):
    print('fdb add 0e:%02x:%02x:%02x:00:01 dev port1 master static' % (i >> 16 & 255, i >> 8 & 255, i & 255))
" | ip netns exec $ns bridge -batch -
ip netns exec $ns-f ip link set ext address 02:00:c0:00:02:0a up
ip netns exec $ns-f ip addr add 192.0.2.99/24 dev ext
ip netns exec $ns-f ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1 || true
echo "FDB entries: $(ip netns exec $ns bridge fdb show | wc -l)"
ip netns exec $ns "$bin" 02:00:c0:00:02:0a "$runs"
