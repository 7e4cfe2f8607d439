# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by tests/hook/test-hook.sh and bench/hook: a dom0 without Xen.
#
#  - Debian's stock hotplug scripts (xen-utils-common), copied into one folder
#    as /etc/xen/scripts would hold them, and vif-vifmac there a symlink to a
#    copy of the built program (hook/vif-vifmac) in a folder of its own, as the
#    package installs it (/usr/libexec/vifmac/vif-vifmac);
#  - a network namespace with a real Linux bridge xenbr0, where each vif is a
#    link named as netback names it (vif<domid>.<devid>);
#  - the REAL xenstore-* commands and the REAL vifmac binary on a fake store:
#    tests/fake/libfakexs.so (LD_PRELOAD) keeps it in a text file;
#  - a private mount namespace (the caller re-executes itself with hook_isolate)
#    so /var/log/xen and /var/run/xen-hotplug are folders of our own.
#
# Sourced (bash). Needs TOP_SRCDIR and TOP_BUILDDIR.

: "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"

FAKEXS_LIB=${FAKEXS_LIB:-$TOP_BUILDDIR/tests/fake/.libs/libfakexs.so}
XEN_UTILS_COMMON_CACHE=$TOP_SRCDIR/.cache/xen-utils-common

# hook_isolate "$@": re-executes the caller in a private mount namespace
# (returns non-zero with $HOOK_SKIP set when the kernel refuses).
hook_isolate() {
	[ -n "${VIFMAC_HOOK_ISOLATED:-}" ] && return 0
	if ! command -v unshare >/dev/null; then
		HOOK_SKIP="unshare(1) is missing (util-linux)"
		return 1
	fi
	if ! unshare --mount --propagation private true 2>/dev/null; then
		HOOK_SKIP="the kernel refuses a mount namespace (unshare --mount failed)"
		return 1
	fi
	# mount points for our private folders (created on the host once)
	mkdir -p /var/log/xen /var/run/xen-hotplug || {
		HOOK_SKIP="cannot create /var/log/xen or /var/run/xen-hotplug"
		return 1
	}
	VIFMAC_HOOK_ISOLATED=1 exec unshare --mount --propagation private bash "$0" "$@"
}

# hook_stock_scripts: prints the folder holding Debian's stock vif scripts.
hook_stock_scripts() {
	local deb dir
	if [ -x /etc/xen/scripts/vif-bridge ] && [ -f /etc/xen/scripts/xen-hotplug-common.sh ]; then
		echo /etc/xen/scripts
		return 0
	fi
	dir=$XEN_UTILS_COMMON_CACHE/root/etc/xen/scripts
	if [ ! -x "$dir/vif-bridge" ]; then
		mkdir -p "$XEN_UTILS_COMMON_CACHE" || return 1
		(cd "$XEN_UTILS_COMMON_CACHE" && apt-get download xen-utils-common) >&2 || return 1
		deb=$(ls -t "$XEN_UTILS_COMMON_CACHE"/xen-utils-common_*.deb 2>/dev/null | head -n 1)
		[ -n "$deb" ] || return 1
		rm -rf "$XEN_UTILS_COMMON_CACHE/root"
		dpkg -x "$deb" "$XEN_UTILS_COMMON_CACHE/root" || return 1
	fi
	[ -x "$dir/vif-bridge" ] || return 1
	echo "$dir"
}

# hook_setup TMPDIR: the whole environment; sets SCRIPTS NS XS POLICY REGISTRY
# LOG. Returns non-zero with $HOOK_SKIP set when this box cannot host it.
hook_setup() {
	local stock
	tmp=$1
	if [ "$(id -u)" != 0 ]; then
		HOOK_SKIP="needs root (network namespace, bridge, /var/log/xen)"
		return 1
	fi
	if [ ! -f "$FAKEXS_LIB" ]; then
		HOOK_SKIP="$FAKEXS_LIB is not built (make check builds it)"
		return 1
	fi
	if [ ! -x "$TOP_BUILDDIR/hook/vif-vifmac" ]; then
		HOOK_SKIP="$TOP_BUILDDIR/hook/vif-vifmac is not built"
		return 1
	fi
	for c in ip xenstore-read xenstore-write flock; do
		if ! command -v $c >/dev/null; then
			HOOK_SKIP="$c is missing (iproute2, xenstore-utils, util-linux)"
			return 1
		fi
	done
	if ! stock=$(hook_stock_scripts); then
		HOOK_SKIP="no stock Xen hotplug scripts: /etc/xen/scripts is absent and 'apt-get download xen-utils-common' failed"
		return 1
	fi

	SCRIPTS=$tmp/scripts
	mkdir -p "$SCRIPTS" "$tmp/log" "$tmp/lock"
	cp -p "$stock"/* "$SCRIPTS"/ 2>/dev/null
	mkdir -p "$tmp/libexec"
	cp -p "$TOP_BUILDDIR/hook/vif-vifmac" "$tmp/libexec/vif-vifmac"
	ln -s "$tmp/libexec/vif-vifmac" "$SCRIPTS/vif-vifmac"
	# the stock scripts' log and lock folders, private to this mount namespace
	mount --bind "$tmp/log" /var/log/xen || { HOOK_SKIP="cannot bind-mount over /var/log/xen"; return 1; }
	mount --bind "$tmp/lock" /var/run/xen-hotplug || { HOOK_SKIP="cannot bind-mount over /var/run/xen-hotplug"; return 1; }
	LOG=/var/log/xen/xen-hotplug.log

	NS=vifmac-hook-$$
	if ! ip netns add "$NS" 2>"$tmp/ns.err"; then
		HOOK_SKIP="the kernel refuses a network namespace: $(cat "$tmp/ns.err")"
		return 1
	fi
	if ! ip netns exec "$NS" ip link add xenbr0 type bridge 2>"$tmp/ns.err"; then
		HOOK_SKIP="the kernel has no bridge support: $(cat "$tmp/ns.err")"
		ip netns del "$NS"
		return 1
	fi
	ip netns exec "$NS" ip link set lo up
	ip netns exec "$NS" ip link set xenbr0 up

	XS=$tmp/xenstore
	: >"$XS"
	REGISTRY=$tmp/registry.db
	POLICY=$tmp/vifmac.conf
	cat >"$POLICY" <<-EOF
	prefix = "02:00"
	private_bridges = [ "xenbr0" ]
	unlisted_bridges = "private"
	no_ipv4 = "refuse"
	explicit_mac = "verify"
	scope = "global"
	registry = "sqlite:$REGISTRY"
	EOF
	return 0
}

hook_teardown() {
	[ -n "${NS:-}" ] && ip netns del "$NS" 2>/dev/null
	NS=
}

# ns CMD...: runs CMD inside the network namespace (its own /sys).
ns() {
	ip netns exec "$NS" "$@"
}

# link NAME [MAC]: a link as netback would have made it. The dummy driver
# first; kernels without it get a tap (both are plain Ethernet links).
link() {
	ns ip link add "$1" type dummy 2>/dev/null || ns ip tuntap add dev "$1" mode tap || return 1
	[ -z "${2:-}" ] || ns ip link set dev "$1" address "$2"
}

# xs CMD ARGS...: a real xenstore-CMD on the fake store.
xs() {
	local c=$1
	shift
	LD_PRELOAD=$FAKEXS_LIB FAKEXS_STATE=$XS "xenstore-$c" "$@"
}

# node OWNER PATH VALUE: adds a node with its owner, as the toolstack left it.
node() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$XS"
}

# domain DOMID NAME UUID PAUSED: the hypervisor's record and /vm/<uuid>/name.
domain() {
	node 0 "/fakexs/domain/$1/uuid" "$3"
	node 0 "/fakexs/domain/$1/paused" "$4"
	node 0 "/vm/$3/name" "$2"
	node 0 "/vm/$3/uuid" "$3"
	node "$1" "/local/domain/$1" ""
	node 0 "/local/domain/$1/name" "$2"
	node 0 "/local/domain/$1/vm" "/vm/$3"
	node 0 "/local/domain/$1/domid" "$1"
}

# vif DOMID DEVID MAC IP [TYPE] [SCRIPT]: what libxl writes before it runs the
# script: backend (dom0's), frontend (the guest's, state 1) and /libxl.
vif() {
	local d=$1 n=$2 mac=$3 ip=$4 type=${5:-vif} script=${6:-vif-vifmac}
	local be=/local/domain/0/backend/vif/$d/$n fe=/local/domain/$d/device/vif/$n lx=/libxl/$d/device/vif/$n
	node "$d" "$fe" ""
	node "$d" "$fe/backend" "$be"
	node "$d" "$fe/backend-id" 0
	node "$d" "$fe/handle" "$n"
	node "$d" "$fe/mac" "$mac"
	node "$d" "$fe/state" 1
	node 0 "$be" ""
	node 0 "$be/frontend" "$fe"
	node 0 "$be/frontend-id" "$d"
	node 0 "$be/online" 1
	node 0 "$be/state" 2
	node 0 "$be/script" "/etc/xen/scripts/$script"
	node 0 "$be/mac" "$mac"
	node 0 "$be/bridge" xenbr0
	node 0 "$be/handle" "$n"
	node 0 "$be/type" "$type"
	[ -z "$ip" ] || node 0 "$be/ip" "$ip"
	node 0 "$lx" ""
	node 0 "$lx/frontend" "$fe"
	node 0 "$lx/backend" "$be"
	node 0 "$lx/mac" "$mac"
	node 0 "$lx/bridge" xenbr0
	node 0 "$lx/type" "$type"
	[ -z "$ip" ] || node 0 "$lx/ip" "$ip"
}

# hotplug SCRIPT DOMID DEVID ARGS...: runs SCRIPT as libxl does (argv, env,
# stdin /dev/null) inside the namespace; stdout in $tmp/out, stderr (what xl
# shows) in $tmp/err, status in $rc. Extra variables in HOTPLUG_ENV.
# $HOOK_RUNNER (e.g. valgrind and its options, tests/valgrind/run.sh) runs
# vif-vifmac; it must keep argv[0] (the chain is found beside it).
hotplug() {
	local script=$1 d=$2 n=$3 runner=
	shift 3
	[ "$script" != vif-vifmac ] || runner=${HOOK_RUNNER:-}
	# shellcheck disable=SC2086 # the runner is words
	ip netns exec "$NS" env \
		LD_PRELOAD="$FAKEXS_LIB" FAKEXS_STATE="$XS" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		VIFMAC_CONFIG="$POLICY" \
		script="$SCRIPTS/$script" XENBUS_TYPE=vif XENBUS_BASE_PATH=backend \
		XENBUS_PATH="backend/vif/$d/$n" vif="vif$d.$n" ${HOTPLUG_ENV:-} \
		$runner "$SCRIPTS/$script" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# master LINK: the bridge LINK is enslaved to, read from the namespace's /sys.
master() {
	local m
	m=$(ns readlink "/sys/class/net/$1/master" 2>/dev/null) || return 0
	echo "${m##*/}"
}
