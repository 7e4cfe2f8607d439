#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vif-vifmac through a host's and a guest's life, as libxl runs it (the set-up
# of tests/hook/lib.sh: the real hook, the stock scripts, real xenstore-*
# commands and vifmac on a fake store, a bridge in a network namespace):
#   - power loss: the registry (a real SQLite file) still holds a guest's
#     claim under the UUID it had; xl creates it again with a new UUID
#   - another host's claim is never taken over; vifmac gc --host releases it
#   - the migration hand-over on one host, step by step as xl does it
#     (tools/xl/xl_migrate.c): --incoming while the source runs, the source
#     renamed --migratedaway and destroyed, the incoming renamed
#   - a config copied with its uuid= line
#   - the hand-over across two hosts on a real 3-member etcd cluster
#     (two fake xenstores, host_name dom0-a and dom0-b)
# syslog is read from a /dev/log socket of the test's own.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs .sh tests with sh
set -u

: "${VIFMAC:?run through make check (VIFMAC is the built CLI)}"
: "${TOP_SRCDIR:?run through make check}"
: "${TOP_BUILDDIR:?run through make check}"
. "$TOP_SRCDIR/tests/hook/lib.sh"
. "$TOP_SRCDIR/tests/hook/checks.sh"

hook_test_start "$@"
CLUSTER=$TOP_SRCDIR/tests/etcd/cluster.sh
trap 'kill $syslog_pid 2>/dev/null; [ -n "$made_devlog" ] && rm -f /dev/log; "$CLUSTER" stop "$tmp/cluster" >/dev/null 2>&1; hook_teardown; rm -rf "$tmp"' EXIT

BE=/local/domain/0/backend/vif
U_OLD=9cf1a2b3-c4d5-4e6f-8a7b-8c9d0e1f2a3b
U1=11111111-0000-4000-8000-000000000001
U2=22222222-0000-4000-8000-000000000002
U3=33333333-0000-4000-8000-000000000003
U4=44444444-0000-4000-8000-000000000004
U5=55555555-0000-4000-8000-000000000005
MAC10=02:00:c0:00:02:0a # 192.0.2.10
MAC20=02:00:c0:00:02:14 # 192.0.2.20
MAC40=02:00:c0:00:02:28 # 192.0.2.40

# ------------------------------------------------------------------ syslog
# A datagram socket at /dev/log of our own (over the real one in this mount
# namespace, or made for the test when the box has none).
made_devlog=
syslog_pid=
SYSLOG=$tmp/syslog.txt
: >"$SYSLOG"
# the socket: /dev/log itself when the box has none, else one bound over it here
sock=$tmp/log.sock
[ -e /dev/log ] || { sock=/dev/log; made_devlog=1; }
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
s.settimeout(600)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        try:
            f.write(s.recv(65536) + b"\n")
        except socket.timeout:
            break
' "$sock" "$SYSLOG" &
syslog_pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -z "$made_devlog" ] && { mount --bind "$sock" /dev/log || fail "cannot bind a socket over /dev/log"; }

# vifmac on this host's fake xenstore (gc lists the running domains through libxl)
vm() {
	LD_PRELOAD="$FAKEXS_LIB" FAKEXS_STATE="$XS" VIFMAC_CONFIG="$POLICY" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$VIFMAC" "$@"
}
ns_vm() {
	ip netns exec "$NS" env LD_PRELOAD="$FAKEXS_LIB" FAKEXS_STATE="$XS" VIFMAC_CONFIG="$POLICY" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$VIFMAC" "$@"
}

# ------------------------------------------------------------------ power loss
case=power-loss
domain 3 web1 $U_OLD 1
vif 3 0 00:16:3e:01:01:01 192.0.2.10
link vif3.0
hotplug vif-vifmac 3 0 online type_if=vif
status_is 0
value $BE/3/0/mac $MAC10
# the crash: no offline ran; at boot xenstore is new, the registry file is as the crash left it
: >"$XS"
ns ip link del vif3.0
# xendomains creates web1 again; its config has no uuid=, so xl gives it a new one
domain 1 web1 $U1 1
vif 1 0 00:16:3e:01:01:02 192.0.2.10
link vif1.0
log_mark
hotplug vif-vifmac 1 0 online type_if=vif
status_is 0
value $BE/1/0/mac $MAC10
value /local/domain/1/device/vif/0/mac $MAC10
on_bridge vif1.0
whois $MAC10
has "$tmp/whois" "$U1"
lacks "$tmp/whois" "$U_OLD"
log_since
has "$tmp/log.part" "warning: domain 1 vif 0: took over the claim of $MAC10 by domain web1 \\(uuid $U_OLD\\) vif 0, recorded by this host \\([^)]*\\) since .* UTC: no domain with that UUID exists here"
sleep 0.3
has "$SYSLOG" "vif-vifmac\\[[0-9]+\\]: domain web1 \\(1\\) vif 0: took over the claim of $MAC10 by domain web1 \\(uuid $U_OLD\\)"
# a guest reboot keeps it: offline, then online again with the same UUID
hotplug vif-vifmac 1 0 offline type_if=vif
status_is 0
xs rm /fakexs/domain/1
xs rm $BE/1 # libxl removes the backend after the offline run
domain 2 web1 $U1 1
vif 2 0 00:16:3e:01:01:03 192.0.2.10
link vif2.0
hotplug vif-vifmac 2 0 online type_if=vif
status_is 0
value $BE/2/0/mac $MAC10

# ------------------------------------------------------------------ another host's claim
case=other-host
sed 's/^registry = .*//' "$POLICY" >"$tmp/policy-b.conf"
echo "registry = \"sqlite:$REGISTRY\"" >>"$tmp/policy-b.conf"
echo 'host_name = "dom0-b"' >>"$tmp/policy-b.conf"
domain 4 app-b $U4 1
vif 4 0 00:16:3e:04:04:04 192.0.2.20
link vif4.0
POLICY_A=$POLICY
POLICY=$tmp/policy-b.conf
hotplug vif-vifmac 4 0 online type_if=vif
status_is 0
POLICY=$POLICY_A
# dom0-b's guest is not in the hypervisor we see (nor in our xenstore), but it is not ours to judge
xs rm /fakexs/domain/4
xs rm $BE/4
domain 5 app-a $U5 1
vif 5 0 00:16:3e:05:05:05 192.0.2.20
link vif5.0
hotplug vif-vifmac 5 0 online type_if=vif
status_failed
has "$tmp/err" "conflict: $MAC20 for vif 0 of app-a \\(domid 5\\) is already claimed: held in the registry by domain app-b \\(uuid $U4\\) vif 0 on host dom0-b"
whois $MAC20
has "$tmp/whois" "$U4"
sleep 1.1 # gc keeps what was claimed in the second it started (that host may be alive)
vm gc --host dom0-b --dry-run >"$tmp/gc" 2>&1
has "$tmp/gc" "^would release $MAC20: domain app-b \\(uuid $U4, devid 0\\) claimed on host dom0-b$"
has "$tmp/gc" "^would release 1 claim of host dom0-b$"
vm gc --host dom0-b >"$tmp/gc" 2>&1
has "$tmp/gc" "^released 1 claim of host dom0-b$"
whois $MAC10
check "gc --host dom0-b leaves this host's claims (whois status $wrc)" test "$wrc" = 0
hotplug vif-vifmac 5 0 online type_if=vif
status_is 0
value $BE/5/0/mac $MAC20
vm gc --host "" >"$tmp/gc" 2>&1
rc=$?
status_is 2

# ------------------------------------------------------------------ migration hand-over on one host
case=migration
# the source runs (created paused, its vif online, then unpaused)
domain 6 db1 $U3 1
vif 6 0 00:16:3e:06:06:06 192.0.2.40
link vif6.0
hotplug vif-vifmac 6 0 online type_if=vif
status_is 0
xs write /fakexs/domain/6/paused 0
# xl migrate-receive: the same UUID created paused as db1--incoming, its MAC from the stream
domain 7 db1--incoming $U3 1
vif 7 0 $MAC40 192.0.2.40
link vif7.0
hotplug vif-vifmac 7 0 online type_if=vif
status_is 0
value $BE/7/0/mac $MAC40
value $BE/7/0/vifmac-owner $U3
"$VIFMAC" list --json >"$tmp/list" 2>&1
check "the registry records the guest's name, not xl's --incoming" \
	test "$(python3 -c 'import json,sys; print(" ".join(r["domain"] for r in json.load(open(sys.argv[1])) if r["mac"] == sys.argv[2]))' "$tmp/list" $MAC40)" = db1
# the stream is through: the source is renamed and destroyed, its vif goes offline
xs write /local/domain/6/name db1--migratedaway
xs rm /fakexs/domain/6
log_mark
hotplug vif-vifmac 6 0 offline type_if=vif
status_is 0
off_bridge vif6.0
whois $MAC40
check "the claim stays after the source's offline (whois status $wrc)" test "$wrc" = 0
has "$tmp/whois" "$U3"
# the receiver is renamed and unpaused; vifmac gc keeps the claim of the running domain
xs write /local/domain/7/name db1
xs write /fakexs/domain/7/paused 0
vm gc >"$tmp/gc" 2>&1
has "$tmp/gc" "^released 0 claims$"
whois $MAC40
check "vifmac gc keeps the migrated guest's claim (whois status $wrc)" test "$wrc" = 0

# ------------------------------------------------------------------ the boot unit's vifmac gc
case=boot-gc
# a guest of this host that went without its offline (killed with dom0), and one of dom0-b
domain 9 tmp1 $U4 1
vif 9 0 00:16:3e:09:09:09 192.0.2.60
link vif9.0
hotplug vif-vifmac 9 0 online type_if=vif
status_is 0
xs rm /fakexs/domain/9
POLICY=$tmp/policy-b.conf
domain 10 far1 $U_OLD 1
vif 10 0 00:16:3e:0a:0a:0a 192.0.2.61
link vif10.0
hotplug vif-vifmac 10 0 online type_if=vif
status_is 0
POLICY=$POLICY_A
xs rm /fakexs/domain/10
"$VIFMAC" list --json >"$tmp/before" 2>&1
sleep 1.1
vm gc >"$tmp/gc" 2>&1
has "$tmp/gc" "^released 02:00:c0:00:02:3c: domain tmp1 \\(uuid $U4, devid 0\\) is not running$"
has "$tmp/gc" "^released 1 claim$"
"$VIFMAC" list --json >"$tmp/after" 2>&1
check "gc released exactly tmp1's claim: the live ones and dom0-b's stay" test \
	"$(python3 -c 'import json,sys
b = {r["mac"] for r in json.load(open(sys.argv[1]))}
a = {r["mac"] for r in json.load(open(sys.argv[2]))}
print(" ".join(sorted(b - a)), len(a))' "$tmp/before" "$tmp/after")" = "02:00:c0:00:02:3c $(($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/before") - 1))"
whois 02:00:c0:00:02:3d
has "$tmp/whois" "dom0-b"

# ------------------------------------------------------------------ one UUID, two domains
case=copied-uuid
domain 8 db1-copy $U3 1
vif 8 0 00:16:3e:08:08:08 192.0.2.41
link vif8.0
hotplug vif-vifmac 8 0 online type_if=vif
status_failed
has "$tmp/err" "conflict: vif 0 of db1-copy \\(domid 8\\): the domain's UUID $U3 is not its own: domain db1 \\(domid 7\\) runs with the same UUID"
whois 02:00:c0:00:02:29
check "nothing recorded for the copy (whois status $wrc)" test "$wrc" != 0
# a domain's name node that dom0 does not own is not believed: the UUID's name is used
node 0 /fakexs/domain/11/uuid $U3
node 0 /fakexs/domain/11/paused 1
node 0 /local/domain/11 ""
node 11 /local/domain/11/name "db1--incoming"
vif 11 0 00:16:3e:0b:0b:0b 192.0.2.42
link vif11.0
hotplug vif-vifmac 11 0 online type_if=vif
status_failed
has "$tmp/err" "conflict: vif 0 of db1-copy \\(domid 11\\): the domain's UUID $U3 is not its own" # /vm/<uuid>/name
lacks "$tmp/err" "db1--incoming"

# ------------------------------------------------------------------ across two hosts, one etcd cluster
case=etcd-two-hosts
# inside the network namespace, where the hook runs: its loopback
if ! ns "$CLUSTER" start "$tmp/cluster" >"$tmp/cluster.log" 2>&1; then
	fail "cannot start a 3-member etcd cluster (etcd-server): $(tail -n 3 "$tmp/cluster.log")"
else
	E="etcd:$(cat "$tmp/cluster/endpoints")"
	for h in a b; do
		sed 's/^registry = .*//' "$POLICY_A" >"$tmp/etcd-$h.conf"
		printf 'registry = "%s"\nhost_name = "dom0-%s"\n' "$E" "$h" >>"$tmp/etcd-$h.conf"
	done
	XS_A=$tmp/xenstore-a XS_B=$tmp/xenstore-b
	: >"$XS_A"
	: >"$XS_B"
	on_a() { XS=$XS_A POLICY=$tmp/etcd-a.conf "$@"; }
	on_b() { XS=$XS_B POLICY=$tmp/etcd-b.conf "$@"; }
	XS=$XS_A; domain 21 mail $U2 1; vif 21 0 00:16:3e:21:21:21 192.0.2.50
	XS=$XS_B; domain 31 mail-twin $U5 1; vif 31 0 00:16:3e:31:31:31 192.0.2.50
	link vif21.0
	link vif31.0
	on_a hotplug vif-vifmac 21 0 online type_if=vif
	status_is 0
	XS=$XS_A xs write /fakexs/domain/21/paused 0
	on_b hotplug vif-vifmac 31 0 online type_if=vif
	status_failed
	has "$tmp/err" "held in the registry by domain mail \\(uuid $U2\\) vif 0 on host dom0-a"
	# xl migrate from dom0-a to dom0-b: the receiver on B while the source still runs on A
	XS=$XS_B; domain 32 mail--incoming $U2 1; vif 32 0 02:00:c0:00:02:32 192.0.2.50
	link vif32.0
	on_b hotplug vif-vifmac 32 0 online type_if=vif
	status_is 0
	ns env VIFMAC_CONFIG=$tmp/etcd-b.conf "$VIFMAC" whois 02:00:c0:00:02:32 >"$tmp/whois" 2>&1
	has "$tmp/whois" "dom0-b"
	# the source's teardown on A must not release what B now holds
	XS=$XS_A xs write /local/domain/21/name mail--migratedaway
	XS=$XS_A xs rm /fakexs/domain/21
	on_a hotplug vif-vifmac 21 0 offline type_if=vif
	status_is 0
	XS=$XS_A xs rm $BE/21 # libxl removes the backend after the offline run
	on_a ns_vm gc >"$tmp/gc" 2>&1
	has "$tmp/gc" "^released 0 claims$"
	ns env VIFMAC_CONFIG=$tmp/etcd-a.conf "$VIFMAC" whois 02:00:c0:00:02:32 >"$tmp/whois" 2>&1
	has "$tmp/whois" "$U2"
	has "$tmp/whois" "dom0-b"
	# dom0-b crashes; its guest comes back with a new UUID: the take-over, on etcd
	: >"$XS_B"
	XS=$XS_B; domain 33 mail $U4 1; vif 33 0 00:16:3e:33:33:33 192.0.2.50
	link vif33.0
	on_b hotplug vif-vifmac 33 0 online type_if=vif
	status_is 0
	has "$LOG" "took over the claim of 02:00:c0:00:02:32 by domain mail \\(uuid $U2\\) vif 0, recorded by this host \\(dom0-b\\)"
	ns env VIFMAC_CONFIG=$tmp/etcd-a.conf "$VIFMAC" whois 02:00:c0:00:02:32 >"$tmp/whois" 2>&1
	has "$tmp/whois" "$U4"
	# dom0-a sees the same stale-looking claim of dom0-b's: never taken over from there
	XS=$XS_A; domain 22 mail-a $U1 1; vif 22 0 00:16:3e:22:22:22 192.0.2.50
	link vif22.0
	on_a hotplug vif-vifmac 22 0 online type_if=vif
	status_failed
	has "$tmp/err" "held in the registry by domain mail \\(uuid $U4\\) vif 0 on host dom0-b"
	"$CLUSTER" stop "$tmp/cluster" >/dev/null 2>&1
fi

echo "$0: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
