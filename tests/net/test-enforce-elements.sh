#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The set elements vifmac sends to the kernel itself (nfnetlink batches,
# lib/vifmac-nft-mnl.c) are the ones libnftables makes of the equivalent
# text commands: the same vifs held to their MACs through `vifmac enforce`
# in one namespace and through `nft -f` in another give the same
# `nft list table bridge vifmac` and the same raw element bytes
# (`nft --debug=netlink`), after adds, a replacement (MAC change) and a
# removal; one element more on one side shows the comparison can fail.
# libvifmac does not link libnftables: with its file hidden, a vif's rules
# are still added, replaced and removed; creating the table (the first vif)
# and listing fail naming the library and its Debian package, and the
# hotplug refuses the vif for it, or only warns with enforce_failure = "warn".
set -u
: "${VIFMAC:?run through make check}"
: "${TOP_BUILDDIR:?run through make check}"
here=$(cd "$(dirname "$0")" && pwd)
command -v nft >/dev/null || { echo "FAIL: nft is missing (Debian package nftables)"; exit 1; }
. "$here/lib.sh"
. "$TOP_SRCDIR/tests/hook/lib.sh" # node, domain, vif, xs: the fake xenstore's helpers
[ -f "$FAKEXS_LIB" ] || { echo "FAIL: $FAKEXS_LIB is not built"; exit 1; }
tag=vmn$$
A=$tag-a # the elements through vifmac
B=$tag-b # the same through nft -f
C=$tag-c # no table yet, libnftables hidden
net_namespaces "$A" "$B" "$C"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-elements-XXXXXX")
NET_CLEANUP=$tmp
ina() { ip netns exec "$A" "$@"; }
inb() { ip netns exec "$B" "$@"; }

# elements VERB IFNAME MAC: the text commands for one interface, as lib/vifmac-nft.c gave them to libnftables
elements() {
	local h
	h=$(echo "$3" | tr -d :)
	printf '%s element bridge vifmac owner { "%s" : %s }\n' "$1" "$2" "$3"
	printf '%s element bridge vifmac ports { "%s" }\n' "$1" "$2"
	printf '%s element bridge vifmac macs { "%s" . %s }\n' "$1" "$2" "$3"
	printf '%s element bridge vifmac sll { "%s" . 0x0101%s }\n' "$1" "$2" "$h"
	printf '%s element bridge vifmac tll { "%s" . 0x0201%s }\n' "$1" "$2" "$h"
	printf '%s element bridge vifmac ra { "%s" . 0x01%s }\n' "$1" "$2" "$h"
}
# same WHAT: both namespaces' table, listed and as raw element bytes per set (sorted: a hash set's order is its own)
listing() {
	ip netns exec "$1" nft list table bridge vifmac
	for s in owner ports macs sll tll ra; do
		ip netns exec "$1" nft --debug=netlink list set bridge vifmac $s 2>&1 | grep '^	element' | sort
	done
}
same() {
	listing "$A" >"$tmp/a"
	listing "$B" >"$tmp/b"
	check
	cmp -s "$tmp/a" "$tmp/b" || fail "$1: the tables differ: $(diff "$tmp/a" "$tmp/b")"
}

# the table in B from vifmac's own skeleton (libnftables), emptied again
inb "$VIFMAC" enforce add skel0 02:00:00:00:00:01 || fail "enforce add skel0 failed in B"
inb "$VIFMAC" enforce remove skel0 || fail "enforce remove skel0 failed in B"
check
[ "$(inb nft list table bridge vifmac | grep -c 'elements =')" = 0 ] || fail "B's table is not empty: $(inb nft list table bridge vifmac)"

# names of every length up to 15, the HVM tap's; MACs with every bit pattern at the edges
vifs='a 02:00:c0:00:02:0a
vif5.0 02:ff:ff:ff:ff:fe
vif6.0-emu 0a:00:00:00:00:01
x_234567890.1-z 02:12:34:56:78:9a
vif32767.9 fe:dc:ba:98:76:54'
: >"$tmp/add.nft"
while read -r ifname mac; do
	ina "$VIFMAC" enforce add "$ifname" "$mac" || fail "enforce add $ifname $mac failed"
	elements create "$ifname" "$mac" >>"$tmp/add.nft"
done <<<"$vifs"
inb nft -f "$tmp/add.nft" || fail "nft -f of the element commands failed"
check
[ "$(ina "$VIFMAC" enforce list | wc -l)" = 5 ] || fail "A does not list 5 vifs: $(ina "$VIFMAC" enforce list)"
same "after adding 5 vifs"

# the comparison sees one element more
printf 'add element bridge vifmac ports { "vif9.0" }\n' | inb nft -f -
listing "$B" >"$tmp/b"
check
cmp -s "$tmp/a" "$tmp/b" && fail "control: one element more in B's ports, and the tables compare equal"
printf 'delete element bridge vifmac ports { "vif9.0" }\n' | inb nft -f -
same "after the control"

# a replacement: vif5.0 held to another MAC (the old MAC's elements deleted and the new added in one batch)
ina "$VIFMAC" enforce add vif5.0 02:00:c0:00:02:63 || fail "enforce add vif5.0 (replacement) failed"
{ elements delete vif5.0 02:ff:ff:ff:ff:fe; elements add vif5.0 02:00:c0:00:02:63; } | inb nft -f - ||
	fail "nft -f of the replacement failed"
same "after replacing vif5.0's MAC"
check
[ "$(ina "$VIFMAC" enforce list | awk '$1 == "vif5.0" { print $2 }')" = 02:00:c0:00:02:63 ] ||
	fail "vif5.0 is not held to its new MAC: $(ina "$VIFMAC" enforce list)"
# the same MAC again: a replacement by itself, nothing changes
ina "$VIFMAC" enforce add vif5.0 02:00:c0:00:02:63 || fail "enforce add vif5.0 with its own MAC failed"
same "after adding vif5.0 with the MAC it has"

# a removal, then the same removal again (idempotent)
ina "$VIFMAC" enforce remove vif6.0-emu || fail "enforce remove vif6.0-emu failed"
ina "$VIFMAC" enforce remove vif6.0-emu || fail "enforce remove vif6.0-emu is not idempotent"
elements delete vif6.0-emu 0a:00:00:00:00:01 | inb nft -f - || fail "nft -f of the removal failed"
same "after removing vif6.0-emu"

# ---- libvifmac without libnftables
check
if readelf -d "$TOP_BUILDDIR/lib/.libs/libvifmac.so.0" | grep -q 'NEEDED.*libnftables'; then
	fail "libvifmac.so.0 links libnftables: $(readelf -d "$TOP_BUILDDIR/lib/.libs/libvifmac.so.0" | grep NEEDED)"
fi
check
readelf -d "$TOP_BUILDDIR/lib/.libs/libvifmac.so.0" | grep -q 'NEEDED.*libmnl' ||
	fail "control: readelf shows no NEEDED libmnl either: $(readelf -d "$TOP_BUILDDIR/lib/.libs/libvifmac.so.0")"

# hide_nftables NS CMD...: CMD in NS with libnftables.so.1 replaced by an empty file (a mount namespace of its own)
nftlib=$(ldconfig -p | awk '/^[[:space:]]*libnftables\.so\.1 .*x86-64/ { print $NF; exit }')
hide_nftables() {
	local ns=$1
	shift
	ip netns exec "$ns" unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$nftlib" "$@"
}
if [ -z "$nftlib" ] || ! hide_nftables "$A" true 2>/dev/null; then
	echo "$0: SKIP (this part only): cannot hide libnftables.so.1 (no mount namespace, or ldconfig does not list it)"
	echo "$0: $checks checks, $failures failures"
	[ "$failures" -eq 0 ]
	exit
fi
check
hide_nftables "$A" "$VIFMAC" enforce list >"$tmp/out" 2>"$tmp/err" && fail "enforce list worked without libnftables: $(cat "$tmp/out")"
grep -q 'libnftables\.so\.1 (Debian package libnftables1) cannot be loaded' "$tmp/err" ||
	fail "enforce list without libnftables does not name the library and its package: $(cat "$tmp/err")"
# a vif's own rules need no libnftables: added, replaced, removed
check
hide_nftables "$A" "$VIFMAC" enforce add vif7.0 02:00:c0:00:02:0c 2>"$tmp/err" || fail "enforce add without libnftables failed: $(cat "$tmp/err")"
hide_nftables "$A" "$VIFMAC" enforce add vif7.0 02:00:c0:00:02:0d 2>"$tmp/err" || fail "a replacement without libnftables failed: $(cat "$tmp/err")"
hide_nftables "$A" "$VIFMAC" enforce remove vif5.0 2>"$tmp/err" || fail "enforce remove without libnftables failed: $(cat "$tmp/err")"
elements create vif7.0 02:00:c0:00:02:0d | inb nft -f -
elements delete vif5.0 02:00:c0:00:02:63 | inb nft -f -
same "after changes without libnftables"
# the first vif of a host creates the table, with libnftables: a clear refusal
check
hide_nftables "$C" "$VIFMAC" enforce add vif5.0 02:00:c0:00:02:0a >"$tmp/out" 2>"$tmp/err" &&
	fail "enforce add created the table without libnftables"
grep -q 'creating the table: libnftables\.so\.1 (Debian package libnftables1) cannot be loaded' "$tmp/err" ||
	fail "the first vif without libnftables: no clear error: $(cat "$tmp/err")"
check
ip netns exec "$C" nft list tables | grep -q vifmac && fail "a table was left in C: $(ip netns exec "$C" nft list ruleset)"

# the hotplug (fake xenstore, as test-watch.sh has it): refused, or unfiltered with enforce_failure = "warn"
XS=$tmp/xenstore
: >"$XS"
export LD_PRELOAD=$FAKEXS_LIB FAKEXS_STATE=$XS
printf 'prefix = "02:00"\nprivate_bridges = [ "xenbr0" ]\n' >"$tmp/refuse.conf"
printf 'prefix = "02:00"\nprivate_bridges = [ "xenbr0" ]\nenforce_failure = "warn"\n' >"$tmp/warn.conf"
domain 6 web2 66666666-0000-4000-8000-000000000006 1
vif 6 0 00:16:3e:12:34:57 192.0.2.11
ip netns exec "$C" ip link add xenbr0 type bridge
ip netns exec "$C" ip link set xenbr0 up
ip netns exec "$C" ip link add vif6.0 type dummy 2>/dev/null || ip netns exec "$C" ip tuntap add dev vif6.0 mode tap
# online CONF: the helper as vif-vifmac runs it, libnftables hidden
online() {
	hide_nftables "$C" env XENBUS_TYPE=vif XENBUS_BASE_PATH=backend XENBUS_PATH=backend/vif/6/0 vif=vif6.0 \
		"$VIFMAC" --config "$tmp/$1.conf" --registry "sqlite:$tmp/$1.db" hotplug online type_if=vif \
		</dev/null >"$tmp/out" 2>"$tmp/err"
}
check
online refuse && fail "hotplug online ran vif6.0 unfiltered without libnftables (enforce_failure = \"refuse\")"
cat "$tmp/out" "$tmp/err" | grep -q 'creating the table: libnftables\.so\.1 (Debian package libnftables1) cannot be loaded.*enforce_failure = "refuse"' ||
	fail "the refusal does not name libnftables1: $(cat "$tmp/out" "$tmp/err")"
check
online warn || fail "hotplug online with enforce_failure = \"warn\" failed: $(cat "$tmp/out" "$tmp/err")"
cat "$tmp/out" "$tmp/err" | grep -q 'libnftables1.*enforce_failure = "warn"' ||
	fail "no warning naming libnftables1: $(cat "$tmp/out" "$tmp/err")"

echo "$0: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
