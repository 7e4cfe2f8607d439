#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac fix-config on domain configs as xen-tools writes them (and harder
# ones): mac= removed or set, every other byte kept (cmp against the expected
# file), a backup that is never overwritten, --dry-run writing nothing,
# refusals naming file:line, and the result read back by vifmac plan.
. "$TOP_SRCDIR/tests/cli/lib.sh"
F=$D/fix-config
C="--config $D/example.conf"

# copy NAME: a fresh copy of fixture NAME.cfg in $tmp/w (nothing else there)
copy() {
	rm -rf "$tmp/w"
	mkdir "$tmp/w"
	cp "$F/$1.cfg" "$tmp/w/$1.cfg"
}

same() { # same A B: byte for byte
	checks=$((checks + 1))
	cmp -s "$1" "$2" || {
		fail "$1 differs from $2"
		diff -u "$2" "$1" | sed 's/^/  /' >&2
	}
}

files_in_w() { # files_in_w N: the folder holds N files (no stray temporary or backup)
	checks=$((checks + 1))
	n=$(ls -A "$tmp/w" | wc -l)
	[ "$n" -eq "$1" ] || fail "$tmp/w holds $n files, expected $1: $(ls -A "$tmp/w" | tr '\n' ' ')"
}

plan_macs() { # plan_macs CONFIG-OPTION CFG MAC...: vifmac plan gives these MACs, in order
	opt=$1
	cfg=$2
	shift 2
	checks=$((checks + 1))
	"$VIFMAC" $opt plan --json "$cfg" >"$tmp/plan.json" 2>"$tmp/plan.err" || {
		fail "plan of the fixed $cfg is refused: $(cat "$tmp/plan.json" "$tmp/plan.err")"
		return
	}
	python3 - "$tmp/plan.json" "$@" <<'PY' || fail "plan of the fixed $cfg gives other MACs"
import json, sys
d = json.load(open(sys.argv[1]))
got = [v["mac"] for v in d["vifs"]]
assert got == sys.argv[2:], (got, sys.argv[2:])
assert all(v["refusal"] is None for v in d["vifs"]), d
PY
}

# ---------------------------------------------------------------- xen-tools, static IP
copy web2
run 1 $C plan "$tmp/w/web2.cfg"
has out "REFUSED \(policy\): mac=00:16:3e:ab:cd:ef differs from the policy's 02:00:c0:00:02:0a"
# --dry-run: the diff, nothing written
run 0 $C fix-config --dry-run "$tmp/w/web2.cfg"
has out "^--- $tmp/w/web2.cfg$"
has out "^@@ -37,7 \+37,7 @@$"
has out "^-vif         = \[ 'ip=192.0.2.10,mac=00:16:3E:AB:CD:EF' \]$"
has out "^\+vif         = \[ 'ip=192.0.2.10' \]$"
lines out 11
has err "web2.cfg:40: vif #0: mac=00:16:3e:ab:cd:ef removed: the hook gives 02:00:c0:00:02:0a \(prefix 02:00 \+ 192.0.2.10\)"
same "$tmp/w/web2.cfg" "$F/web2.cfg"
files_in_w 1
cp "$tmp/out" "$tmp/web2.diff"
# the diff is a real unified diff: patch applies it to the original
if command -v patch >/dev/null; then
	cp "$F/web2.cfg" "$tmp/patched.cfg"
	run_cmd 0 patch -s "$tmp/patched.cfg" "$tmp/web2.diff"
	same "$tmp/patched.cfg" "$F/web2.cfg.fixed"
fi
# for real: the file as expected, byte for byte; a backup of the original; mode and owner kept
chmod 0640 "$tmp/w/web2.cfg"
[ "$(id -u)" = 0 ] && chown 1234:2345 "$tmp/w/web2.cfg"
run 0 $C fix-config "$tmp/w/web2.cfg"
has out "^\+vif         = \[ 'ip=192.0.2.10' \]$"
has err "web2.cfg: written \(backup $tmp/w/web2.cfg.vifmac-bak\)$"
same "$tmp/w/web2.cfg" "$F/web2.cfg.fixed"
same "$tmp/w/web2.cfg.vifmac-bak" "$F/web2.cfg"
files_in_w 2
checks=$((checks + 1))
[ "$(stat -c %a "$tmp/w/web2.cfg")" = 640 ] || fail "mode $(stat -c %a "$tmp/w/web2.cfg"), expected 640"
if [ "$(id -u)" = 0 ]; then
	checks=$((checks + 1))
	[ "$(stat -c %u:%g "$tmp/w/web2.cfg")" = 1234:2345 ] || fail "owner $(stat -c %u:%g "$tmp/w/web2.cfg"), expected 1234:2345"
fi
# read back: the policy's MAC, no refusal
plan_macs "$C" "$tmp/w/web2.cfg" 02:00:c0:00:02:0a
# again: nothing to change, nothing written, no second backup
run 0 $C fix-config "$tmp/w/web2.cfg"
empty out
has err "web2.cfg: nothing to change"
files_in_w 2
# an existing backup is never replaced: the next one gets a number
cp "$F/web2.cfg" "$tmp/w/web2.cfg"
echo "# the admin's own backup" >>"$tmp/w/web2.cfg.vifmac-bak"
cp "$tmp/w/web2.cfg.vifmac-bak" "$tmp/admins-backup"
run 0 $C fix-config "$tmp/w/web2.cfg"
has err "written \(backup $tmp/w/web2.cfg.vifmac-bak.1\)$"
same "$tmp/w/web2.cfg.vifmac-bak" "$tmp/admins-backup"
same "$tmp/w/web2.cfg.vifmac-bak.1" "$F/web2.cfg"
same "$tmp/w/web2.cfg" "$F/web2.cfg.fixed"

# --set-mac: the policy's MAC written in place of xen-tools' one
copy web2
run 0 $C fix-config --set-mac "$tmp/w/web2.cfg"
has err "web2.cfg:40: vif #0: mac=00:16:3e:ab:cd:ef becomes mac=02:00:c0:00:02:0a"
same "$tmp/w/web2.cfg" "$F/web2.cfg.set-mac"
plan_macs "$C" "$tmp/w/web2.cfg" 02:00:c0:00:02:0a

# a symlinked config: its target is rewritten, the link stays a link
copy web2
ln -s web2.cfg "$tmp/w/link.cfg"
run 0 $C fix-config "$tmp/w/link.cfg"
checks=$((checks + 1))
[ -L "$tmp/w/link.cfg" ] || fail "link.cfg is no longer a symlink"
same "$tmp/w/web2.cfg" "$F/web2.cfg.fixed"

# ---------------------------------------------------------------- several vifs, comments, both quotes, ';'
copy multi
run 0 $C fix-config "$tmp/w/multi.cfg"
same "$tmp/w/multi.cfg" "$F/multi.cfg.fixed"
has err "multi.cfg:5: vif #0: mac=00:16:3e:10:20:30 removed"
has err "multi.cfg:6: vif #1: mac=00:16:3e:90:80:70 removed: the hook gives 52:54:00:aa:00:11"
lacks err "vif #2"
plan_macs "$C" "$tmp/w/multi.cfg" 02:00:0a:01:02:04 52:54:00:aa:00:11 02:00:c0:00:02:21 02:00:c0:00:02:22
# a file without a final newline keeps it that way
copy no-newline
run 0 $C fix-config "$tmp/w/no-newline.cfg"
has out "^\\\\ No newline at end of file$"
same "$tmp/w/no-newline.cfg" "$F/no-newline.cfg.fixed"
# nothing to do
copy clean
run 0 $C fix-config "$tmp/w/clean.cfg"
has err "clean.cfg: nothing to change"
files_in_w 1

# ---------------------------------------------------------------- DHCP guests (no ip=)
copy dhcp1
run 1 $C fix-config "$tmp/w/dhcp1.cfg"
has err "dhcp1.cfg:20: vif #0 refused \(policy\): no IPv4 address in ip=\"\" and the policy says no_ipv4 = \"refuse\""
has err "dhcp1.cfg: not changed"
empty out
same "$tmp/w/dhcp1.cfg" "$F/dhcp1.cfg"
files_in_w 1
# no_ipv4 = "hash" needs the config's uuid= (xl gives a new UUID at every create)
run 1 --config "$F/hash.conf" fix-config "$tmp/w/dhcp1.cfg"
has err "dhcp1.cfg:20: vif #0 refused \(policy\): .*which this config does not set.*add uuid="
files_in_w 1
copy dhcp1-uuid
run 0 --config "$F/hash.conf" fix-config "$tmp/w/dhcp1-uuid.cfg"
has err "dhcp1-uuid.cfg:21: vif #0: mac=00:16:3e:2b:11:22 removed: the hook gives 6e:98:87:04:e8:94 \(hash of 5d3f8c2e-9b1a-4c7d-8e6f-0a1b2c3d4e5f/0"
same "$tmp/w/dhcp1-uuid.cfg" "$F/dhcp1-uuid.cfg.fixed"
plan_macs "--config $F/hash.conf" "$tmp/w/dhcp1-uuid.cfg" 6e:98:87:04:e8:94

# ---------------------------------------------------------------- HVM: the MAC must stay for QEMU
copy hvm2
run 1 $C fix-config "$tmp/w/hvm2.cfg"
has err "hvm2.cfg:5: vif #0 refused \(policy\): HVM guest: QEMU takes the emulated NIC's MAC from the config .* use --set-mac to write the policy's mac=02:00:c0:00:02:15 instead"
same "$tmp/w/hvm2.cfg" "$F/hvm2.cfg"
files_in_w 1
run 0 $C fix-config --set-mac "$tmp/w/hvm2.cfg"
same "$tmp/w/hvm2.cfg" "$F/hvm2.cfg.set-mac"
plan_macs "$C" "$tmp/w/hvm2.cfg" 02:00:c0:00:02:15
# an HVM vif without mac= gets one
cp "$D/domains/hvm.cfg" "$tmp/w/hvm.cfg"
run 0 $C fix-config --set-mac "$tmp/w/hvm.cfg"
has out "^\+vif = \[ 'model=e1000,bridge=xenbr0,ip=192.0.2.20,mac=02:00:c0:00:02:14' \]$"
has err "hvm.cfg:4: vif #0: mac=02:00:c0:00:02:14 added"

# ---------------------------------------------------------------- pools: no MAC to write before the claim
cat >"$tmp/pools.conf" <<EOF
public_bridges = [ "xenpub" ]
bridge_pools = [ "xenpub=block" ]
EOF
rm -rf "$tmp/w" && mkdir "$tmp/w"
printf "name = 'pub1'\nvif = [ 'ip=198.51.100.20,bridge=xenpub,mac=00:16:3e:99:00:01' ]\n" >"$tmp/w/pub1.cfg"
cp "$tmp/w/pub1.cfg" "$tmp/pub1.orig"
run 1 --config "$tmp/pools.conf" fix-config --set-mac "$tmp/w/pub1.cfg"
has err "pub1.cfg:2: vif #0 refused \(policy\): bridge xenpub takes its MACs from pools \(pools block\)"
same "$tmp/w/pub1.cfg" "$tmp/pub1.orig"
run 0 --config "$tmp/pools.conf" fix-config "$tmp/w/pub1.cfg"
has err "pub1.cfg:2: vif #0: mac=00:16:3e:99:00:01 removed: the hook allocates from pools block"

# ---------------------------------------------------------------- forms it does not rewrite
for f in append twice escape; do
	copy $f
	run 2 $C fix-config "$tmp/w/$f.cfg"
	one_line err
	same "$tmp/w/$f.cfg" "$F/$f.cfg"
	files_in_w 1
done
copy append
run 2 $C fix-config "$tmp/w/append.cfg"
has err "append.cfg:3: the vif list is extended with \+="
copy twice
run 2 $C fix-config "$tmp/w/twice.cfg"
has err "twice.cfg:4: the vif list is set more than once"
copy escape
run 2 $C fix-config "$tmp/w/escape.cfg"
has err "escape.cfg:2: vif #1 uses a backslash escape"
run 2 $C fix-config "$D/domains/syntax.cfg"
has err "syntax.cfg:3: config parsing error"
run 2 $C fix-config "$tmp/w/none.cfg"
has err "none.cfg: No such file or directory"

# several configs: each on its own, the worst status
copy web2
cp "$F/hvm2.cfg" "$tmp/w/hvm2.cfg"
run 1 $C fix-config "$tmp/w/web2.cfg" "$tmp/w/hvm2.cfg"
same "$tmp/w/web2.cfg" "$F/web2.cfg.fixed"
same "$tmp/w/hvm2.cfg" "$F/hvm2.cfg"

run 2 $C fix-config
has err "fix-config: needs at least one DOMAIN.cfg"
run 0 fix-config --help
has out "^Usage: vifmac fix-config \[--dry-run\] \[--set-mac\] DOMAIN.cfg\.\.\.$"

finish
