#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# plan and xl-args read domain configs as xl 4.17 does (issue 16): xl.conf
# defaults, bare trusted/untrusted, devids, values xl refuses, type prefixes,
# mac=00:00:00:00:00:00, bridge names, what xl-args writes, the messages.
. "$TOP_SRCDIR/tests/cli/lib.sh"
C="--config $D/example.conf"
X=$D/xl

# ---- xl.conf: a vif without bridge= is on vif.default.bridge
run 0 $C plan "$X/no-bridge.cfg"
has out "vif 0  bridge xenbr0 \(private"
has out "mac 02:00:c6:33:64:0b"
run 0 $C plan --xl-conf "$X/xl-pub.conf" "$X/no-bridge.cfg"
has out "vif 0  bridge xenpub \(public"
has out "mac 52:54:00:aa:00:11  \[public-table"
run_cmd 0 env VIFMAC_XL_CONF="$X/xl-pub.conf" "$VIFMAC" $C xl-args "$X/no-bridge.cfg"
is out "vif=['ip=198.51.100.11,mac=52:54:00:aa:00:11']"
run 2 $C plan --xl-conf "$X/missing.conf" "$X/no-bridge.cfg"
one_line err
has err "missing.conf: cannot read xl's global config"
run 2 $C xl-args --xl-conf "$X/xl-syntax.conf" "$X/no-bridge.cfg"
empty out
has err "xl-syntax.conf:[0-9]+: config parsing error"

# ---- bare trusted / untrusted are vif items; xl-args keeps them bare
run 0 $C plan "$X/trusted.cfg"
has out "mac 02:00:c0:00:02:0b"
run 0 $C xl-args "$X/trusted.cfg"
is out "vif=['bridge=xenbr0,ip=192.0.2.10,trusted,mac=02:00:c0:00:02:0a','untrusted,bridge=xenbr0,ip=192.0.2.11,mac=02:00:c0:00:02:0b']"

# ---- devids: the list position unless devid= is given; a mix giving one devid twice is refused
run 0 $C plan --json "$X/devid-list.cfg"
checks=$((checks + 1))
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [v["devid"] for v in d["vifs"]] == [0, 7, 2], d
' "$tmp/out" || fail "devids of devid-list.cfg"
run 2 $C plan "$X/devid-mix.cfg"
one_line err
has err "devid-mix.cfg:3: vif #1 and vif #0 \(line 2\) both get devid 1 \(its position in the list, devid=\): libxl refuses the second"

# ---- values xl exits on: refused with file:line, by plan and xl-args
run 2 $C plan "$X/mtu-jumbo.cfg"
has err "mtu-jumbo.cfg:3: vif #1 .*mtu=jumbo: xl refuses it"
run 2 $C xl-args "$X/mtu-jumbo.cfg"
empty out
run 2 $C plan "$X/rate-fast.cfg"
has err "rate-fast.cfg:2: vif #0 .*rate=fast: xl refuses it \(invalid rate in .fast'"
run 2 $C xl-args "$X/hvm-generic.cfg"
empty out
has err "hvm-generic.cfg:3: builder = \"generic\" contradicts type = \"hvm\" \(line 2\)"

# ---- type= is a prefix, as for xl: "h" is HVM
run 0 $C plan --json "$X/type-h.cfg"
checks=$((checks + 1))
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["type"] == "hvm", d' "$tmp/out" ||
	fail "type h is not hvm"
run 0 $C plan "$X/type-h.cfg"
has out "HVM guest"

# ---- mac=00:00:00:00:00:00 is libxl's "unset": the policy's MAC, no explicit_mac check
run 0 $C plan --json "$X/zero-mac.cfg"
checks=$((checks + 1))
python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["vifs"][0]
assert v["mac"] == "02:00:c0:00:02:0a" and v["mac_given"] is None and v["rule"] == "ip-derived", v
' "$tmp/out" || fail "zero mac"

# ---- a bridge name with white space: refused, saying why
run 2 $C plan "$X/bridge-space.cfg"
has err "bridge-space.cfg:2: vif #0 .*bridge \"xenbr1 \": a bridge name has no white space"

# ---- the messages say what xl does with the item
run 2 $C plan "$X/spaced-eq.cfg"
one_line err
has err "item \"ip = 192.0.2.10\": xl ignores it \(\"unrecognized argument\"\): no spaces around '='"
lacks err 'ip=""'

# ---- xl-args writes values the way libxlutil reads them back
run 0 $C xl-args "$X/escapes.cfg"
has out '^vif=\[.*vifname=a\\\\b,.*script=vif-x\\ty\\n,mac=02:00:c0:00:02:0a'\''\]$'
lines out 1
cp "$tmp/out" "$tmp/args"
{ grep -v '^vif' "$X/escapes.cfg"; cat "$tmp/args"; } >"$tmp/round.cfg"
run 0 $C xl-args "$tmp/round.cfg"
checks=$((checks + 1))
cmp -s "$tmp/out" "$tmp/args" || fail "xl-args output read back differs: $(cat "$tmp/out")"

finish
