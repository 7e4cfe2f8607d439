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

# vifmac before 0.2.0 shipped the hook as a script, a conffile: a stand-in
# package of that version (just the conffile), installed and edited first, so
# that the install below is the upgrade (debian/vifmac.maintscript, rm_conffile)
old=$work/old
mkdir -p "$old/DEBIAN" "$old/etc/xen/scripts"
printf '#!/bin/bash\n# vif-vifmac 0.1.0\n' >"$old/etc/xen/scripts/vif-vifmac"
chmod 755 "$old/etc/xen/scripts/vif-vifmac"
echo /etc/xen/scripts/vif-vifmac >"$old/DEBIAN/conffiles"
cat >"$old/DEBIAN/control" <<CONTROL
Package: vifmac
Version: 0.1.0
Architecture: $(dpkg --print-architecture)
Maintainer: vifmac developers <vifmac-devel@example.org>
Description: vifmac 0.1.0 stand-in (the hook as a conffile)
CONTROL
dpkg-deb -b "$old" "$root/tmp/vifmac-old.deb" >/dev/null
if ! in_root sh -c 'dpkg -i /tmp/vifmac-old.deb && echo "# edited by the admin" >>/etc/xen/scripts/vif-vifmac' \
	>"$work/install.log" 2>&1; then
	tail -n 30 "$work/install.log"
	echo "FAIL: dpkg -i of the 0.1.0 stand-in"
	exit 1
fi

echo "installing with apt ..."
if ! in_root sh -c 'apt-get update -qq && apt-get install -y -qq /tmp/debs/*.deb' >>"$work/install.log" 2>&1; then
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
check "the hook is a symlink to the program in /usr/libexec/vifmac" in_root sh -c \
	'[ "$(readlink /etc/xen/scripts/vif-vifmac)" = /usr/libexec/vifmac/vif-vifmac ] &&
	 head -c 4 /usr/libexec/vifmac/vif-vifmac | grep -q ELF'
check "the hook is no conffile any more" in_root sh -c \
	'! dpkg-query -W -f="\${Conffiles}" vifmac | grep -q vif-vifmac'
check "the hook runs: an invalid command is refused, saying so" in_root sh -c \
	'mkdir -p /var/log/xen; ! /etc/xen/scripts/vif-vifmac frobnicate 2>/tmp/err >/dev/null &&
	 grep -qx "vif-vifmac: invalid command: frobnicate" /tmp/err'
check "the upgrade from the script: the old conffile is gone, an edited one kept as .dpkg-bak" in_root sh -c \
	'! test -e /etc/xen/scripts/vif-vifmac.dpkg-remove && ! test -e /etc/xen/scripts/vif-vifmac.dpkg-backup &&
	 grep -q "edited by the admin" /etc/xen/scripts/vif-vifmac.dpkg-bak' 
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
# The hook is a program now, no conffile: it goes with the package, and libxl
# refuses a vif whose script= it cannot run (README.Debian: switch it off first).
check "remove: the hook goes with the program" in_root sh -c \
	'! test -e /etc/xen/scripts/vif-vifmac && ! test -L /etc/xen/scripts/vif-vifmac && ! test -e /usr/libexec/vifmac'
in_root apt-get purge -y -qq vifmac >>"$work/install.log" 2>&1
check "purge: the conffile is gone" in_root sh -c '! test -e /etc/xen/vifmac.conf'
check "purge: the hook is gone" in_root sh -c '! test -e /etc/xen/scripts/vif-vifmac'
check "purge: /var/lib/vifmac is gone" in_root sh -c '! test -e /var/lib/vifmac'
check "purge: a registry the policy put elsewhere is kept" in_root test -f /srv/vifmac/registry.db
check "purge: dpkg forgets vifmac" in_root sh -c '! dpkg-query -W -f="\${Status}" vifmac 2>/dev/null | grep -q installed'

echo "$0: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
