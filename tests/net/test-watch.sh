#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac watch, for real: a bridge in a network namespace, a MAC reserved in
# a real SQLite registry, and veth "machines" that make the bridge learn. A
# foreign port starting to use the reserved MAC gives one critical event
# within a second; a MAC moving between ports one warning; a quiet network
# nothing (and no CPU to speak of).
set -u
: "${VIFMAC:?run through make check}"
here=$(cd "$(dirname "$0")" && pwd)
FORGE=$here/forge-frame.py
command -v python3 >/dev/null || { echo "FAIL: python3 is missing"; exit 1; }
. "$here/lib.sh"
tag=vmx$$
H=$tag-h   # dom0: the bridge xenbr0
A=$tag-a   # a machine on port eth0a
B=$tag-b   # a machine on port eth0b
net_namespaces "$H" "$A" "$B"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-watch-XXXXXX")
NET_CLEANUP=$tmp
trap 'kill $wpid 2>/dev/null; wait $wpid 2>/dev/null; for n in $NET_NAMESPACES; do ip netns del "$n" 2>/dev/null; done; rm -rf "$NET_CLEANUP"' EXIT
check() { checks=$((checks + 1)); }
inh() { ip netns exec "$H" "$@"; }
printf "# defaults\n" >"$tmp/vifmac.conf"
V="$VIFMAC --config $tmp/vifmac.conf --registry sqlite:$tmp/registry.db"
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

# a foreign port uses the reserved MAC: one critical event within a second
t0=$EPOCHREALTIME
ip netns exec "$A" python3 "$FORGE" ext raw "$RESERVED"
for _ in $(seq 1 20); do grep -q "foreign-use" "$tmp/events" && break; sleep 0.05; done
t1=$EPOCHREALTIME
check
[ "$(grep -c "^CRITICAL foreign-use .*$RESERVED, reserved in the registry (the router), learned on bridge xenbr0 port eth0a" "$tmp/events")" = 1 ] ||
	fail "no single foreign-use event: $(cat "$tmp/events")"
check
ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
[ "$ms" -lt 1000 ] || fail "the event took $ms ms"
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

echo "$0: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
