# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the CLI tests: run the built binary, check status and output.
# Sourced; the test calls `finish` last.
set -u
: "${VIFMAC:?run through make check (VIFMAC is the built CLI)}"
: "${TEST_DATA_DIR:?run through make check}"
D=$TEST_DATA_DIR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
checks=0
failures=0
# never pick up the host's own policy, nor its xl.conf ("" = none)
unset VIFMAC_CONFIG
export VIFMAC_XL_CONF=

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run_cmd WANT_STATUS CMD...: runs CMD; stdout in $tmp/out, stderr in $tmp/err
run_cmd() {
	want=$1
	shift
	checks=$((checks + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		fail "$* exited $got, expected $want"
		sed 's/^/  stdout: /' "$tmp/out" >&2
		sed 's/^/  stderr: /' "$tmp/err" >&2
	fi
}

# run WANT_STATUS ARGS...: runs the CLI (run_cmd WANT_STATUS "$VIFMAC" ARGS...)
run() {
	want=$1
	shift
	run_cmd "$want" "$VIFMAC" "$@"
}

# has out|err PATTERN: a line matches the extended regular expression
has() {
	checks=$((checks + 1))
	grep -Eq -- "$2" "$tmp/$1" || {
		fail "$1 lacks /$2/"
		sed "s/^/  $1: /" "$tmp/$1" >&2
	}
}

# lacks out|err PATTERN: no line matches the extended regular expression
lacks() {
	checks=$((checks + 1))
	if grep -Eq -- "$2" "$tmp/$1"; then
		fail "$1 has /$2/"
		sed "s/^/  $1: /" "$tmp/$1" >&2
	fi
}

# lines out|err N: exactly N lines
lines() {
	checks=$((checks + 1))
	n=$(wc -l <"$tmp/$1")
	[ "$n" -eq "$2" ] || fail "$1 has $n lines, expected $2"
}

# is out|err TEXT: the whole output is exactly TEXT (one line)
is() {
	checks=$((checks + 1))
	[ "$(cat "$tmp/$1")" = "$2" ] || fail "$1 is \"$(cat "$tmp/$1")\", expected \"$2\""
}

# empty out|err
empty() {
	checks=$((checks + 1))
	[ ! -s "$tmp/$1" ] || fail "$1 is not empty: $(head -c 300 "$tmp/$1")"
}

# one_line err: exactly one line (errors are one line an admin can act on)
one_line() {
	checks=$((checks + 1))
	[ "$(wc -l <"$tmp/$1")" -eq 1 ] || fail "$1 has $(wc -l <"$tmp/$1") lines, expected 1: $(cat "$tmp/$1")"
}

finish() {
	echo "$0: $checks checks, $failures failed"
	[ "$failures" -eq 0 ]
	exit $?
}
