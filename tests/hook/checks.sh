# SPDX-License-Identifier: GPL-2.0-or-later
# The assertions of the hook tests (tests/hook/test-*.sh): each counts one
# check in $checks and a failure in $failures, naming $case. Sourced (bash)
# after tests/hook/lib.sh.

# hook_test_start "$@": root, a private mount namespace, the environment of
# tests/hook/lib.sh in $tmp (removed at exit unless VIFMAC_HOOK_KEEP is set),
# the counters; exits 77 (skipped) when this box cannot host it.
hook_test_start() {
	[ "$(id -u)" = 0 ] || skip "needs root: a network namespace, a bridge and /var/log/xen"
	hook_isolate "$@" || skip "$HOOK_SKIP"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-hook-XXXXXX")
	if [ -n "${VIFMAC_HOOK_KEEP:-}" ]; then # keep the store, registry and logs for a look
		trap 'hook_teardown; echo "$0: kept $tmp" >&2' EXIT
	else
		trap 'hook_teardown; rm -rf "$tmp"' EXIT
	fi
	hook_setup "$tmp" || skip "$HOOK_SKIP"
	checks=0
	failures=0
	export VIFMAC_CONFIG=$POLICY
}

skip() {
	echo "$0: SKIPPED: $*" >&2
	echo "$0: SKIPPED: $*"
	exit 77
}

fail() {
	echo "FAIL [$case]: $*" >&2
	failures=$((failures + 1))
}

check() { # check DESCRIPTION CMD...: CMD must succeed
	local what=$1
	shift
	checks=$((checks + 1))
	"$@" || fail "$what"
}

status_is() {
	checks=$((checks + 1))
	if [ "$rc" != "$1" ]; then
		fail "exit status $rc, expected $1"
		sed 's/^/  stderr: /' "$tmp/err" >&2
		tail -n 20 "$LOG" 2>/dev/null | sed 's/^/  log: /' >&2
	fi
}

status_failed() {
	checks=$((checks + 1))
	[ "$rc" != 0 ] || fail "exit status 0, expected a failure"
}

# value PATH EXPECTED: the node holds EXPECTED
value() {
	local got
	checks=$((checks + 1))
	got=$(xs read "$1" 2>&1)
	[ "$got" = "$2" ] || fail "$1 is \"$got\", expected \"$2\""
}

absent() {
	checks=$((checks + 1))
	! xs exists "$1" 2>/dev/null || fail "$1 exists: $(xs read "$1")"
}

# has FILE PATTERN (grep -E)
has() {
	checks=$((checks + 1))
	grep -Eq -- "$2" "$1" || {
		fail "$(basename "$1") lacks /$2/"
		sed "s/^/  $(basename "$1"): /" "$1" >&2
	}
}

lacks() {
	checks=$((checks + 1))
	! grep -Eq -- "$2" "$1" || fail "$(basename "$1") has /$2/"
}

one_line() {
	checks=$((checks + 1))
	[ "$(wc -l <"$1")" -eq 1 ] || {
		fail "$(basename "$1") has $(wc -l <"$1") lines, expected 1"
		sed "s/^/  $(basename "$1"): /" "$1" >&2
	}
}

on_bridge() { # on_bridge LINK
	checks=$((checks + 1))
	[ "$(master "$1")" = xenbr0 ] || fail "$1 is not a port of xenbr0 (master: \"$(master "$1")\")"
}

off_bridge() {
	checks=$((checks + 1))
	[ -z "$(master "$1")" ] || fail "$1 is a port of $(master "$1"), expected none"
}

# whois WHAT: vifmac whois output in $tmp/whois, status in $wrc
whois() {
	"$VIFMAC" whois "$1" >"$tmp/whois" 2>&1
	wrc=$?
}

not_grep() {
	! grep -q -- "$1" "$2"
}

registry_dump() {
	"$VIFMAC" list >"$1" 2>&1
}

log_mark() {
	log_from=$(($(stat -c %s "$LOG" 2>/dev/null || echo 0) + 1))
}

log_since() {
	tail -c +"$log_from" "$LOG" >"$tmp/log.part" 2>/dev/null || : >"$tmp/log.part"
}

