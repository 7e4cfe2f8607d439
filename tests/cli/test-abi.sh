#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The library exports exactly what the version script lists, and every
# exported function is declared in the installed header.
set -u
: "${TOP_BUILDDIR:?run through make check}"
: "${TOP_SRCDIR:?run through make check}"
so=$(ls "$TOP_BUILDDIR"/lib/.libs/libvifmac.so.0.* 2>/dev/null | head -n1)
[ -n "$so" ] || { echo "FAIL: no built libvifmac.so"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

nm -D --defined-only "$so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$tmp/exported"
sed -n 's/^[[:space:]]*\(vifmac_[a-z0-9_]*\);$/\1/p' "$TOP_SRCDIR/lib/libvifmac.sym" | sort -u >"$tmp/listed"
grep -o 'vifmac_[a-z0-9_]*(' "$TOP_SRCDIR/lib/vifmac.h" | tr -d '(' | sort -u >"$tmp/declared"

if ! diff -u "$tmp/listed" "$tmp/exported" >"$tmp/d1"; then
	echo "FAIL: exported symbols differ from lib/libvifmac.sym:"; cat "$tmp/d1"; failures=$((failures + 1))
fi
missing=$(comm -23 "$tmp/exported" "$tmp/declared")
if [ -n "$missing" ]; then
	echo "FAIL: exported but not declared in vifmac.h: $missing"; failures=$((failures + 1))
fi
# each symbol is exported in the node of the version script that lists it
awk '/^LIBVIFMAC_[0-9.]+[ \t]*\{/ { node = $1 }
     /^[ \t]*vifmac_[a-z0-9_]*;/ { gsub(/[ \t;]/, ""); print $0 "@" node }' "$TOP_SRCDIR/lib/libvifmac.sym" |
	sort -u >"$tmp/listed-nodes"
nm -D --defined-only "$so" | awk '$2 == "T" && $3 ~ /^vifmac_/ { sub(/@@/, "@", $3); print $3 }' | sort -u >"$tmp/exported-nodes"
if ! diff -u "$tmp/listed-nodes" "$tmp/exported-nodes" >"$tmp/d3"; then
	echo "FAIL: exported version nodes differ from lib/libvifmac.sym:"; cat "$tmp/d3"; failures=$((failures + 1))
fi
# the Debian symbols file lists the same symbols, in the version script's node
if [ -f "$TOP_SRCDIR/debian/libvifmac0.symbols" ]; then
	sed -n 's/^ \(vifmac_[a-z0-9_]*@LIBVIFMAC_[0-9.]*\) .*/\1/p' "$TOP_SRCDIR/debian/libvifmac0.symbols" | sort -u >"$tmp/debian"
	if ! diff -u "$tmp/listed-nodes" "$tmp/debian" >"$tmp/d2"; then
		echo "FAIL: debian/libvifmac0.symbols differs from lib/libvifmac.sym:"; cat "$tmp/d2"; failures=$((failures + 1))
	fi
fi
nm -D --defined-only "$so" | grep -q ' T vifmac_set_error' && { echo "FAIL: private symbols leak"; failures=$((failures + 1)); }
echo "$0: $(wc -l <"$tmp/exported") exported symbols, $failures failures"
[ "$failures" -eq 0 ]
