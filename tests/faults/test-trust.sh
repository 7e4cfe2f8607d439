#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The trust review of docs/security.md, enforced:
#  1. the hook (hook/vif-vifmac.c) runs no shell: it imports nothing that
#     does (system, popen, the PATH-searching execs), and execs only the chain
#     by its path; hostile xenstore text in its refusals is in test-hook.sh;
#  2. an unprivileged local user (nobody, through setpriv) can use the
#     read-only commands that need no registry, and can neither read nor
#     change a registry in its 0750 folder (file 0640), nor claim;
#  3. two admins at once: racing reserve / release / claim of one MAC, one
#     wins cleanly and the others are refused, the registry stays whole;
#  4. files and folders other accounts can plant things in: symlinks in the
#     textfile folder, a registry folder that is not root's, FIFOs.
# Ends with "test-trust.sh: N checks, M failed".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # make check runs .sh tests with sh
set -u
: "${VIFMAC:?run through make check}" "${TOP_SRCDIR:?}" "${TOP_BUILDDIR:?}"
REGTOOL="$TOP_BUILDDIR/tests/integration/regtool"
tmp=$(mktemp -d /tmp/vifmac-trust.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset VIFMAC_CONFIG
checks=0
failures=0

ok() { checks=$((checks + 1)); }
fail() {
	checks=$((checks + 1))
	failures=$((failures + 1))
	echo "FAIL: $*" >&2
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok; else fail "$what"; fi
}

# copy_program FILE LIBDIR: the built program (not libtool's wrapper script) as
# FILE, and libvifmac.so* into LIBDIR
copy_program() {
	if grep -q 'libtool' "$VIFMAC" 2>/dev/null; then
		cp "$(dirname "$VIFMAC")/.libs/vifmac" "$1"
	else
		cp "$VIFMAC" "$1"
	fi
	cp -P "$TOP_BUILDDIR"/lib/.libs/libvifmac.so* "$2/" 2>/dev/null
}

# ------------------------------------------------------------------ 1. the hook
# The hook is a program (hook/vif-vifmac.c) that runs no shell: the values it
# quotes (xenstore's bridge, ip, vifname, domain names) only ever reach
# printf-style writes, escaped (tests/hook/test-hook.sh, case "hostile-name"),
# and the one program it starts is the chain, by its path, with execv(). Its
# imports say so: nothing that runs a shell or searches PATH.
echo "== the hook starts no shell"
HOOK=$TOP_BUILDDIR/hook/vif-vifmac
if [ ! -x "$HOOK" ] || ! command -v nm >/dev/null; then
	fail "no built $HOOK, or no nm (binutils)"
else
	nm -D --undefined-only "$HOOK" | awk '{ print $NF }' | sed 's/@.*//' | sort -u >"$tmp/imports"
	check "the hook execs with execv (the chain, by its path)" grep -qx execv "$tmp/imports"
	for f in system popen execl execle execlp execvp execvpe execve posix_spawn posix_spawnp wordexp; do
		check "the hook does not import $f" bash -c "! grep -qx '$f' '$tmp/imports'"
	done
fi

# ------------------------------------------------------------------ 2. an unprivileged user
echo "== an unprivileged local user"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! getent passwd nobody >/dev/null; then
	echo "SKIP: unprivileged checks need root and setpriv (util-linux)"
else
	chmod 0755 "$tmp"
	# nobody runs a copy of the built program and its library from $tmp: the
	# clone may live where nobody cannot reach (root's 0700 home). To prove the
	# checks do not depend on where the clone is, nobody runs them with the
	# source and build trees hidden under empty 0700 mounts.
	N=$tmp/nobody
	mkdir -p "$N/lib"
	copy_program "$N/vifmac" "$N/lib"
	cp "$TOP_SRCDIR/tests/data/domains/web1.cfg" "$N/web1.cfg"
	chmod -R a+rX "$N"
	as_nobody() {
		unshare --mount -- sh -c 'mount -t tmpfs -o mode=0700 vifmac-hidden "$1" &&
			{ [ "$2" = "$1" ] || mount -t tmpfs -o mode=0700 vifmac-hidden "$2"; } && shift 2 &&
			exec env LD_LIBRARY_PATH="$0" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"' \
			"$N/lib" "$TOP_BUILDDIR" "$TOP_SRCDIR" "$@"
	}
	NVIFMAC=$N/vifmac
	if as_nobody test -e "$VIFMAC"; then
		fail "nobody's view hides the build tree (so what follows works from any clone location)"
	else ok; fi
	P=$tmp/policy.conf
	printf 'private_bridges = [ "xenbr0" ]\nregistry = "sqlite:%s/lib/registry.db"\n' "$tmp" >"$P"
	chmod 0644 "$P"
	R="sqlite:$tmp/lib/registry.db"
	"$REGTOOL" "$R" claim 02:00:c0:00:02:0a '*' web1 11111111-1111-1111-1111-111111111111 0 xenbr0 192.0.2.10 >/dev/null
	check "registry folder is 0750" [ "$(stat -c %a "$tmp/lib")" = 750 ]
	check "registry file is 0640" [ "$(stat -c %a "$tmp/lib/registry.db")" = 640 ]
	check "registry lock file is 0640" [ "$(stat -c %a "$tmp/lib/registry.db.lock")" = 640 ]
	dump() { "$VIFMAC" --config "$P" list --json 2>&1; }
	before=$(dump)
	as_nobody "$NVIFMAC" --config "$P" derive --bridge xenbr0 --ip 192.0.2.10 >"$tmp/out" 2>&1
	check "nobody: derive works (policy only) [$(cat "$tmp/out")]" [ "$(cat "$tmp/out")" = 02:00:c0:00:02:0a ]
	as_nobody "$NVIFMAC" --config "$P" plan "$N/web1.cfg" >/dev/null 2>&1
	check "nobody: plan works" [ $? -eq 0 ]
	for c in "list" "whois 02:00:c0:00:02:0a" "reserve 02:00:00:00:00:aa --note evil" "release 02:00:c0:00:02:0a" \
		"gc" "export"; do
		# shellcheck disable=SC2086
		as_nobody "$NVIFMAC" --config "$P" $c >"$tmp/out" 2>&1
		rc=$?
		check "nobody: $c is refused with exit 3 (got $rc: $(head -c 200 "$tmp/out"))" [ "$rc" -eq 3 ]
	done
	# a well-formed export to import (made by root from a scratch registry)
	"$VIFMAC" --registry "sqlite:$tmp/src/r.db" reserve 02:00:00:00:00:bb --note evil >/dev/null 2>&1
	"$VIFMAC" --registry "sqlite:$tmp/src/r.db" export >"$tmp/in.json" 2>/dev/null
	chmod 0644 "$tmp/in.json"
	as_nobody "$NVIFMAC" --config "$P" import "$tmp/in.json" >"$tmp/out" 2>&1
	rc=$?
	check "nobody: import is refused with exit 3 (got $rc: $(head -c 200 "$tmp/out"))" [ "$rc" -eq 3 ]
	XENBUS_PATH=backend/vif/5/0 as_nobody "$NVIFMAC" --config "$P" hotplug online >"$tmp/out" 2>&1
	rc=$?
	check "nobody: hotplug online is refused (got $rc: $(head -c 200 "$tmp/out"))" [ "$rc" -ne 0 ]
	check "nobody changed nothing" [ "$(dump)" = "$before" ]
	check "nobody created no file" [ -z "$(find "$tmp/lib" -user nobody)" ]
	# an admin who gives a group read access (0640 file, 0750 folder, group nogroup): reading is
	# up to SQLite's WAL (it needs to write the -shm file); writing stays refused
	chgrp -R "$(id -g nobody)" "$tmp/lib"
	as_nobody "$NVIFMAC" --config "$P" reserve 02:00:00:00:00:aa --note evil >"$tmp/out" 2>&1
	rc=$?
	check "group reader: reserve is refused with exit 3 (got $rc)" [ "$rc" -eq 3 ]
	as_nobody "$NVIFMAC" --config "$P" release 02:00:c0:00:02:0a >"$tmp/out" 2>&1
	rc=$?
	check "group reader: release is refused with exit 3 (got $rc)" [ "$rc" -eq 3 ]
	as_nobody "$NVIFMAC" --config "$P" list >"$tmp/out" 2>&1
	echo "   (group reader: list exits $?: $(head -c 160 "$tmp/out"))"
	check "group reader changed nothing" [ "$(dump)" = "$before" ]
	chgrp -R root "$tmp/lib"
fi

# ------------------------------------------------------------------ 3. two admins at once
echo "== admins racing on one MAC"
R2="sqlite:$tmp/race/registry.db"
"$VIFMAC" --registry "$R2" list >/dev/null 2>&1
race() { # race N CMD...: N copies at once; prints their exit codes sorted
	local n=$1 i
	shift
	for i in $(seq "$n"); do
		("$@" >/dev/null 2>&1; echo $? >"$tmp/race.$i") &
	done
	wait
	for i in $(seq "$n"); do cat "$tmp/race.$i"; done | sort | tr '\n' ' '
}
for round in 1 2 3; do
	codes=$(race 8 "$VIFMAC" --registry "$R2" reserve 02:00:00:00:00:aa --note "admin")
	check "8 reserves at once (round $round): one wins, 7 refused [$codes]" [ "$codes" = "0 1 1 1 1 1 1 1 " ]
	n=$("$VIFMAC" --registry "$R2" whois 02:00:00:00:00:aa 2>/dev/null | grep -c reserved)
	check "one reservation recorded (round $round, $n)" [ "$n" = 1 ]
	codes=$(race 6 "$VIFMAC" --registry "$R2" release 02:00:00:00:00:aa)
	check "6 releases at once (round $round): one releases, 5 find nothing [$codes]" [ "$codes" = "0 1 1 1 1 1 " ]
	"$VIFMAC" --registry "$R2" whois 02:00:00:00:00:aa >/dev/null 2>&1
	check "nothing left (round $round)" [ $? -eq 1 ]
done
# a reserve and claims for one MAC at once: one holder in the end
for i in 1 2 3 4; do
	("$VIFMAC" --registry "$R2" reserve 02:00:00:00:00:cc --note "admin $i" >/dev/null 2>&1; echo $? >"$tmp/mix.r$i") &
	("$REGTOOL" "$R2" claim 02:00:00:00:00:cc '*' dom$i 0000000$i-0000-4000-8000-000000000000 0 xenbr0 192.0.2.$i \
		>/dev/null 2>&1; echo $? >"$tmp/mix.c$i") &
done
wait
wins=$(cat "$tmp"/mix.* | grep -c '^0$')
check "reserve vs claim: exactly one of 8 wins ($wins)" [ "$wins" = 1 ]
check "reserve vs claim: the others were refused as held (exit 1)" [ "$(cat "$tmp"/mix.* | grep -vc '^[01]$')" = 0 ]
check "registry whole after the races" [ "$(sqlite3 "$tmp/race/registry.db" 'PRAGMA integrity_check')" = ok ]

# ------------------------------------------------------------------ 4. files planted by others
echo "== files and folders that other users can plant"
FAKEXS_LIB=$TOP_BUILDDIR/tests/fake/.libs/libfakexs.so
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || [ ! -f "$FAKEXS_LIB" ]; then
	echo "SKIP: planted files need root, setpriv and $FAKEXS_LIB"
else
	# audit --prometheus into a textfile folder owned by another account
	# (node-exporter's): it plants symlinks at every name it can guess
	T=$tmp/textfile
	mkdir -m 0755 "$T"
	chown nobody "$T"
	printf 'precious\n' >"$tmp/victim"
	: >"$tmp/xs"
	(
		for name in "vifmac.prom.$BASHPID.tmp" "vifmac.prom.tmp" ".vifmac.prom.tmp"; do
			setpriv --reuid=nobody --clear-groups ln -s "$tmp/victim" "$T/$name"
		done
		exec env LD_PRELOAD="$FAKEXS_LIB" FAKEXS_STATE="$tmp/xs" "$VIFMAC" --registry "sqlite:$tmp/audit/r.db" \
			audit --prometheus "$T/vifmac.prom"
	) >"$tmp/out" 2>&1
	check "audit --prometheus runs (rc $?: $(head -c 200 "$tmp/out"))" grep -q '^audit: ok' "$tmp/out"
	check "audit --prometheus: a planted symlink's target is untouched" [ "$(cat "$tmp/victim")" = precious ]
	check "audit --prometheus: the textfile is a regular file of root's, mode 0644" \
		[ "$(stat -c '%F %U %a' "$T/vifmac.prom")" = "regular file root 644" ]
	check "audit --prometheus: it holds the metrics" grep -q '^vifmac_audit_status 0$' "$T/vifmac.prom"
	check "audit --prometheus: no temporary file is left" \
		[ "$(find "$T" -type f ! -name vifmac.prom | wc -l)" = 0 ]

	# the registry folder and its files: what another account could plant
	refused_registry() { # refused_registry WHAT DB EXPECTED-TEXT: root's list exits 3 naming it
		printf 'precious\n' >"$tmp/victim"
		"$VIFMAC" --registry "sqlite:$2" list >"$tmp/out" 2>&1
		local rc=$?
		check "$1: refused, exit 3 (got $rc: $(head -c 300 "$tmp/out"))" [ "$rc" -eq 3 ]
		check "$1: the message names it" grep -qF -- "$3" "$tmp/out"
		check "$1: the symlink's target is untouched" [ "$(cat "$tmp/victim")" = precious ]
	}
	G=$tmp/reg-nobody
	mkdir -m 0750 "$G"
	chown nobody "$G"
	setpriv --reuid=nobody --clear-groups ln -s "$tmp/victim" "$G/registry.db.lock"
	refused_registry "a registry folder owned by nobody (lock file planted)" "$G/registry.db" \
		"unsafe folder $G (owner uid $(id -u nobody), mode 0750)"
	G=$tmp/reg-group
	mkdir -m 0770 "$G"
	refused_registry "a group-writable registry folder" "$G/registry.db" "unsafe folder $G (owner uid 0, mode 0770)"
	for f in registry.db registry.db.lock registry.db-wal registry.db-shm; do
		G=$tmp/reg-link-$f
		"$VIFMAC" --registry "sqlite:$G/registry.db" reserve 02:00:00:00:00:dd --note x >/dev/null 2>&1
		rm -f "$G/$f"
		ln -s "$tmp/victim" "$G/$f"
		refused_registry "a symlink as $f" "$G/registry.db" "$G/$f"
		rm -f "$G/$f"
		mkfifo "$G/$f"
		timeout 10 "$VIFMAC" --registry "sqlite:$G/registry.db" list >"$tmp/out" 2>&1
		rc=$?
		check "a FIFO as $f: refused, exit 3 (got $rc: $(head -c 300 "$tmp/out"))" [ "$rc" -eq 3 ]
		check "a FIFO as $f: named as not a regular file" grep -qF "$G/$f is not a regular file" "$tmp/out"
	done
	G=$tmp/reg-owner
	"$VIFMAC" --registry "sqlite:$G/registry.db" reserve 02:00:00:00:00:dd --note x >/dev/null 2>&1
	chown nobody "$G/registry.db.lock"
	refused_registry "a lock file owned by nobody" "$G/registry.db" "$G/registry.db.lock belongs to uid $(id -u nobody)"
fi

# ------------------------------------------------------------------ 5. the environment
# Run set-gid (AT_SECURE), vifmac ignores its own variables (secure_getenv): a
# set-gid copy of the program, and its library where the loader of a secure
# program looks (an overlay on the system's library folder, in a mount
# namespace of its own: LD_LIBRARY_PATH does not count for such programs).
echo "== the environment of a set-uid/set-gid caller"
L=/usr/lib/x86_64-linux-gnu
if [ "$(id -u)" != 0 ] || [ ! -d "$L" ] || ! grep -qw overlay /proc/filesystems || ! unshare --mount true 2>/dev/null ||
	! getent group nogroup >/dev/null; then
	echo "SKIP: the set-gid checks need root, $L, overlayfs and a mount namespace"
else
	O=$tmp/overlay
	mkdir -p "$O/up" "$O/work"
	copy_program "$O/up/vifmac-setgid-test" "$O/up"
	chgrp nogroup "$O/up/vifmac-setgid-test"
	chmod 2755 "$O/up/vifmac-setgid-test"
	as_setgid() { # as_setgid CMD...: with the overlay, "vifmac" being the set-gid copy
		unshare --mount -- sh -c 'mount -t overlay vifmac-test -o "lowerdir=$0,upperdir=$1/up,workdir=$1/work" "$0" &&
			shift && exec "$@"' "$L" "$O" "$@"
	}
	as_setgid env VIFMAC_CONFIG=/nonexistent/vifmac.conf VIFMAC_LOG=debug "$L/vifmac-setgid-test" \
		derive --bridge xenbr0 --ip 192.0.2.10 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	want=$(env -u VIFMAC_CONFIG "$VIFMAC" derive --bridge xenbr0 --ip 192.0.2.10 2>&1)
	check "set-gid: VIFMAC_CONFIG is ignored, the default policy applies (rc $rc: $(head -c 200 "$tmp/err"))" \
		[ "$(cat "$tmp/out" "$tmp/err")" = "$want" ]
	check "set-gid: VIFMAC_LOG is ignored (no debug lines)" [ ! -s "$tmp/err" ]
	# the control: the same copy, not set-gid, honours both
	chmod 0755 "$O/up/vifmac-setgid-test"
	as_setgid env VIFMAC_CONFIG=/nonexistent/vifmac.conf "$L/vifmac-setgid-test" \
		derive --bridge xenbr0 --ip 192.0.2.10 >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "control: without set-gid, VIFMAC_CONFIG is read (rc $rc)" grep -q "/nonexistent/vifmac.conf" "$tmp/err"
fi

echo "$0: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
