#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packages, for real: build them with dpkg-buildpackage from the
# source tree, run lintian (no errors, no warnings), install them with apt in
# a minimal Debian 12 made by debootstrap (so dependencies resolve), and
# check what an admin would: the command works, the hook and the conffile
# are in place, remove keeps and purge removes what they should.
#
# The debootstrap tree is cached (a tarball) in $VIFMAC_CACHE, default
# /var/cache/vifmac-tests, outside the source tree so that fresh clones reuse it.
# With VIFMAC_DEBS_OUT=DIR the built .debs are also copied to DIR (the
# end-to-end suite then installs these very packages in its Xen dom0).
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cache=${VIFMAC_CACHE:-/var/cache/vifmac-tests}
checks=0
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: $0 needs root (debootstrap, chroot)"
	exit 77
fi
for cmd in dpkg-buildpackage lintian debootstrap; do
	command -v "$cmd" >/dev/null || { echo "FAIL: $cmd is missing (scripts/install-deps --tests)"; exit 1; }
done

work=$(mktemp -d /var/tmp/vifmac-deb-XXXXXX)
root="$work/root"
cleanup() {
	for m in proc dev/pts; do umount "$root/$m" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

# ---- build from a copy of the tree (what git knows, committed or not) ----
echo "building the packages ..."
if ! "$top/tests/debian/build-debs.sh" "$top" "$work/src"; then
	tail -n 40 "$work/src/build.log"
	echo "FAIL: dpkg-buildpackage"
	exit 1
fi
debs=$(ls "$work"/src/*.deb | grep -v -- -dbgsym)
echo "built: $(for d in $debs; do basename "$d"; done | tr '\n' ' ')"
checks=$((checks + 1))
[ "$(echo "$debs" | wc -l)" -eq 3 ] || fail "expected 3 packages (vifmac, libvifmac0, libvifmac-dev)"
if [ -n "${VIFMAC_DEBS_OUT:-}" ]; then
	rm -rf "$VIFMAC_DEBS_OUT" && mkdir -p "$VIFMAC_DEBS_OUT" && cp $debs "$VIFMAC_DEBS_OUT/"
fi

# ---- lintian: no errors, no warnings ----
checks=$((checks + 1))
lintian --fail-on error,warning "$work"/src/*.changes >"$work/lintian.log" 2>&1
rc=$?
cat "$work/lintian.log"
[ $rc -eq 0 ] || fail "lintian reports errors or warnings (exit $rc)"

# ---- a minimal Debian 12, from the machine's own Debian mirror ----
mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || { echo "FAIL: no Debian mirror in this machine's apt sources"; exit 1; }
tarball="$cache/bookworm-minbase.tar.gz"
mkdir -p "$cache" "$root"
if [ ! -s "$tarball" ]; then
	echo "debootstrap bookworm (first run; cached in $tarball) ..."
	if ! debootstrap --variant=minbase bookworm "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1; then
		tail -n 20 "$work/debootstrap.log"
		echo "FAIL: debootstrap"
		exit 1
	fi
	tar -C "$work/boot" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$work/boot"
fi
tar -C "$root" -xzf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
# the same suites as this machine (bookworm-updates, -security): the packages were
# built against its libraries, and their dependencies ask for those versions
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
	rm -f "$root/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
elif [ -f /etc/apt/sources.list ]; then
	cp /etc/apt/sources.list "$root/etc/apt/sources.list"
fi
# no service starts inside the chroot
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mkdir -p "$root/tmp/debs"
cp $debs "$root/tmp/debs/"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

echo "installing with apt ..."
if ! in_root sh -c 'apt-get update -qq && apt-get install -y -qq /tmp/debs/*.deb' >"$work/install.log" 2>&1; then
	tail -n 30 "$work/install.log"
	echo "FAIL: apt-get install of the packages"
	exit 1
fi

# ---- what an admin sees ----
check "vifmac --version" in_root sh -c 'vifmac --version | grep -qx "vifmac 0.2.0"'
check "vifmac derive gives 02:00:c0:00:02:0a" in_root sh -c \
	'[ "$(vifmac derive --bridge xenbr0 --ip 192.0.2.10)" = 02:00:c0:00:02:0a ]'
check "the hook is /etc/xen/scripts/vif-vifmac, executable, next to vif-bridge" \
	in_root sh -c 'test -x /etc/xen/scripts/vif-vifmac && test -x /etc/xen/scripts/vif-bridge'
check "the hook calls the installed vifmac" in_root grep -q '/usr/sbin/vifmac' /etc/xen/scripts/vif-vifmac
check "/etc/xen/vifmac.conf is a conffile" in_root sh -c \
	'dpkg-query -W -f="\${Conffiles}" vifmac | grep -q "/etc/xen/vifmac.conf "'
check "the default policy loads (all commented out)" in_root vifmac plan --help
check "the hook is not switched on in xl.conf" in_root sh -c '! grep -qs "^[^#]*vif-vifmac" /etc/xen/xl.conf'
check "/var/lib/vifmac is 0750 root:root" in_root sh -c '[ "$(stat -c %a:%U:%G /var/lib/vifmac)" = 750:root:root ]'
check "the boot clean-up unit is installed and enabled" in_root sh -c \
	'test -f /lib/systemd/system/vifmac-boot.service && test -L /etc/systemd/system/multi-user.target.wants/vifmac-boot.service'
check "the boot unit runs vifmac gc before xendomains, after xen, and never fails the boot" in_root sh -c \
	'u=/lib/systemd/system/vifmac-boot.service; grep -qx "Before=xendomains.service" $u &&
	 grep -q "^After=.*xen.service" $u && grep -qx "ExecStart=-/usr/sbin/vifmac gc" $u && grep -qx "Type=oneshot" $u'
check "the watch unit is installed and not enabled" in_root sh -c \
	'test -f /lib/systemd/system/vifmac-watch.service && ! test -e /etc/systemd/system/multi-user.target.wants/vifmac-watch.service &&
	 grep -q "^ExecStart=/usr/sbin/vifmac watch " /lib/systemd/system/vifmac-watch.service'
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts the boot unit" sh -c \
		"out=\$(systemd-analyze verify --man=no '$root/lib/systemd/system/vifmac-boot.service' 2>&1) && [ -z \"\$out\" ]"
	# verify looks for ExecStart's program on this host: pointed at the one in the root
	sed "s|=/usr/sbin/vifmac |=$root/usr/sbin/vifmac |" "$root/lib/systemd/system/vifmac-watch.service" \
		>"$work/vifmac-watch.service"
	check "systemd-analyze verify accepts the watch unit" sh -c \
		"out=\$(systemd-analyze verify --man=no '$work/vifmac-watch.service' 2>&1) && [ -z \"\$out\" ]"
fi
check "man pages installed" in_root sh -c 'ls /usr/share/man/man8/vifmac.8.gz /usr/share/man/man5/vifmac.conf.5.gz >/dev/null'
check "README.Debian tells how to switch it on" in_root grep -q 'vif.default.script="vif-vifmac"' \
	/usr/share/doc/vifmac/README.Debian
check "libvifmac-dev: pkg-config finds it" in_root sh -c \
	'test -f /usr/include/vifmac.h && ls /usr/lib/*/pkgconfig/libvifmac.pc >/dev/null'
check "the registry is created 0640 in its folder" in_root sh -c \
	'vifmac reserve 02:00:00:00:00:01 --note router >/dev/null && [ "$(stat -c %a /var/lib/vifmac/registry.db)" = 640 ]'
check "etcd: libcurl4 and libjson-c5 came as Recommends, the backend loads them" in_root sh -c \
	'dpkg-query -W -f="\${Status}\n" libcurl4 libjson-c5 | grep -c "install ok installed" | grep -qx 2 &&
	 { vifmac --registry etcd:http://127.0.0.1:9 list 2>/tmp/err; grep -q "no etcd member answered" /tmp/err; }'
# a registry the policy puts elsewhere
in_root sh -c 'mkdir -p /srv && echo "registry = \"sqlite:/srv/vifmac/registry.db\"" >> /etc/xen/vifmac.conf'
check "a registry elsewhere (registry=) works" in_root sh -c \
	'vifmac reserve 02:00:00:00:00:02 --note elsewhere >/dev/null && test -f /srv/vifmac/registry.db'

# ---- remove keeps the conffile and the registry; purge removes them, not a registry elsewhere ----
in_root apt-get remove -y -qq vifmac >>"$work/install.log" 2>&1
check "remove: the conffile stays" in_root test -f /etc/xen/vifmac.conf
check "remove: the registry stays" in_root test -f /var/lib/vifmac/registry.db
check "remove: the command is gone" in_root sh -c '! test -e /usr/sbin/vifmac'
check "remove: the hook is a conffile and stays until purge" in_root test -f /etc/xen/scripts/vif-vifmac
check "remove: the leftover hook refuses, saying why" in_root sh -c \
	'mkdir -p /var/log/xen; ! XENBUS_PATH=backend/vif/1/0 /etc/xen/scripts/vif-vifmac online type_if=vif 2>/tmp/err >/dev/null; grep -q "vifmac is not installed" /tmp/err'
in_root apt-get purge -y -qq vifmac >>"$work/install.log" 2>&1
check "purge: the conffile is gone" in_root sh -c '! test -e /etc/xen/vifmac.conf'
check "purge: the hook is gone" in_root sh -c '! test -e /etc/xen/scripts/vif-vifmac'
check "purge: /var/lib/vifmac is gone" in_root sh -c '! test -e /var/lib/vifmac'
check "purge: a registry the policy put elsewhere is kept" in_root test -f /srv/vifmac/registry.db
check "purge: dpkg forgets vifmac" in_root sh -c '! dpkg-query -W -f="\${Status}" vifmac 2>/dev/null | grep -q installed'

echo "$0: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
