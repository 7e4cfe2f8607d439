# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests/net scripts (sourced): root or SKIP, the namespaces
# "$@" created (the first one decides SKIP), removed at exit, without IPv6
# chatter (DAD, router solicitations): the machines speak only when told to;
# $NET_CLEANUP (a folder), when set, is removed at exit too.
# Sets failures=0, checks=0, fail() and check() (counts a check).
net_namespaces() {
	local n err
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: $0 needs root to create network namespaces (CI runs as root)"
		exit 77
	fi
	NET_NAMESPACES="$*"
	if ! err=$(ip netns add "$1" 2>&1); then
		echo "SKIP: the kernel refuses network namespaces here: $err"
		exit 77
	fi
	trap 'for n in $NET_NAMESPACES; do ip netns del "$n" 2>/dev/null; done; [ -z "${NET_CLEANUP:-}" ] || rm -rf "$NET_CLEANUP"' EXIT
	shift
	for n in "$@"; do
		ip netns add "$n"
	done
	for n in $NET_NAMESPACES; do
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	failures=0
	checks=0
}

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { checks=$((checks + 1)); }
