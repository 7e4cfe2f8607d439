#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac watch, for real: a bridge in a network namespace, a MAC reserved in
# a real SQLite registry, and veth "machines" that make the bridge learn. A
# foreign port starting to use the reserved MAC gives one critical event
# within a second; a MAC moving between ports one warning; a quiet network
# nothing (and no CPU to speak of); a MAC the bridge forgot is forgotten (no
# move when it comes back elsewhere). With vifs in a fake xenstore
# (tests/fake, as the hook tests have them) and real nftables rules: a vif
# port added to the bridge without its rules is reported, rules left after
# their port was deleted are reported, a vif going online and offline as the
# hotplug does it is not.
set -u
: "${VIFMAC:?run through make check}"
here=$(cd "$(dirname "$0")" && pwd)
FORGE=$here/forge-frame.py
command -v python3 >/dev/null || { echo "FAIL: python3 is missing"; exit 1; }
. "$here/lib.sh"
. "$TOP_SRCDIR/tests/hook/lib.sh" # node, domain, vif, xs: the fake xenstore's helpers
[ -f "$FAKEXS_LIB" ] || { echo "FAIL: $FAKEXS_LIB is not built"; exit 1; }
command -v nft >/dev/null || { echo "FAIL: nft is missing (Debian package nftables)"; exit 1; }
tag=vmx$$
H=$tag-h   # dom0: the bridge xenbr0
A=$tag-a   # a machine on port eth0a
B=$tag-b   # a machine on port eth0b
net_namespaces "$H" "$A" "$B"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-watch-XXXXXX")
NET_CLEANUP=$tmp
trap 'kill $wpid 2>/dev/null; wait $wpid 2>/dev/null; for n in $NET_NAMESPACES; do ip netns del "$n" 2>/dev/null; done; rm -rf "$NET_CLEANUP"' EXIT
inh() { ip netns exec "$H" "$@"; }
cat >"$tmp/vifmac.conf" <<EOF
prefix = "02:00"
private_bridges = [ "xenbr0" ]
EOF
V="$VIFMAC --config $tmp/vifmac.conf --registry sqlite:$tmp/registry.db"
# dom0's xenstore and hypervisor, faked for every vifmac below
XS=$tmp/xenstore
: >"$XS"
export LD_PRELOAD=$FAKEXS_LIB FAKEXS_STATE=$XS
BE=/local/domain/0/backend/vif
RESERVED=02:00:c0:00:02:63
OTHER=02:00:c0:00:02:64

set -e
inh ip link add xenbr0 type bridge
inh ip link set xenbr0 up
for m in a b; do
	inh ip link add "eth0$m" type veth peer name ext netns "$tag-$m"
	inh ip link set "eth0$m" master xenbr0 up
	ip netns exec "$tag-$m" ip link set ext up
done
set +e
check
$V reserve "$RESERVED" --note "the router" >/dev/null || fail "reserve failed"

# the watch, in dom0's namespace
inh nft delete table bridge vifmac 2>/dev/null
ip netns exec "$H" $V watch --prometheus "$tmp/watch.prom" >"$tmp/events" 2>"$tmp/watch.err" &
wpid=$!
sleep 1
check
kill -0 $wpid 2>/dev/null || fail "watch exited: $(cat "$tmp/watch.err")"

# quiet: nothing, and (almost) no CPU
sleep 2
check
[ ! -s "$tmp/events" ] || fail "events on a quiet network: $(cat "$tmp/events")"
check
ticks=$(awk '{ print $14 + $15 }' /proc/$wpid/stat)
[ "$ticks" -le 10 ] || fail "watch used $ticks clock ticks while idle"

# an unknown MAC first on A (nothing), then on B: a move
ip netns exec "$A" python3 "$FORGE" ext raw "$OTHER"
sleep 0.5
check
[ ! -s "$tmp/events" ] || fail "an event for a new unknown MAC: $(cat "$tmp/events")"
ip netns exec "$B" python3 "$FORGE" ext raw "$OTHER"
sleep 1
check
[ "$(grep -c "mac-move.*$OTHER moved on bridge xenbr0 from port eth0a to port eth0b" "$tmp/events")" = 1 ] ||
	fail "no single mac-move event: $(cat "$tmp/events")"

# a foreign port uses the reserved MAC: one critical event (waited for up
# to 10 s; how long it took is printed, not judged: no timed assertions)
t0=$EPOCHREALTIME
ip netns exec "$A" python3 "$FORGE" ext raw "$RESERVED"
for _ in $(seq 1 200); do grep -q "foreign-use" "$tmp/events" && break; sleep 0.05; done
t1=$EPOCHREALTIME
check
[ "$(grep -c "^CRITICAL foreign-use .*$RESERVED, reserved in the registry (the router), learned on bridge xenbr0 port eth0a" "$tmp/events")" = 1 ] ||
	fail "no single foreign-use event: $(cat "$tmp/events")"
ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
echo "foreign-use reported within $ms ms (python's start included)"
check
grep -q '^vifmac_audit_findings{kind="foreign-use"} 1$' "$tmp/watch.prom" || fail "prometheus file: $(cat "$tmp/watch.prom")"
check
grep -q '^vifmac_audit_findings{kind="mac-move"} 1$' "$tmp/watch.prom" || fail "prometheus file has no mac-move count"

# bridges come and go: the watch survives
inh ip link add xenbr1 type bridge
inh ip link set xenbr1 up
inh ip link del xenbr1
sleep 0.3
check
kill -0 $wpid 2>/dev/null || fail "watch died when a bridge went away: $(cat "$tmp/watch.err")"

# the bridge forgets a MAC: so does the watch (no move when it returns elsewhere)
FORGOT=02:00:c0:00:02:65
ip netns exec "$A" python3 "$FORGE" ext raw "$FORGOT"
sleep 0.3
inh bridge fdb del "$FORGOT" dev eth0a master
sleep 0.3
ip netns exec "$B" python3 "$FORGE" ext raw "$FORGOT"
sleep 0.5
check
inh bridge fdb show br xenbr0 | grep -q "^$FORGOT dev eth0b" || fail "the bridge did not learn $FORGOT on eth0b"
check
! grep -q "mac-move.*$FORGOT" "$tmp/events" || fail "a move of a MAC the bridge had forgotten: $(cat "$tmp/events")"

# ---- vifs and their rules
# wait_events N: until the events file has N lines or 8 s (two checks 2 s apart, and slack) passed
wait_events() {
	for _ in $(seq 1 80); do [ "$(wc -l <"$tmp/events")" -ge "$1" ] && return; sleep 0.1; done
}
before=$(wc -l <"$tmp/events")
# a link as netback makes it: the dummy driver, else a tap (both plain Ethernet links)
netback_link() { inh ip link add "$1" type dummy 2>/dev/null || inh ip tuntap add dev "$1" mode tap; }

# a normal life (what vif-vifmac does: the helper's rules, then vif-bridge's port;
# offline the other way round, then netback deletes the link): nothing
domain 6 web2 66666666-0000-4000-8000-000000000006 1
vif 6 0 00:16:3e:12:34:57 192.0.2.11
netback_link vif6.0
online6() {
	inh env XENBUS_TYPE=vif XENBUS_BASE_PATH=backend XENBUS_PATH=backend/vif/6/0 vif=vif6.0 \
		$V hotplug "$1" type_if=vif </dev/null >"$tmp/hotplug.out" 2>"$tmp/hotplug.err"
}
check
online6 online || fail "hotplug online of vif6.0 failed: $(cat "$tmp/hotplug.err")"
inh ip link set vif6.0 master xenbr0 up
xs write "$BE/6/0/hotplug-status" connected
check
[ "$(inh "$VIFMAC" enforce list | awk '$1 == "vif6.0" { print $2 }')" = 02:00:c0:00:02:0b ] ||
	fail "the helper did not hold vif6.0 to 02:00:c0:00:02:0b: $(inh "$VIFMAC" enforce list)"
sleep 5
check
[ "$(wc -l <"$tmp/events")" = "$before" ] || fail "events for a vif with its rules: $(tail -n +$((before + 1)) "$tmp/events")"
online6 offline || fail "hotplug offline of vif6.0 failed: $(cat "$tmp/hotplug.err")"
inh ip link set vif6.0 nomaster
xs rm "$BE/6"
inh ip link del vif6.0
sleep 5
check
[ "$(wc -l <"$tmp/events")" = "$before" ] || fail "events for a vif going offline: $(tail -n +$((before + 1)) "$tmp/events")"

# a vif port on the bridge without its rules (started by a script that does not filter)
domain 5 web1 55555555-0000-4000-8000-000000000005 0
vif 5 0 02:00:c0:00:02:0a 192.0.2.10
xs write "$BE/5/0/hotplug-status" connected
netback_link vif5.0
inh ip link set vif5.0 master xenbr0 up
wait_events $((before + 1))
check
[ "$(grep -c "^CRITICAL missing-rules .*domain web1 domid 5 vif 0 (vif5.0, bridge xenbr0): vif5.0 has no rules holding it to 02:00:c0:00:02:0a" "$tmp/events")" = 1 ] ||
	fail "no single missing-rules event for vif5.0: $(tail -n +$((before + 1)) "$tmp/events")"
check
grep -q '^vifmac_audit_findings{kind="missing-rules"} 1$' "$tmp/watch.prom" || fail "prometheus file has no missing-rules count"

# rules left behind after their port was deleted (netback's link gone, no offline ran)
domain 7 web3 77777777-0000-4000-8000-000000000007 0
vif 7 0 02:00:c0:00:02:0c 192.0.2.12
xs write "$BE/7/0/hotplug-status" connected
netback_link vif7.0
inh "$VIFMAC" enforce add vif7.0 02:00:c0:00:02:0c || fail "enforce add vif7.0 failed"
inh ip link set vif7.0 master xenbr0 up
sleep 5
n=$(wc -l <"$tmp/events")
check
! grep -q "vif7.0" "$tmp/events" || fail "events for vif7.0 with its rules: $(cat "$tmp/events")"
inh ip link del vif7.0
wait_events $((n + 1))
check
[ "$(grep -c "^WARNING  stale-rules .*rules hold vif7.0 to 02:00:c0:00:02:0c, and dom0 has no interface of that name any more" "$tmp/events")" = 1 ] ||
	fail "no single stale-rules event for vif7.0: $(tail -n +$((n + 1)) "$tmp/events")"
check
grep -q '^vifmac_audit_findings{kind="stale-rules"} 1$' "$tmp/watch.prom" || fail "prometheus file has no stale-rules count"
check
kill -0 $wpid 2>/dev/null || fail "watch died: $(cat "$tmp/watch.err")"
ip netns exec "$H" nft delete table bridge vifmac 2>/dev/null

echo "$0: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
