#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The wire, for real: a Linux bridge in a network namespace, veth ports, and
# a "foreign machine" namespace sending frames from a MAC so that the bridge
# learns it. `vifmac seen` must find it through netlink, naming the bridge,
# the port and the age; on another bridge it must not.
set -u
: "${VIFMAC:?run through make check}"
command -v ping >/dev/null || { echo "FAIL: ping is missing (Debian package iputils-ping)"; exit 1; }
. "$(dirname "$0")/lib.sh"
tag=vmw$$
H=$tag-h   # "dom0": the bridges
F=$tag-f   # a foreign machine on xenbr0
G=$tag-g   # another machine on xenbr1
net_namespaces "$H" "$F" "$G"
inh() { ip netns exec "$H" "$@"; }
# ping NS IP: a few tries (a port or a neighbour may take a moment)
reach() { for _ in 1 2 3 4 5; do ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0; done; return 1; }

MAC=02:00:c0:00:02:0a      # what the policy gives ip=192.0.2.10
OTHER=02:00:c0:00:02:0b
set -e
inh ip link set lo up
for br in xenbr0 xenbr1; do
	inh ip link add "$br" type bridge
	inh ip link set "$br" up
done
# foreign machine F on xenbr0 (port eth0f), G on xenbr1 (port eth1g)
inh ip link add eth0f type veth peer name ext netns "$F"
inh ip link set eth0f master xenbr0 up
inh ip link add eth1g type veth peer name ext netns "$G"
inh ip link set eth1g master xenbr1 up
ip netns exec "$F" ip link set ext address "$MAC" up
ip netns exec "$F" ip addr add 192.0.2.99/24 dev ext
ip netns exec "$G" ip link set ext address "$OTHER" up
ip netns exec "$G" ip addr add 192.0.2.98/24 dev ext
set +e

# nothing seen yet
checks=$((checks + 1))
out=$(inh "$VIFMAC" seen "$MAC" 2>&1); rc=$?
[ $rc -eq 0 ] && [ -z "$out" ] || fail "before any frame: seen exited $rc with: $out"

# the foreign machine speaks: an ARP request from $MAC, which the bridge learns
ip netns exec "$F" ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
ip netns exec "$G" ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
sleep 0.2
checks=$((checks + 1))
out=$(inh "$VIFMAC" seen "$MAC" 2>&1); rc=$?
echo "seen $MAC: $out"
[ $rc -eq 1 ] || fail "seen exited $rc, expected 1"
checks=$((checks + 1))
echo "$out" | grep -Eq "^fdb bridge xenbr0 port eth0f learned [0-9]+s ago$" || fail "no learned FDB entry naming bridge, port and age: $out"
# the same through `bridge fdb show`, as a cross-check of what netlink said
checks=$((checks + 1))
inh bridge fdb show br xenbr0 | grep -q "^$MAC dev eth0f master xenbr0" || fail "bridge fdb show disagrees"

# scoped to the other bridge: not there
checks=$((checks + 1))
out=$(inh "$VIFMAC" seen "$MAC" --bridge xenbr1 2>&1); rc=$?
[ $rc -eq 0 ] || fail "seen --bridge xenbr1 exited $rc: $out"
checks=$((checks + 1))
out=$(inh "$VIFMAC" seen "$OTHER" --bridge xenbr1 2>&1); rc=$?
echo "$out" | grep -q "port eth1g" || fail "OTHER not seen on xenbr1: $out"

# a dom0 link carrying the MAC, and a neighbour entry
inh ip link add dum7 address 02:00:c0:00:02:0c type veth peer name dum7p
inh ip addr add 192.0.2.1/24 dev xenbr0
reach "$F" 192.0.2.1 || fail "F cannot reach dom0 on xenbr0"
inh ip neigh show dev xenbr0
checks=$((checks + 1))
out=$(inh "$VIFMAC" seen 02:00:c0:00:02:0c 2>&1)
echo "$out" | grep -q "^link dum7$" || fail "dom0 link not seen: $out"
checks=$((checks + 1))
out=$(inh "$VIFMAC" seen "$MAC" 2>&1)
echo "seen $MAC: $out"
echo "$out" | grep -Eq "^neighbour 192.0.2.99 dev xenbr0 (reachable|stale|delay|probe)$" || fail "neighbour entry not seen: $out"

# a VLAN-aware bridge keys its FDB by MAC and VLAN: the lookup must still find it
V=$tag-v
ip netns add "$V"
ip netns exec "$V" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
NET_NAMESPACES="$NET_NAMESPACES $V"
if inh ip link add xenbr2 type bridge vlan_filtering 1 2>/dev/null; then
	inh ip link set xenbr2 up
	inh ip link add eth2v type veth peer name ext netns "$V"
	inh ip link set eth2v master xenbr2 up
	ip netns exec "$V" ip link set ext address 02:00:c0:00:02:0d up
	ip netns exec "$V" ip addr add 192.0.2.97/24 dev ext
	ip netns exec "$V" ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
	checks=$((checks + 1))
	out=$(inh "$VIFMAC" seen 02:00:c0:00:02:0d 2>&1)
	echo "seen on the VLAN-aware bridge: $out"
	echo "$out" | grep -Eq "^fdb bridge xenbr2 port eth2v vlan 1 learned [0-9]+s ago$" ||
		fail "VLAN-aware FDB entry not found: $out"
else
	echo "NOTE: this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING): the VLAN-aware case is not run"
fi

# local entries (a port's own address) are reported as local, not learned
checks=$((checks + 1))
portmac=$(inh cat /sys/class/net/eth0f/address)
out=$(inh "$VIFMAC" seen "$portmac" 2>&1)
echo "$out" | grep -q "port eth0f local" || fail "port's own address not local: $out"

echo "$0: $checks checks, $failures failed"
[ $failures -eq 0 ]
