#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# libxlutil is dlopen()ed (lib/vifmac-xlu-dl.c): a plain policy file is read
# without it (nor libxenlight behind it), a policy outside the subset and a
# domain config load it; with it missing, the policy still loads and what
# needs it is refused naming the library and its package.
: "${TOP_SRCDIR:?run through make check}"
. "$TOP_SRCDIR/tests/cli/lib.sh"

printf '# plain\nprivate_bridges = [ "xenbr0",\n  "xenlocal" ]\nscope = "bridge"\n' >"$tmp/plain.conf"
printf 'private_bridges = [ "xenbr0" ]\nenforce_exempt_domains = [ "web\\\\1" ]\n' >"$tmp/escape.conf"
loaded() { grep -E 'file=[^ ]*lib(xlutil|xenlight)\.so' "$tmp/err" | sed 's/^[ 0-9:]*//' | sort -u; }

# the common case: neither library is loaded
run_cmd 0 env LD_DEBUG=files "$VIFMAC" --config "$tmp/plain.conf" derive --bridge xenbr0 --ip 192.0.2.10
has out '^02:00:c0:00:02:0a$'
checks=$((checks + 1))
[ -z "$(loaded)" ] || fail "a plain policy loaded: $(loaded)"

# an escape: libxlutil reads the file
run_cmd 0 env LD_DEBUG=files "$VIFMAC" --config "$tmp/escape.conf" derive --bridge xenbr0 --ip 192.0.2.10
has out '^02:00:c0:00:02:0a$'
checks=$((checks + 1))
loaded | grep -q 'libxlutil' || fail "a policy with an escape did not load libxlutil"
# a domain config: libxlutil
run_cmd 0 env LD_DEBUG=files VIFMAC_XL_CONF= "$VIFMAC" --config "$tmp/plain.conf" --registry "sqlite:$tmp/r.db" \
	plan "$D/domains/web1.cfg"
checks=$((checks + 1))
loaded | grep -q 'libxlutil' || fail "plan did not load libxlutil"

# libxlutil missing: its file hidden in a mount namespace of the command's own
hide_xlutil() { unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$xlutil" "$@"; }
xlutil=$(ldconfig -p | awk '/^[[:space:]]*libxlutil\.so\.[0-9.]+ .*x86-64/ { print $NF; exit }')
if [ -n "$xlutil" ] && unshare -m true 2>/dev/null; then
	run_cmd 0 hide_xlutil "$VIFMAC" --config "$tmp/plain.conf" derive --bridge xenbr0 --ip 192.0.2.10
	has out '^02:00:c0:00:02:0a$'
	run_cmd 3 hide_xlutil "$VIFMAC" --config "$tmp/escape.conf" derive --bridge xenbr0 --ip 192.0.2.10
	has err "escape\.conf: cannot load libxlutil\.so\.[0-9.]+ \(Debian package libxenmisc4\.17\)"
	run_cmd 3 hide_xlutil env VIFMAC_XL_CONF= "$VIFMAC" --config "$tmp/plain.conf" --registry "sqlite:$tmp/r.db" \
		plan "$D/domains/web1.cfg"
	has err "web1\.cfg: cannot load libxlutil\.so\.[0-9.]+ \(Debian package libxenmisc4\.17\)"
else
	echo "SKIP (this part only): cannot hide libxlutil (no mount namespace, or ldconfig does not list it)"
fi

finish
