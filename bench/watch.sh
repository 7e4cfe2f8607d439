#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/watch.sh [IDLE_SECONDS [EVENTS]]: what vifmac watch costs (root).
# A bridge in a network namespace, the watch on it (registry with one
# reservation); its CPU time (utime+stime from /proc) over IDLE_SECONDS
# (default 60) of a quiet network, then while EVENTS (default 10000) source
# MACs are learned on one port (one frame each, sent by one python process:
# each is one RTM_NEWNEIGH), against the CPU of the kernel's own work for
# the same frames with no watch running (the sender's), in the same run.
# From the build folder: VIFMAC=$PWD/tools/vifmac bash ../bench/watch.sh
set -eu
idle=${1:-60}
events=${2:-10000}
: "${VIFMAC:?set VIFMAC to the vifmac binary}"
bin=$VIFMAC
[ -x "$(dirname "$VIFMAC")/.libs/vifmac" ] && bin=$(dirname "$VIFMAC")/.libs/vifmac
export LD_LIBRARY_PATH=$(dirname "$VIFMAC")/../lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ns=vmbenchw$$
tmp=$(mktemp -d)
ip netns add $ns
ip netns add $ns-a
trap 'kill $wpid 2>/dev/null || true; ip netns del $ns; ip netns del $ns-a; rm -rf "$tmp"' EXIT
ip netns exec $ns ip link add xenbr0 type bridge ageing_time 30000
ip netns exec $ns ip link set xenbr0 up
ip netns exec $ns ip link add eth0a type veth peer name ext netns $ns-a
ip netns exec $ns ip link set eth0a master xenbr0 up
ip netns exec $ns-a ip link set ext up
ip netns exec $ns-a sysctl -qw net.ipv6.conf.all.disable_ipv6=1
echo '# defaults' >"$tmp/vifmac.conf"
V="$bin --config $tmp/vifmac.conf --registry sqlite:$tmp/registry.db"
$V reserve 02:00:c0:00:02:63 --note bench >/dev/null
ip netns exec $ns $V watch --prometheus "$tmp/watch.prom" >"$tmp/events" 2>&1 &
wpid=$!
sleep 1
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
t0=$(ticks $wpid)
sleep "$idle"
t1=$(ticks $wpid)
send() { # send N FIRST: N frames from distinct MACs 0e:..., one process
	ip netns exec $ns-a python3 -c "
import socket, struct, sys, time
n, first = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('ext', 0))
t = time.process_time()
for i in range(first, first + n):
    src = bytes([0x0e, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1])
    s.send(b'\xff' * 6 + src + struct.pack('!H', 0x88b5) + b'\0' * 46)
print('%.3f' % (time.process_time() - t))
" "$1" "$2"
}
sender_cpu=$(send "$events" 0)
sleep 2
t2=$(ticks $wpid)
learned=$(ip netns exec $ns bridge fdb show br xenbr0 | grep -c '^0e:00:' || true)
kill $wpid; wait $wpid 2>/dev/null || true
awk -v hz="$hz" -v idle="$idle" -v ev="$events" -v l="$learned" -v a="$t0" -v b="$t1" -v c="$t2" -v s="$sender_cpu" 'BEGIN {
	printf "| what                                    | CPU (s) |\n|-----------------------------------------|---------|\n"
	printf "| vifmac watch, quiet network, %3d s      | %7.2f |\n", idle, (b - a) / hz
	printf "| vifmac watch, %5d FDB entries learned | %7.2f |\n", ev, (c - b) / hz
	printf "| the sender of those %5d frames         | %7.2f |\n", ev, s
	printf "\n%d of %d source MACs learned by the bridge; CPU per 10,000 events: %.2f s\n", l, ev, (c - b) / hz * 10000 / ev
}'
