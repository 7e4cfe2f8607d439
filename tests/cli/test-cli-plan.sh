#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac plan and xl-args on fixture domain configs.
. "$TOP_SRCDIR/tests/cli/lib.sh"
C="--config $D/example.conf"

run 0 $C plan "$D/domains/web1.cfg"
has out "^domain web1 \(.*web1.cfg, PV guest\)$"
has out "^    mac 02:00:c0:00:02:0a  \[ip-derived: prefix 02:00 \+ 192.0.2.10\]$"
has out "ipv6 link-local fe80::c0ff:fe00:20a "

run 0 $C plan "$D/domains/two-vifs.cfg"
has out "vif 0  bridge xenlocal \(private, scope global\)  ip 10.1.2.3 fd00::3"
has out "mac 02:00:0a:01:02:03"
has out "vif 1  bridge xenpub \(public, scope global\)"
has out "mac 52:54:00:aa:00:11  \[public-table: public_table .*example-table.txt:3 for 198.51.100.11\]"

# JSON for scripts: parse it for real
run 0 $C plan --json "$D/domains/two-vifs.cfg"
checks=$((checks + 1))
python3 - "$tmp/out" <<'PY' || fail "plan --json is not the expected JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["domain"] == "gw1" and d["ok"] is True and d["type"] == "pv", d
v = d["vifs"]
assert [x["mac"] for x in v] == ["02:00:0a:01:02:03", "52:54:00:aa:00:11"], v
assert [x["rule"] for x in v] == ["ip-derived", "public-table"], v
assert v[0]["ipv6_link_local"] == "fe80::aff:fe01:203", v
assert v[1]["line"] == 6 and v[1]["refusal"] is None, v
PY

# two vifs of one domain with one MAC: a conflict, exit 1, both named
run 1 $C plan "$D/domains/same-mac.cfg"
has out "vif 0 .*"
has out "REFUSED \(conflict\): 02:00:c0:00:02:1e is also the MAC of vif #2"
has out "REFUSED \(conflict\): 02:00:c0:00:02:1e is also the MAC of vif #0"
run 1 $C plan --json "$D/domains/same-mac.cfg"
checks=$((checks + 1))
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False
assert [v["refusal"]["kind"] if v["refusal"] else None for v in d["vifs"]] == ["conflict", None, "conflict"]
' "$tmp/out" || fail "same-mac JSON"

run 1 $C plan "$D/domains/not-in-table.cfg"
has out "REFUSED \(policy\): bridge xenpub is public and 198.51.100.99 is not in the operator's table"
run 2 $C plan "$D/domains/bad-ip.cfg"
has out "REFUSED \(input\): ip=\"192.0.2.010\""
run 2 $C plan "$D/domains/bad-mac.cfg"
one_line err
has err "bad-mac.cfg:6: vif #1: mac=00:16:3e:zz:00:01 is not a MAC address"
run 2 $C plan "$D/domains/bad-spec.cfg"
has err "bad-spec.cfg:2: vif #0 \"bridge=xenbr0,ip192.0.2.10\": item \"ip192.0.2.10\": xl ignores it"
run 2 $C plan "$D/domains/syntax.cfg"
one_line err
has err "syntax.cfg:3: config parsing error"
run 2 $C plan /nonexistent.cfg
has err "/nonexistent.cfg: cannot read domain config"
run 2 $C plan
has err "plan: needs one DOMAIN.cfg"
run 2 $C plan a.cfg b.cfg
has err "plan: takes only one DOMAIN.cfg"
run 1 $C plan "$D/domains/explicit-mac.cfg"
has out "mac 02:00:c0:00:02:0a"
has out "REFUSED \(policy\): mac=00:16:3e:12:34:56 differs from the policy's 02:00:c0:00:02:0c"

# xl-args: the vif list with mac= filled in, other keys kept in order
run 0 $C xl-args "$D/domains/two-vifs.cfg"
is out "vif=['bridge=xenlocal,ip=10.1.2.3 fd00::3,mac=02:00:0a:01:02:03','bridge=xenpub,ip=198.51.100.11,vifname=gw1-pub,mac=52:54:00:aa:00:11']"
run 0 $C xl-args "$D/domains/hvm.cfg"
is out "vif=['model=e1000,bridge=xenbr0,ip=192.0.2.20,mac=02:00:c0:00:02:14']"
# what xl-args prints is itself valid xl syntax that plan reads back to the same MACs
checks=$((checks + 1))
"$VIFMAC" $C xl-args "$D/domains/two-vifs.cfg" >"$tmp/args"
{ grep -v '^vif\|^        ' "$D/domains/two-vifs.cfg"; cat "$tmp/args"; } >"$tmp/round.cfg"
"$VIFMAC" $C plan --json "$tmp/round.cfg" >"$tmp/round.json" || fail "round trip of xl-args output is refused"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [v["mac"] for v in d["vifs"]] == ["02:00:0a:01:02:03", "52:54:00:aa:00:11"], d
assert all(v["rule"] == "ip-derived" or v["rule"] == "public-table" for v in d["vifs"])
' "$tmp/round.json" || fail "xl-args round trip gives other MACs"
# refused: nothing on stdout, the reason with file:line on stderr
run 1 $C xl-args "$D/domains/same-mac.cfg"
empty out
has err "same-mac.cfg:4: vif #0 refused \(conflict\)"
run 1 $C xl-args "$D/domains/not-in-table.cfg"
empty out

# per-vif filtering: plan says which vifs are held to their MAC, and why not
run 0 $C plan "$D/domains/web1.cfg"
has out '^    held to this MAC on the wire \(enforce = "mac"\)$'
printf 'enforce_exempt_domains = [ "gw1" ]\n' >"$tmp/exempt.conf"
run 0 --config "$tmp/exempt.conf" plan "$D/domains/two-vifs.cfg"
has out "^    NOT held to its MAC on the wire: domain gw1 is in enforce_exempt_domains$"
run 0 --config "$tmp/exempt.conf" plan --json "$D/domains/two-vifs.cfg"
has out '"enforce_exemption":"domain gw1 is in enforce_exempt_domains"'

finish
