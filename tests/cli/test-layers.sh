#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The library's layers point one way (README.md, "Layout"; the same order as
# lib_libvifmac_la_SOURCES in Makefile.am):
#   0 leaf helpers and parsing   1 system seam   2 policy and context
#   3 registry   4 decisions and checks   5 pipeline   6 CLI (tools/)
#   7 the hook (hook/: the CLI's helpers and the public API, nothing else)
# Fails on an upward edge: a lib/ file that includes a header of a higher
# layer (tools/ headers included), a tools/ file that includes more than the
# public API (vifmac.h) and its own header, or a library object that calls a
# function defined in a higher layer (read from the built objects with nm:
# calls, not words in comments). Every lib/ file must have a layer here.
# Before the checks, each check is shown to fail on a planted upward edge.
set -u
: "${TOP_SRCDIR:?run through make check}"
: "${TOP_BUILDDIR:?run through make check}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# layer NAME: the layer of lib/NAME (.c or .h) or of a tools/ file, "?" when it has none
layer() {
	case $1 in
	vifmac.h | vifmac-internal.h) echo 0 ;; # the public API and the library's private declarations: every layer's
	vifmac-util.* | vifmac-text.h | vifmac-strbuf.* | vifmac-base64.* | vifmac-url.*) echo 0 ;;
	vifmac-address.* | vifmac-vifspec.* | vifmac-conffile.* | vifmac-xlu-dl.* | vifmac-conf-values.*) echo 0 ;;
	vifmac-netlink.* | vifmac-nft.* | vifmac-nft-* | vifmac-sys.*) echo 1 ;;
	vifmac-ctx.* | vifmac-policy.* | vifmac-policy-keys.* | vifmac-table.* | vifmac-pool.* | vifmac-domcfg.*) echo 2 ;;
	vifmac-registry.* | vifmac-registry-* | vifmac-sqlite* | vifmac-etcd*) echo 3 ;;
	vifmac-derive.* | vifmac-checks.* | vifmac-enforce.* | vifmac-domcfg-fix.*) echo 4 ;;
	vifmac-hotplug.* | vifmac-adopt.* | vifmac-audit.* | vifmac-watch.*) echo 5 ;;
	tools/*) echo 6 ;;
	*) echo "?" ;;
	esac
}

# Known upward calls, each with the reason it is allowed for now; one that no
# longer happens fails too, so that this list cannot outlive them.
#   FROM SYMBOL
allowed='
'

# above_lib DIR NAME WHY: a file of tools/ or hook/ (NAME) including more than
# the public API (vifmac.h) and the CLI's header
above_lib() {
	for f in "$1"/*.c "$1"/*.h; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
			case $inc in
			vifmac.h | vifmac-cli.h) ;;
			*) echo "$2/${f##*/} includes \"$inc\": $3" ;;
			esac
		done
	done
}

# check_includes LIBDIR TOOLSDIR HOOKDIR: prints one line per upward or foreign include
check_includes() {
	for f in "$1"/*.c "$1"/*.h; do
		name=${f##*/}
		from=$(layer "$name")
		if [ "$from" = "?" ]; then
			echo "lib/$name has no layer (place it in tests/cli/test-layers.sh and README.md's Layout)"
			continue
		fi
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
			if case $inc in */*) true ;; *) false ;; esac || [ ! -f "$1/$inc" ]; then
				echo "lib/$name includes \"$inc\", which is not a lib/ header"
				continue
			fi
			to=$(layer "$inc")
			if [ "$to" = "?" ] || [ "$to" -gt "$from" ]; then
				echo "lib/$name (layer $from) includes $inc (layer $to)"
			fi
		done
	done
	above_lib "$2" tools "the CLI uses only the public API (vifmac.h)"
	above_lib "$3" hook "the hook uses the CLI's helpers and the public API only"
}

# check_calls DEFS USES: DEFS "symbol file" (defined), USES "symbol file" (called); prints upward calls
check_calls() {
	sort -u "$1" >"$tmp/defs.sorted"
	sort -u "$2" >"$tmp/uses.sorted"
	join "$tmp/uses.sorted" "$tmp/defs.sorted" | while read -r sym from to; do
		[ "$from" = "$to" ] && continue
		lf=$(layer "$from.c")
		lt=$(layer "$to.c")
		if [ "$lf" = "?" ] || [ "$lt" = "?" ]; then
			echo "$from or $to has no layer"
		elif [ "$lt" -gt "$lf" ]; then
			echo "$from (layer $lf) calls $sym of $to (layer $lt)"
		fi
	done
}

# ------------------------------------------------------------ the checks catch what they are for
mkdir -p "$tmp/lib" "$tmp/tools" "$tmp/hook"
cp "$TOP_SRCDIR"/lib/*.c "$TOP_SRCDIR"/lib/*.h "$tmp/lib/"
cp "$TOP_SRCDIR"/tools/*.c "$TOP_SRCDIR"/tools/*.h "$tmp/tools/"
cp "$TOP_SRCDIR"/hook/*.c "$tmp/hook/"
printf '#include "vifmac-registry-internal.h"\n' >>"$tmp/hook/vif-vifmac.c"
printf '#include "vifmac-registry-internal.h"\n' >>"$tmp/lib/vifmac-address.c"
printf '#include "../tools/vifmac-cli.h"\n' >>"$tmp/lib/vifmac-policy.c"
printf '#include "vifmac-internal.h"\n' >>"$tmp/tools/cmd-policy.c"
check_includes "$tmp/lib" "$tmp/tools" "$tmp/hook" >"$tmp/planted"
grep -q "vifmac-address.c (layer 0) includes vifmac-registry-internal.h (layer 3)" "$tmp/planted" ||
	fail "an upward include (address -> registry-internal.h) was not caught: $(cat "$tmp/planted")"
grep -q 'vifmac-policy.c includes "../tools/vifmac-cli.h", which is not a lib/ header' "$tmp/planted" ||
	fail "a lib/ file including a tools/ header was not caught"
grep -q 'tools/cmd-policy.c includes "vifmac-internal.h"' "$tmp/planted" ||
	fail "the CLI including a private header was not caught"
grep -q 'hook/vif-vifmac.c includes "vifmac-registry-internal.h"' "$tmp/planted" ||
	fail "the hook including a private header was not caught"
printf 'vifmac_hotplug_online vifmac-hotplug\nvifmac_mac_parse vifmac-address\n' >"$tmp/defs"
printf 'vifmac_hotplug_online vifmac-address\nvifmac_mac_parse vifmac-hotplug\n' >"$tmp/uses"
check_calls "$tmp/defs" "$tmp/uses" >"$tmp/planted"
[ "$(cat "$tmp/planted")" = "vifmac-address (layer 0) calls vifmac_hotplug_online of vifmac-hotplug (layer 5)" ] ||
	fail "a planted upward call was not caught alone: $(cat "$tmp/planted")"

# ------------------------------------------------------------ the tree
check_includes "$TOP_SRCDIR/lib" "$TOP_SRCDIR/tools" "$TOP_SRCDIR/hook" >"$tmp/includes"
while read -r line; do
	fail "$line"
done <"$tmp/includes"

objs=$(find "$TOP_BUILDDIR/lib" -name 'libvifmac_la-vifmac*.o' -path '*/.libs/*' 2>/dev/null)
[ -n "$objs" ] || objs=$(find "$TOP_BUILDDIR/lib" -name 'libvifmac_la-vifmac*.o' 2>/dev/null)
[ -n "$objs" ] || { echo "FAIL: no library objects under $TOP_BUILDDIR/lib (build first)"; exit 1; }
: >"$tmp/defs"
: >"$tmp/uses"
for o in $objs; do
	name=${o##*/libvifmac_la-}
	name=${name%.o}
	[ -f "$TOP_SRCDIR/lib/$name.c" ] || continue # an object left from a file since removed
	nm --defined-only -g "$o" | awk -v f="$name" 'NF == 3 { print $3, f }' >>"$tmp/defs"
	nm -u "$o" | awk -v f="$name" '$2 ~ /^vifmac_/ { print $2, f }' >>"$tmp/uses"
done
check_calls "$tmp/defs" "$tmp/uses" >"$tmp/calls"
echo "$allowed" | while read -r from sym; do
	[ -n "$from" ] || continue
	grep -q "^$from (layer [0-9]) calls $sym " "$tmp/calls" ||
		echo "STALE: the allowed upward call $from -> $sym no longer happens: remove it from tests/cli/test-layers.sh"
done >"$tmp/stale"
while read -r line; do
	fail "$line"
done <"$tmp/stale"
while read -r line; do
	from=${line%% *}
	sym=$(echo "$line" | sed -n 's/.* calls \([a-z0-9_]*\) of .*/\1/p')
	if echo "$allowed" | grep -qx "$from $sym"; then
		echo "allowed for now: $line"
	else
		fail "$line"
	fi
done <"$tmp/calls"

echo "$0: $(join "$tmp/uses.sorted" "$tmp/defs.sorted" | awk '$2 != $3' | wc -l) calls between library files, $failures failures"
[ "$failures" -eq 0 ]
