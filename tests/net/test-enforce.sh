#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Per-vif filtering, for real: nftables' table bridge vifmac in a network
# namespace "dom0" with a Linux bridge whose ports are veths named like vifs,
# and "guest" namespaces forging frames with AF_PACKET (forge-frame.py). A
# frame from the vif's own MAC passes; a forged source MAC, a forged ARP
# sender and a forged NDP link-layer option are dropped (rule counters), the
# bridge never learns the forged MAC on that port and dom0 gets no neighbour
# entry for it; without the rules (offline, or an exemption) the same frames
# pass, which shows each check can fail. 200 vifs added then removed leave
# an empty table.
set -u
: "${VIFMAC:?run through make check}"
here=$(cd "$(dirname "$0")" && pwd)
FORGE=$here/forge-frame.py
command -v python3 >/dev/null || { echo "FAIL: python3 is missing"; exit 1; }
command -v nft >/dev/null || { echo "FAIL: nft is missing (Debian package nftables)"; exit 1; }
. "$here/lib.sh"
tag=vme$$
H=$tag-h   # dom0: the bridge xenbr0
G5=$tag-5  # the guest behind vif5.0 (the one that forges)
G6=$tag-6  # the guest behind vif6.0 (whose MAC is forged)
net_namespaces "$H" "$G5" "$G6"
inh() { ip netns exec "$H" "$@"; }
forge() { ip netns exec "$G5" python3 "$FORGE" eth0 "$@"; }

MAC5=02:00:c0:00:02:0a
MAC6=02:00:c0:00:02:0b
set -e
inh ip link set lo up
inh ip link add xenbr0 type bridge mcast_snooping 0
inh sysctl -qw net.ipv6.conf.xenbr0.disable_ipv6=0
inh ip link set xenbr0 up
inh ip addr add 192.0.2.1/24 dev xenbr0
inh ip addr add 2001:db8::1/64 dev xenbr0 nodad
for g in 5 6; do
	ns=$tag-$g
	inh ip link add "vif$g.0" type veth peer name eth0 netns "$ns"
	inh ip link set "vif$g.0" master xenbr0 up
	eval "ip netns exec $ns ip link set eth0 address \$MAC$g up"
done
set +e

# drops COMMENT: the packets counter of one rule of the chain check
drops() {
	inh nft list chain bridge vifmac check 2>/dev/null |
		sed -n "/comment \"$1/s/.*counter packets \([0-9]*\).*/\1/p"
}
learned() { inh bridge fdb show br xenbr0 | grep -q "^$1 dev $2 master xenbr0"; }
neigh_mac() { inh ip "$@" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'; }

# ---- the rules, installed as the hotplug helper does
check
inh "$VIFMAC" enforce add vif5.0 "$MAC5" || fail "enforce add vif5.0 failed"
inh "$VIFMAC" enforce add vif6.0 "$MAC6" || fail "enforce add vif6.0 failed"
check
out=$(inh "$VIFMAC" enforce list)
[ "$(echo "$out" | awk '{ print $1, $2 }' | tr '\n' ' ')" = "vif5.0 $MAC5 vif6.0 $MAC6 " ] || fail "enforce list: $out"
check
inh nft list table bridge vifmac | grep -q 'iifname @ports jump check' || fail "no port lookup in the base chain"

# ---- the guest's own MAC passes
forge arp "$MAC5" "$MAC5" 192.0.2.10 192.0.2.1
forge ns "$MAC5" "$MAC5" 2001:db8::5 2001:db8::1
sleep 0.3
check
learned "$MAC5" vif5.0 || fail "the bridge did not learn the guest's own MAC on vif5.0"
check
[ "$(neigh_mac neigh show 192.0.2.10 dev xenbr0)" = "$MAC5" ] || fail "own ARP did not reach dom0: $(inh ip neigh)"
check
[ "$(neigh_mac -6 neigh show 2001:db8::5 dev xenbr0)" = "$MAC5" ] || fail "own NS did not reach dom0: $(inh ip -6 neigh)"
check
[ "$(drops "source MAC")" = 0 ] && [ "$(drops "ARP sender")" = 0 ] && [ "$(drops "NS source")" = 0 ] ||
	fail "own frames were counted as drops: $(inh nft list chain bridge vifmac check)"

# ---- forged: another guest's MAC as Ethernet source
forge raw "$MAC6"
forge arp "$MAC6" "$MAC6" 192.0.2.11 192.0.2.1
sleep 0.3
check
[ "$(drops "source MAC")" = 2 ] || fail "forged source MAC: $(drops "source MAC") drops, expected 2"
check
learned "$MAC6" vif5.0 && fail "the bridge learned $MAC6 on vif5.0: $(inh bridge fdb show br xenbr0)"

# ---- forged: ARP sender hardware address (Ethernet source is the guest's own)
forge arp "$MAC5" "$MAC6" 192.0.2.11 192.0.2.1
sleep 0.3
check
[ "$(drops "ARP sender")" = 1 ] || fail "forged ARP sender: $(drops "ARP sender") drops, expected 1"
check
[ -z "$(neigh_mac neigh show 192.0.2.11 dev xenbr0)" ] || fail "dom0 got a neighbour entry from a forged ARP: $(inh ip neigh)"

# ---- forged: NDP link-layer options (NS source, NA target)
forge ns "$MAC5" "$MAC6" 2001:db8::55 2001:db8::1
forge na "$MAC5" "$MAC6" 2001:db8::56 2001:db8::56
sleep 0.3
check
[ "$(drops "NS source")" = 1 ] || fail "forged NS source link-layer: $(drops "NS source") drops, expected 1"
check
[ "$(drops "NA target")" = 1 ] || fail "forged NA target link-layer: $(drops "NA target") drops, expected 1"
check
[ -z "$(neigh_mac -6 neigh show 2001:db8::55 dev xenbr0)" ] || fail "dom0 got a neighbour entry from a forged NS: $(inh ip -6 neigh)"
check
learned "$MAC6" vif5.0 && fail "the bridge learned $MAC6 on vif5.0 after NDP: $(inh bridge fdb show br xenbr0)"

# ---- the other vif's rules do not touch its own traffic
ip netns exec "$G6" python3 "$FORGE" eth0 arp "$MAC6" "$MAC6" 192.0.2.11 192.0.2.1
sleep 0.3
check
learned "$MAC6" vif6.0 || fail "vif6.0's own MAC was not learned on vif6.0"
check
[ "$(drops "ARP sender")" = 1 ] || fail "vif6.0's own ARP was dropped"

# ---- offline: exactly that vif's rules go, idempotently
check
inh "$VIFMAC" enforce remove vif5.0 || fail "enforce remove failed"
inh "$VIFMAC" enforce remove vif5.0 || fail "enforce remove is not idempotent"
check
out=$(inh "$VIFMAC" enforce list | awk '{ print $1 }' | tr '\n' ' ')
[ "$out" = "vif6.0 " ] || fail "after removing vif5.0 the rules are for: $out"
check
inh nft list set bridge vifmac ports | grep -q '"vif5.0"' && fail "vif5.0 is still in the ports set"
check
inh nft list set bridge vifmac macs | grep -q '"vif5.0"' && fail "vif5.0 is still in the macs set"

# ---- without rules (offline, or an exempt bridge/domain) the same forgeries pass:
#      the checks above can fail
inh ip neigh flush dev xenbr0
forge raw "$MAC6"
forge arp "$MAC5" "$MAC6" 192.0.2.11 192.0.2.1
forge ns "$MAC5" "$MAC6" 2001:db8::55 2001:db8::1
sleep 0.3
check
learned "$MAC6" vif5.0 || fail "control: the bridge did not learn the forged MAC on unfiltered vif5.0"
check
[ "$(neigh_mac neigh show 192.0.2.11 dev xenbr0)" = "$MAC6" ] || fail "control: forged ARP did not reach dom0"
check
[ "$(neigh_mac -6 neigh show 2001:db8::55 dev xenbr0)" = "$MAC6" ] || fail "control: forged NS did not reach dom0"

# ---- an HVM guest's tap gets the same rules
check
inh "$VIFMAC" enforce add vif5.0-emu "$MAC5" || fail "enforce add vif5.0-emu failed"
inh nft list set bridge vifmac macs | grep -q "\"vif5.0-emu\" . $MAC5" || fail "no rule for the tap"
# replaced: held to a new MAC, the old one no longer passes
check
inh "$VIFMAC" enforce add vif5.0-emu "$MAC6"
inh nft list set bridge vifmac macs | grep -q "\"vif5.0-emu\" . $MAC5" && fail "the tap's old MAC is still allowed"
[ "$(inh "$VIFMAC" enforce list | grep vif5.0-emu)" = "vif5.0-emu       $MAC6" ] || fail "the tap is not held to its new MAC"
inh "$VIFMAC" enforce remove vif5.0-emu
inh "$VIFMAC" enforce remove vif6.0

# ---- 200 vifs online then offline leave an empty table
for i in $(seq 1 200); do
	inh "$VIFMAC" enforce add "vif$i.0" "$(printf '02:00:c6:33:%02x:%02x' $((i / 256)) $((i % 256)))" || break
done
check
n=$(inh "$VIFMAC" enforce list | wc -l)
[ "$n" = 200 ] || fail "200 vifs added, $n listed"
for i in $(seq 1 200); do
	inh "$VIFMAC" enforce remove "vif$i.0" || break
done
check
left=$(inh nft list table bridge vifmac | grep -c '"vif')
[ "$left" = 0 ] || fail "$left lines with set elements left after 200 removals: $(inh nft list table bridge vifmac)"
check
[ -z "$(inh "$VIFMAC" enforce list)" ] || fail "enforce list is not empty"

# ---- the admin's own ruleset is not touched
check
inh nft add table inet admin
inh nft add chain inet admin input '{ type filter hook input priority 0; }'
inh "$VIFMAC" enforce add vif9.0 "$MAC5"
inh "$VIFMAC" enforce remove vif9.0
inh nft list tables | grep -q 'inet admin' || fail "the admin's table went away"

echo "$0: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
