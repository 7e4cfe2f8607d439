#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac adopt and plan --running on a host in use: the real vifmac on a fake
# xenstore + libxl (tests/fake/libfakexs.so, LD_PRELOAD, as the hook tests
# drive it) and a real SQLite registry. No root needed.
. "$TOP_SRCDIR/tests/cli/lib.sh"
: "${TOP_BUILDDIR:?run through make check}"
. "$TOP_SRCDIR/tests/hook/lib.sh" # node, domain, vif: the store as libxl leaves it
REGTOOL="$TOP_BUILDDIR/tests/integration/regtool"
[ -f "$FAKEXS_LIB" ] || { echo "$0: SKIPPED: $FAKEXS_LIB is not built"; exit 77; }

XS=$tmp/xenstore
R="sqlite:$tmp/registry.db"
POLICY=$tmp/vifmac.conf
cat >"$POLICY" <<EOF
prefix = "02:00"
private_bridges = [ "xenbr0" ]
no_ipv4 = "refuse"
registry = "$R"
EOF
UUID_WEB=6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b
UUID_DB=0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3
UUID_T1=11111111-1111-4111-8111-111111111111
UUID_T2=22222222-2222-4222-8222-222222222222
UUID_MAIL=33333333-3333-4333-8333-333333333333
UUID_OLD=44444444-4444-4444-8444-444444444444

# a host in use: guests started without the hook, with libxl's random MACs
# (web1, the twins) and with a MAC of xen-tools' (db1, 4th byte >= 0x80)
# (host_settled: the same once twin2 and mail are stopped)
host_settled() {
	: >"$XS"
	domain 3 web1 $UUID_WEB 0
	vif 3 0 00:16:3e:12:34:56 192.0.2.10 vif vif-bridge
	domain 4 db1 $UUID_DB 0
	vif 4 0 00:16:3e:ab:cd:ef "" vif vif-bridge
	domain 5 twin1 $UUID_T1 0
	vif 5 0 00:16:3e:01:02:03 192.0.2.51 vif vif-bridge
}
host_in_use() {
	host_settled
	domain 6 twin2 $UUID_T2 0
	vif 6 0 00:16:3e:01:02:03 192.0.2.52 vif vif-bridge
	domain 7 mail $UUID_MAIL 0
	vif 7 0 00:16:3e:77:77:77 192.0.2.70 vif vif-bridge
}

fx() { # fx STATUS ARGS...: the CLI on the fake store
	fx_want=$1
	shift
	run_cmd "$fx_want" env LD_PRELOAD="$FAKEXS_LIB" FAKEXS_STATE="$XS" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		VIFMAC_CONFIG="$POLICY" "$VIFMAC" "$@"
}

v() {
	"$VIFMAC" --config "$POLICY" "$@"
}

host_in_use
# another owner already holds mail's MAC in the registry (a domain of another host)
run_cmd 0 "$REGTOOL" "$R" claim 00:16:3e:77:77:77 '*' oldmail $UUID_OLD 0 xenbr0 192.0.2.70

# ---------------------------------------------------------------- dry run: nothing written
fx 1 adopt --dry-run
has out "^would-adopt 00:16:3e:12:34:56  web1 \(domid 3\) vif 0  bridge xenbr0  ip 192.0.2.10  \(libxl's random range\)$"
has out "^would-adopt 00:16:3e:ab:cd:ef  db1 \(domid 4\) vif 0"
has out "^CONFLICT  00:16:3e:01:02:03 is the MAC of vif 0 of twin1 \(domid 5\) and of vif 0 of twin2 \(domid 6\): two running vifs, neither recorded"
has out "^CONFLICT  00:16:3e:77:77:77 of vif 0 of mail \(domid 7\) is held in the registry by domain oldmail \(uuid $UUID_OLD\) vif 0 on host "
has out "^5 vifs: 2 would be adopted, 0 already recorded, 3 not recorded \(dry run: nothing written\)$"
has err "adopt: 3 vifs not recorded"
run_cmd 0 v list
lines out 2
has out "^00:16:3e:77:77:77 .* oldmail "

# ---------------------------------------------------------------- adopt: claims with source adopted
fx 1 adopt
has out "^adopted   00:16:3e:12:34:56  web1 \(domid 3\) vif 0"
has out "^adopted   00:16:3e:ab:cd:ef  db1 \(domid 4\) vif 0"
has out "^5 vifs: 2 adopted, 0 already recorded, 3 not recorded$"
run_cmd 0 v whois --json 00:16:3e:12:34:56
checks=$((checks + 1))
python3 - "$tmp/out" "$UUID_WEB" <<'PY' || fail "web1's adopted claim is not as expected"
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r) == 1, r
r = r[0]
assert (r["domain"], r["uuid"], r["devid"], r["source"], r["bridge"], r["ip"], r["state"]) == \
    ("web1", sys.argv[2], 0, "adopted", "xenbr0", "192.0.2.10", "active"), r
PY
run_cmd 0 v whois db1
has out "^00:16:3e:ab:cd:ef domain db1 uuid $UUID_DB devid 0"
# neither twin, and not mail: the other owner's claim is untouched
run_cmd 1 v whois twin1
run_cmd 1 v whois twin2
run_cmd 0 v whois 00:16:3e:77:77:77
has out "domain oldmail uuid $UUID_OLD"
lines out 1

# ---------------------------------------------------------------- again: idempotent
fx 1 adopt
has out "^already   00:16:3e:12:34:56  web1"
has out "^already   00:16:3e:ab:cd:ef  db1"
has out "^5 vifs: 0 adopted, 2 already recorded, 3 not recorded$"
run_cmd 0 v list
lines out 4

# the conflicts resolved (twin2 and mail stopped): exit 0, twin1 adopted now
host_settled
fx 0 adopt --json
empty err
checks=$((checks + 1))
python3 - "$tmp/out" <<'PY' || fail "adopt --json is not the expected JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["dry_run"] is False and (d["adopted"], d["already"], d["not_recorded"]) == (1, 2, 0), d
by = {v["domain"]: v for v in d["vifs"]}
assert by["twin1"]["result"] == "adopted" and by["twin1"]["mac"] == "00:16:3e:01:02:03", by
assert by["web1"]["result"] == "already" and by["web1"]["holder"] is None, by
assert by["db1"]["ip"] == "" and by["db1"]["scope"] == "*", by
PY

# JSON of a conflict names the holder
host_in_use
fx 1 adopt --json --dry-run
checks=$((checks + 1))
python3 - "$tmp/out" "$UUID_OLD" <<'PY' || fail "adopt --json conflicts are not as expected"
import json, sys
d = json.load(open(sys.argv[1]))
by = {v["domain"]: v for v in d["vifs"]}
h = by["mail"]["holder"]
assert by["mail"]["result"] == "conflict" and h["domain"] == "oldmail" and h["uuid"] == sys.argv[2], by["mail"]
assert by["twin2"]["holder"]["domain"] == "twin1" and by["twin2"]["holder"]["source"] == "running", by["twin2"]
assert "two running vifs" in by["twin1"]["message"], by["twin1"]
PY

# scope "bridge": the same MAC on two bridges is no conflict
cat >"$tmp/bridge-scope.conf" <<EOF
private_bridges = [ "xenbr0", "xenbr1" ]
scope = "bridge"
registry = "sqlite:$tmp/scoped.db"
EOF
: >"$XS"
domain 5 twin1 $UUID_T1 0
vif 5 0 00:16:3e:01:02:03 192.0.2.51 vif vif-bridge
domain 6 twin2 $UUID_T2 0
vif 6 0 00:16:3e:01:02:03 192.0.2.52 vif vif-bridge
node 0 /local/domain/0/backend/vif/6/0/bridge xenbr1
POLICY_SAVED=$POLICY
POLICY=$tmp/bridge-scope.conf
fx 0 adopt
has out "^2 vifs: 2 adopted"
POLICY=$POLICY_SAVED

# ---------------------------------------------------------------- unavailable: exit 3
# no xenstore and no hypervisor (no fake): not a dom0
run 3 --config "$POLICY" adopt
has err "adopt: cannot list the running domains \(is this a Xen dom0\?\)"
one_line err
# a registry that cannot be opened (its folder is a file)
host_in_use
: >"$tmp/not-a-folder"
fx 3 --registry "sqlite:$tmp/not-a-folder/registry.db" adopt
has err "registry"
fx 2 adopt extra
has err "adopt: unexpected argument \"extra\""
run 0 adopt --help
has out "^Usage: vifmac adopt \[--dry-run\] \[--json\]"

# ---------------------------------------------------------------- plan --running
host_in_use
fx 1 plan --running
has out "^domain web1 \(domid 3, uuid $UUID_WEB\)$"
has out "^  vif 0  bridge xenbr0 \(private\)  ip 192.0.2.10$"
has out "^    now   00:16:3e:12:34:56  ipv6 link-local fe80::216:3eff:fe12:3456  \(libxl's random range\)$"
has out "^    next  02:00:c0:00:02:0a  ipv6 link-local fe80::c0ff:fe00:20a  \[ip-derived: prefix 02:00 \+ 192.0.2.10\]  CHANGES$"
fx 1 plan --running --json
checks=$((checks + 1))
python3 - "$tmp/out" <<'PY' || fail "plan --running --json is not the expected JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False, d
by = {v["domain"]: v for v in d["vifs"]}
w = by["web1"]
assert (w["mac"], w["ipv6_link_local"]) == ("00:16:3e:12:34:56", "fe80::216:3eff:fe12:3456"), w
assert (w["next"]["mac"], w["next"]["ipv6_link_local"], w["changes"]) == ("02:00:c0:00:02:0a", "fe80::c0ff:fe00:20a", True), w
# db1: xen-tools' MAC (not libxl's range) and no ip=: refused at its next start
b = by["db1"]
assert b["next"] is None and b["changes"] is None and b["refusal"]["kind"] == "policy", b
assert "no_ipv4" in b["refusal"]["message"], b
PY
# the text says so too, with the exit status of plan: 1 when a vif will be refused
fx 1 plan --running
has out "^domain db1 \(domid 4, uuid $UUID_DB\)$"
has out "^    next  REFUSED \(policy\): .*no_ipv4 = \"refuse\""
# a guest already on its policy MAC: unchanged
: >"$XS"
domain 8 good $UUID_WEB 0
vif 8 0 02:00:c0:00:02:0a 192.0.2.10
fx 0 plan --running
has out "^    next  02:00:c0:00:02:0a  ipv6 link-local fe80::c0ff:fe00:20a  \[ip-derived: prefix 02:00 \+ 192.0.2.10\]  unchanged$"
fx 2 plan --running "$D/domains/web1.cfg"
has err "plan: --running takes no DOMAIN.cfg"
run 3 --config "$POLICY" plan --running
has err "cannot list the running domains"

finish
