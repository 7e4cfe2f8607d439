#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vif-vifmac as libxl runs it, without Xen: Debian's stock hotplug scripts, a
# real bridge in a network namespace, the real xenstore-* commands and the real
# vifmac on a fake store (tests/fake/libfakexs.so), a real SQLite registry.
# Exit 77 (skipped) only when this box cannot host that: not root, no
# namespaces, no bridge, no stock scripts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs .sh tests with sh
set -u

: "${VIFMAC:?run through make check (VIFMAC is the built CLI)}"
: "${TOP_SRCDIR:?run through make check}"
: "${TOP_BUILDDIR:?run through make check}"
. "$TOP_SRCDIR/tests/hook/lib.sh"
. "$TOP_SRCDIR/tests/hook/checks.sh"

hook_test_start "$@"

U5=55555555-0000-4000-8000-000000000005
U6=66666666-0000-4000-8000-000000000006
U7=77777777-0000-4000-8000-000000000007
U8=88888888-0000-4000-8000-000000000008
U9=99999999-0000-4000-8000-000000000009
U10=aaaaaaaa-0000-4000-8000-00000000000a
U11=bbbbbbbb-0000-4000-8000-00000000000b
U12=cccccccc-0000-4000-8000-00000000000c
BE=/local/domain/0/backend/vif

# ------------------------------------------------------------------ create
case=create
domain 5 web1 $U5 1
vif 5 0 00:16:3e:12:34:56 192.0.2.10
link vif5.0
log_mark
hotplug vif-vifmac 5 0 online type_if=vif
status_is 0
value $BE/5/0/mac 02:00:c0:00:02:0a
value /local/domain/5/device/vif/0/mac 02:00:c0:00:02:0a
value /libxl/5/device/vif/0/mac 02:00:c0:00:02:0a
value $BE/5/0/hotplug-status connected
value $BE/5/0/vifmac-owner $U5
absent $BE/5/0/hotplug-error
on_bridge vif5.0
# vif-bridge really ran after the helper: it writes the frontend's mtu
value /local/domain/5/device/vif/0/mtu "$(ns cat /sys/class/net/xenbr0/mtu)"
check "vif5.0 is up" ns sh -c 'ip -o link show vif5.0 | grep -q "[<,]UP[,>]"'
whois 02:00:c0:00:02:0a
check "whois finds the claim (status $wrc)" test "$wrc" = 0
has "$tmp/whois" "^02:00:c0:00:02:0a domain web1 uuid $U5 devid 0 bridge xenbr0"
log_since
has "$tmp/log.part" "assigned 02:00:c0:00:02:0a"
# held to that MAC on the wire (nftables, in the namespace)
check "vif5.0 is held to 02:00:c0:00:02:0a" ns sh -c \
	'nft list set bridge vifmac macs | grep -q "\"vif5.0\" . 02:00:c0:00:02:0a"'
# the frontend is the guest's: it stays the guest's after the rewrite
check "the frontend mac stays owned by domain 5" sh -c \
	"LD_PRELOAD=$FAKEXS_LIB FAKEXS_STATE=$XS xenstore-ls -p /local/domain/5/device/vif/0 | grep -q '^mac = .*(n5)'"

# ------------------------------------------------------------------ conflict refusal
case=conflict
domain 6 web1-copy $U6 1
vif 6 0 00:16:3e:22:33:44 192.0.2.10
link vif6.0
registry_dump "$tmp/reg.before"
log_mark
hotplug vif-vifmac 6 0 online type_if=vif
status_failed
one_line "$tmp/err"
has "$tmp/err" "02:00:c0:00:02:0a"
has "$tmp/err" "domain 5 vif 0|web1 "
has "$tmp/err" "already"
msg=$(head -n 1 "$tmp/err")
value $BE/6/0/hotplug-status error
# the guest can read hotplug-error: there only the kind and the vif's own MAC, not the holder
value $BE/6/0/hotplug-error "vif-vifmac: conflict: vif 0 (02:00:c0:00:02:0a) refused; the reason is in dom0's xen-hotplug.log"
off_bridge vif6.0
log_since
check "the refusal is in xen-hotplug.log" grep -qF -- "$msg" "$tmp/log.part"
registry_dump "$tmp/reg.after"
check "the registry is unchanged" cmp -s "$tmp/reg.before" "$tmp/reg.after"
value $BE/6/0/mac 00:16:3e:22:33:44
value /local/domain/6/device/vif/0/mac 00:16:3e:22:33:44

# ------------------------------------------------------------------ failed create cleanup
# libxl destroys the refused domain: offline runs for its vif, the domain first
# still listed, then (a second teardown, e.g. xl destroy) already gone.
case=cleanup
hotplug vif-vifmac 6 0 offline type_if=vif
status_is 0
whois 02:00:c0:00:02:0a
has "$tmp/whois" "domain web1 uuid $U5 devid 0"
registry_dump "$tmp/reg.now"
check "no claim of web1-copy remains" not_grep "$U6" "$tmp/reg.now"
off_bridge vif6.0
xs rm /fakexs/domain/6
hotplug vif-vifmac 6 0 offline type_if=vif
status_is 0
whois 02:00:c0:00:02:0a
has "$tmp/whois" "domain web1 uuid $U5 devid 0"
registry_dump "$tmp/reg.after"
check "the registry is unchanged by the cleanup" cmp -s "$tmp/reg.before" "$tmp/reg.after"

# ------------------------------------------------------------------ dom0 link conflict
case=dom0-link
domain 7 mail $U7 1
vif 7 0 00:16:3e:33:44:55 192.0.2.30
link vif7.0
link eth9 02:00:c0:00:02:1e
registry_dump "$tmp/reg.before"
hotplug vif-vifmac 7 0 online type_if=vif
status_failed
one_line "$tmp/err"
has "$tmp/err" "02:00:c0:00:02:1e"
has "$tmp/err" "dom0 interface eth9"
value $BE/7/0/hotplug-status error
off_bridge vif7.0
registry_dump "$tmp/reg.after"
check "the registry is unchanged" cmp -s "$tmp/reg.before" "$tmp/reg.after"
hotplug vif-vifmac 7 0 offline type_if=vif
status_is 0

# ------------------------------------------------------------------ HVM verify path
case=hvm-refused
domain 8 win1 $U8 1
vif 8 0 00:16:3e:45:67:01 192.0.2.40 vif_ioemu
link vif8.0
link vif8.0-emu
for run in "online type_if=vif" "add type_if=tap"; do
	HOTPLUG_ENV="INTERFACE=vif8.0-emu" hotplug vif-vifmac 8 0 $run
	status_failed
	one_line "$tmp/err"
	has "$tmp/err" "vifmac xl-args"
	has "$tmp/err" "00:16:3e:45:67:01"
	has "$tmp/err" "02:00:c0:00:02:28"
done
value $BE/8/0/mac 00:16:3e:45:67:01
value /local/domain/8/device/vif/0/mac 00:16:3e:45:67:01
off_bridge vif8.0
off_bridge vif8.0-emu
whois 02:00:c0:00:02:28
check "no claim for the refused HVM NIC" test "$wrc" != 0

case=hvm-verified
domain 9 win2 $U9 1
vif 9 0 02:00:c0:00:02:32 192.0.2.50 vif_ioemu
link vif9.0
link vif9.0-emu
HOTPLUG_ENV="INTERFACE=vif9.0-emu" hotplug vif-vifmac 9 0 add type_if=tap
status_is 0
on_bridge vif9.0-emu
hotplug vif-vifmac 9 0 online type_if=vif
status_is 0
on_bridge vif9.0
check "the emulated NIC's tap is held to its MAC too" ns sh -c \
	'nft list set bridge vifmac macs | grep -q "\"vif9.0-emu\" . 02:00:c0:00:02:32"'
value $BE/9/0/hotplug-status connected
value $BE/9/0/mac 02:00:c0:00:02:32
value /local/domain/9/device/vif/0/mac 02:00:c0:00:02:32
value /libxl/9/device/vif/0/mac 02:00:c0:00:02:32
whois 02:00:c0:00:02:32
has "$tmp/whois" "^02:00:c0:00:02:32 domain win2 uuid $U9 devid 0"

# ------------------------------------------------------------------ hot-attach to a running guest
case=hot-attach
domain 10 app1 $U10 0
vif 10 1 00:16:3e:56:78:9a 192.0.2.60
link vif10.1
hotplug vif-vifmac 10 1 online type_if=vif
status_failed
one_line "$tmp/err"
has "$tmp/err" "xl network-detach 10 1"
has "$tmp/err" "02:00:c0:00:02:3c"
value $BE/10/1/hotplug-status error
value $BE/10/1/mac 00:16:3e:56:78:9a
value /local/domain/10/device/vif/1/mac 00:16:3e:56:78:9a
off_bridge vif10.1
whois 02:00:c0:00:02:3c
check "no claim for the refused hot-attach" test "$wrc" != 0

# ------------------------------------------------------------------ EAGAIN storm
case=eagain-few
domain 11 db1 $U11 1
vif 11 0 00:16:3e:11:11:11 192.0.2.70
link vif11.0
xs write /fakexs/eagain 3 /fakexs/eagain-match vifmac-owner
hotplug vif-vifmac 11 0 online type_if=vif
status_is 0
value /fakexs/eagain 0
value $BE/11/0/mac 02:00:c0:00:02:46
value /local/domain/11/device/vif/0/mac 02:00:c0:00:02:46
value $BE/11/0/hotplug-status connected
on_bridge vif11.0
whois 02:00:c0:00:02:46
has "$tmp/whois" "domain db1 uuid $U11 devid 0"

case=eagain-endless
domain 12 db2 $U12 1
vif 12 0 00:16:3e:12:12:12 192.0.2.80
link vif12.0
xs write /fakexs/eagain always
hotplug vif-vifmac 12 0 online type_if=vif
status_failed
one_line "$tmp/err"
has "$tmp/err" "02:00:c0:00:02:50"
has "$tmp/err" "transaction"
value $BE/12/0/hotplug-status error
value $BE/12/0/mac 00:16:3e:12:12:12
off_bridge vif12.0
whois 02:00:c0:00:02:50
check "no claim left after the endless EAGAIN" test "$wrc" != 0
xs rm /fakexs/eagain /fakexs/eagain-match

# ------------------------------------------------------------------ offline release
case=offline
hotplug vif-vifmac 5 0 offline type_if=vif
status_is 0
off_bridge vif5.0
check "offline removed vif5.0's rules" ns sh -c '! nft list table bridge vifmac | grep -q "\"vif5.0\""'
check "and only those" ns sh -c 'nft list map bridge vifmac owner | grep -q "\"vif9.0\" : 02:00:c0:00:02:32"'
whois 02:00:c0:00:02:0a
check "the claim of web1 is released (whois status $wrc)" test "$wrc" != 0
whois 02:00:c0:00:02:46
check "db1's claim stays" test "$wrc" = 0
hotplug vif-vifmac 5 0 offline type_if=vif
status_is 0
off_bridge vif5.0
# the backend already gone: the helper alone must not fail either
xs rm $BE/5/0
ip netns exec "$NS" env LD_PRELOAD="$FAKEXS_LIB" FAKEXS_STATE="$XS" XENBUS_PATH=backend/vif/5/0 vif=vif5.0 \
	"$VIFMAC" hotplug offline type_if=vif </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 0
has "$tmp/out" "^chain=vif-bridge$"
# a restart: domain 5 is gone (destroyed), the same domain and vif get the same MAC again
xs rm /fakexs/domain/5
domain 13 web1 $U5 1
vif 13 0 00:16:3e:13:13:13 192.0.2.10
link vif13.0
hotplug vif-vifmac 13 0 online type_if=vif
status_is 0
value $BE/13/0/mac 02:00:c0:00:02:0a
on_bridge vif13.0

# ------------------------------------------------------------------ network-attach
case=network-attach
cat >"$tmp/xl" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$tmp/xl.argv"
EOF
chmod +x "$tmp/xl"
VIFMAC_XL=$tmp/xl "$VIFMAC" network-attach app1 bridge=xenbr0 ip=192.0.2.60 \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 0
check "the stub xl ran" test -f "$tmp/xl.argv"
[ -f "$tmp/xl.argv" ] || : >"$tmp/xl.argv"
check "xl network-attach got the policy's mac=" test \
	"$(tr '\n' ' ' <"$tmp/xl.argv")" = "network-attach app1 bridge=xenbr0 ip=192.0.2.60 mac=02:00:c0:00:02:3c "

# As xl: a vif without bridge= is on xl.conf's vif.default.bridge (here one
# the policy refuses), a bare "trusted" is an item, a comma is not split.
cat >"$tmp/xl.conf" <<EOF
vif.default.bridge = "xenbr7"
EOF
{ grep -v '^unlisted_bridges' "$POLICY"; echo 'unlisted_bridges = "refuse"'; } >"$tmp/policy-refuse"
rm -f "$tmp/xl.argv"
VIFMAC_XL=$tmp/xl VIFMAC_CONFIG=$tmp/policy-refuse "$VIFMAC" network-attach --xl-conf "$tmp/xl.conf" app1 \
	ip=192.0.2.61 >"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 1
has "$tmp/err" "bridge xenbr7"
check "xl did not run for a refused vif" test ! -e "$tmp/xl.argv"
VIFMAC_XL=$tmp/xl VIFMAC_CONFIG=$tmp/policy-refuse VIFMAC_XL_CONF=$tmp/xl.conf "$VIFMAC" network-attach app1 \
	bridge=xenbr0 trusted ip=192.0.2.61 >"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 0
[ -f "$tmp/xl.argv" ] || : >"$tmp/xl.argv"
check "bridge= overrides vif.default.bridge, bare trusted goes to xl" test \
	"$(tr '\n' ' ' <"$tmp/xl.argv")" = "network-attach app1 bridge=xenbr0 trusted ip=192.0.2.61 mac=02:00:c0:00:02:3d "
VIFMAC_XL=$tmp/xl "$VIFMAC" network-attach app1 bridge=xenbr0,ip=192.0.2.62 >"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 2
has "$tmp/err" "a comma in a network-attach argument"
VIFMAC_XL=$tmp/xl "$VIFMAC" network-attach app1 bridge=xenbr0 colour=red >"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 2
has "$tmp/err" "colour"
# A pool bridge: the MAC comes at the hotplug, so network-attach cannot name it.
{ cat "$POLICY"; echo 'public_bridges = [ "xenpub" ]'; echo 'bridge_pools = [ "xenpub=ipam" ]'; } >"$tmp/policy-pools"
rm -f "$tmp/xl.argv"
VIFMAC_XL=$tmp/xl VIFMAC_CONFIG=$tmp/policy-pools "$VIFMAC" network-attach app1 bridge=xenpub ip=192.0.2.63 \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
status_is 1
has "$tmp/err" "bridge xenpub: the bridge takes its MACs from pools"
check "xl did not run for a pool bridge" test ! -e "$tmp/xl.argv"

# ------------------------------------------------------------------ the program and its chain
# vif-vifmac is a symlink to the program elsewhere (as the package installs
# it); a relative chain is Xen's script beside the name libxl ran, not beside
# the symlink's target (the create case ran vif-bridge from there).
case=chain
check "vif-vifmac is a symlink to a program out of the scripts folder" \
	sh -c "test -L '$SCRIPTS/vif-vifmac' && ! test -e '$(dirname "$(readlink "$SCRIPTS/vif-vifmac")")/vif-bridge'"
U15=dddddddd-0000-4000-8000-00000000000f
domain 15 edge1 $U15 1
vif 15 0 00:16:3e:15:15:15 192.0.2.90
link vif15.0
{ cat "$POLICY"; echo 'chain_script = "vif-gone"'; } >"$tmp/policy-gone"
log_mark
HOTPLUG_ENV="VIFMAC_CONFIG=$tmp/policy-gone" hotplug vif-vifmac 15 0 online type_if=vif
status_is 1
one_line "$tmp/err"
want="vif-vifmac: the network script $SCRIPTS/vif-gone does not exist or is not executable"
check "xl is told the chain is missing, beside the name libxl ran" grep -qxF -- "$want" "$tmp/err"
value $BE/15/0/hotplug-status error
value $BE/15/0/hotplug-error "$want"
log_since
check "the hotplug log has it after the script's name" grep -qxF -- "$SCRIPTS/vif-vifmac: $want" "$tmp/log.part"
off_bridge vif15.0
HOTPLUG_ENV="VIFMAC_CONFIG=$tmp/policy-gone" hotplug vif-vifmac 15 0 offline type_if=vif
status_is 0
whois 02:00:c0:00:02:5a
check "the offline released the claim though the chain is missing (whois status $wrc)" test "$wrc" != 0

# ------------------------------------------------------------------ invalid command, broken policy
case=invalid-command
xs rm $BE/15/0/hotplug-error $BE/15/0/hotplug-status
hotplug vif-vifmac 15 0 frobnicate type_if=vif
status_is 1
check "xl is told the command is invalid" grep -qxF -- "vif-vifmac: invalid command: frobnicate" "$tmp/err"
value $BE/15/0/hotplug-status error
value $BE/15/0/hotplug-error "vif-vifmac: invalid command: frobnicate"

case=broken-policy
xs rm $BE/15/0/hotplug-error $BE/15/0/hotplug-status
printf 'prefix = "02:00"\nno_such_key = 1\n' >"$tmp/policy-broken"
log_mark
HOTPLUG_ENV="VIFMAC_CONFIG=$tmp/policy-broken" hotplug vif-vifmac 15 0 online type_if=vif
status_is 1
one_line "$tmp/err"
has "$tmp/err" "^vif-vifmac: .*policy-broken"
has "$tmp/err" "no_such_key"
value $BE/15/0/hotplug-status error
value $BE/15/0/hotplug-error "vif-vifmac: refused; the reason is in dom0's xen-hotplug.log"
off_bridge vif15.0
# an unplug is never failed: the policy's error is logged, and vif-bridge runs
ns ip link set vif15.0 master xenbr0
HOTPLUG_ENV="VIFMAC_CONFIG=$tmp/policy-broken" hotplug vif-vifmac 15 0 offline type_if=vif
status_is 0
off_bridge vif15.0

# ------------------------------------------------------------------ hostile text from xenstore
# A domain name with shell syntax and a control byte: it reaches the admin's
# line escaped, as one line, and nothing runs it (tests/faults/test-trust.sh:
# the hook imports nothing that runs a shell).
case=hostile-name
U16=eeeeeeee-0000-4000-8000-000000000010
domain 16 "x\$(touch $tmp/pwned.1)\`touch $tmp/pwned.2\`;touch $tmp/pwned.3"$'\e[2J' $U16 1
vif 16 0 00:16:3e:16:16:16 192.0.2.90
link vif16.0
# refused: the xenstore backend of edge1 (domain 15) still has that MAC
hotplug vif-vifmac 16 0 online type_if=vif
status_failed
one_line "$tmp/err"
has "$tmp/err" 'x\$\(touch'
check "the control byte reaches xl escaped" sh -c "grep -qF '\\x1b[2J' '$tmp/err' && ! grep -q \"\$(printf '\\033')\" '$tmp/err'"
# the guest's node: only the kind and the vif's own MAC, nothing of the name
value $BE/16/0/hotplug-error "vif-vifmac: conflict: vif 0 (02:00:c0:00:02:5a) refused; the reason is in dom0's xen-hotplug.log"
check "no hostile text was run" sh -c "! ls '$tmp' | grep -q pwned"

# ------------------------------------------------------------------ syslog, as Xen's `log err`
# Xen's scripts log with `logger -p daemon.LEVEL -- "$0:" TEXT`. In a mount
# namespace of its own with a /dev of its own, /dev/log is a socket of the
# test's: the hook's refusal and logger's line for the same text must read
# the same (priority, tag, "$0: " and the text; the time stamp aside).
case=syslog
if ! command -v python3 >/dev/null || ! command -v logger >/dev/null; then
	echo "$0: note: no python3 or logger: the syslog lines are not compared" >&2
else
	cat >"$tmp/syslog.sh" <<'EOS'
mount -t tmpfs vifmac-dev /dev && mknod -m 666 /dev/null c 1 3 || exit 1
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(2)
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "w") as out:
    try:
        while True:
            out.write(s.recv(4096).decode(errors="replace") + "\n")
            out.flush()
    except socket.timeout:
        pass
' "$1" &
while [ ! -e "$1.ready" ]; do sleep 0.05; done
env -u XENBUS_PATH "$2/vif-vifmac" frobnicate </dev/null >/dev/null 2>&1
logger -p daemon.err -- "$2/vif-vifmac:" "vif-vifmac: invalid command: frobnicate"
wait
EOS
	unshare --mount --propagation private bash "$tmp/syslog.sh" "$tmp/syslog.out" "$SCRIPTS"
	sed -E 's/^(<[0-9]+>)[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} /\1/' "$tmp/syslog.out" >"$tmp/syslog.lines"
	checks=$((checks + 1))
	if [ "$(grep -c . "$tmp/syslog.lines")" -lt 3 ] ||
		[ "$(grep -vF 'XENBUS_PATH=' "$tmp/syslog.lines" | sort -u | wc -l)" != 1 ] ||
		! grep -v 'XENBUS_PATH=' "$tmp/syslog.lines" | grep '^<27>' |
		grep -qF ": $SCRIPTS/vif-vifmac: vif-vifmac: invalid command: frobnicate"; then
		fail "the hook's syslog lines are not logger's (daemon.err, \"\$0: \" and the text)"
		sed 's/^/  syslog: /' "$tmp/syslog.lines" >&2
	fi
fi

echo "$0: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
