#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac list, whois, reserve, release, gc, export, import on a temporary registry.
# Claims are made with tests/integration/regtool (the CLI has no claim command).
. "$TOP_SRCDIR/tests/cli/lib.sh"
: "${TOP_BUILDDIR:?run through make check}"
REGTOOL="$TOP_BUILDDIR/tests/integration/regtool"
R="sqlite:$tmp/r.db"
UUID_A=11111111-1111-1111-1111-111111111111
UUID_B=22222222-2222-2222-2222-222222222222
UUID_C=33333333-3333-3333-3333-333333333333

v() {
	"$VIFMAC" --registry "$R" "$@"
}

# ---------------------------------------------------------------- claims (through the library)
run_cmd 0 "$REGTOOL" "$R" claim 02:00:c0:00:02:0a '*' web1 $UUID_A 0 xenbr0 "192.0.2.10 2001:db8::10/64"
run_cmd 0 "$REGTOOL" "$R" claim 02:00:c0:00:02:0b '*' web1 $UUID_A 1 xenbr0 "192.0.2.11"
run_cmd 0 "$REGTOOL" "$R" claim 02:00:c0:00:02:14 '*' db1 $UUID_B 0 xenbr0 "192.0.2.20"
run_cmd 1 "$REGTOOL" "$R" claim 02:00:c0:00:02:14 '*' mail $UUID_C 0 xenbr0 "192.0.2.20"
has out "held by db1 $UUID_B 0"

# ---------------------------------------------------------------- whois
run_cmd 0 v whois 02:00:c0:00:02:0a
has out "^02:00:c0:00:02:0a domain web1 uuid $UUID_A devid 0 bridge xenbr0"
lines out 1
run_cmd 0 v whois 02:00:C0:00:02:14
has out "domain db1 uuid $UUID_B"
run_cmd 0 v whois 192.0.2.20
has out "^02:00:c0:00:02:14 domain db1"
lines out 1
run_cmd 0 v whois 2001:db8::10
has out "^02:00:c0:00:02:0a domain web1"
run_cmd 0 v whois web1
has out "^02:00:c0:00:02:0a "
has out "^02:00:c0:00:02:0b "
lines out 2
run_cmd 0 v whois $UUID_B
has out "^02:00:c0:00:02:14 domain db1"
run_cmd 0 v whois --json web1
has out '^\[$'
has out '"mac": "02:00:c0:00:02:0a", "scope": "\*", "state": "active", "domain": "web1"'
has out '^\]$'
run_cmd 1 v whois 192.0.2.99
has err "nothing recorded for 192.0.2.99"
run_cmd 1 v whois nosuchdomain
run_cmd 2 v whois
run_cmd 0 v whois --help
has out "Usage: vifmac whois"

# ---------------------------------------------------------------- reserve
run_cmd 0 v reserve 02:00:00:00:00:fe --note "router, rack 4"
has out "reserved 02:00:00:00:00:fe"
run_cmd 2 v reserve 02:00:00:00:00:fd
has err "--note"
run_cmd 2 v reserve 02:00:00:00:00 --note x
run_cmd 1 v reserve 02:00:c0:00:02:0a --note "mistake"
has err "02:00:c0:00:02:0a is held by domain web1 \(uuid $UUID_A, devid 0\)"
run_cmd 1 v reserve 02:00:00:00:00:fe --note "again"
has err "already reserved: router, rack 4"
run_cmd 1 "$REGTOOL" "$R" claim 02:00:00:00:00:fe '*' web9 $UUID_C 0 xenbr0 "192.0.2.99"
run_cmd 0 v whois 02:00:00:00:00:fe
has out "^02:00:00:00:00:fe reserved: router, rack 4"

# ---------------------------------------------------------------- list
run_cmd 0 v list
has out "^MAC +SCOPE +STATE"
has out "^02:00:00:00:00:fe +\* +reserved .*router, rack 4"
has out "^02:00:c0:00:02:14 +\* +active +db1 "
lines out 5
run_cmd 0 v list --json
[ "$(grep -c '"mac"' "$tmp/out")" -eq 4 ] || fail "list --json does not hold 4 records"
run_cmd 2 v list extra

# ---------------------------------------------------------------- export / import round trip
run_cmd 0 v export
cp "$tmp/out" "$tmp/export.json"
has out '"format": "vifmac-registry", "version": 1'
[ "$(grep -c '"mac"' "$tmp/export.json")" -eq 4 ] || fail "export does not hold 4 records"
run_cmd 0 "$VIFMAC" --registry "sqlite:$tmp/empty.db" import "$tmp/export.json"
has out "imported 4 records"
run_cmd 0 "$VIFMAC" --registry "sqlite:$tmp/empty.db" export
grep '^  {' "$tmp/export.json" >"$tmp/a"
grep '^  {' "$tmp/out" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "export → import → export differs: $(diff "$tmp/a" "$tmp/b")"
# from standard input, into the registry it came from: the same records again, no conflict
"$VIFMAC" --registry "$R" import <"$tmp/export.json" >"$tmp/out" 2>"$tmp/err" || fail "re-import into the source failed: $(cat "$tmp/err")"

# import refuses on a conflict, names the MAC, and imports nothing
run_cmd 0 "$REGTOOL" "sqlite:$tmp/other.db" claim 02:00:c0:00:02:14 '*' mail $UUID_C 0 xenbr1 "192.0.2.20"
run_cmd 1 "$VIFMAC" --registry "sqlite:$tmp/other.db" import "$tmp/export.json"
has err "import: 02:00:c0:00:02:14 \(scope \*\) conflicts: held by domain mail \(uuid $UUID_C"
has err "1 conflict: nothing imported"
lacks err "02:00:c0:00:02:0a"
run_cmd 0 "$VIFMAC" --registry "sqlite:$tmp/other.db" list
lines out 2

# malformed input is refused before anything is written
printf '{"format": "vifmac-registry", "version": 1, "records": [{"mac": "02:00:00:00:00:01", "state": "active"}]}' >"$tmp/bad1.json"
run_cmd 2 "$VIFMAC" --registry "sqlite:$tmp/other.db" import "$tmp/bad1.json"
has err '"uuid" is missing'
printf '{"format": "vifmac-registry", "version": 1, "records": [' >"$tmp/bad2.json"
run_cmd 2 "$VIFMAC" --registry "sqlite:$tmp/other.db" import "$tmp/bad2.json"
printf '{"format": "vifmac-registry", "version": 1, "records": [], "records": []}' >"$tmp/bad3.json"
run_cmd 2 "$VIFMAC" --registry "sqlite:$tmp/other.db" import "$tmp/bad3.json"
has err "duplicate key"
printf '{"format": "something-else", "version": 1, "records": []}' >"$tmp/bad4.json"
run_cmd 2 "$VIFMAC" --registry "sqlite:$tmp/other.db" import "$tmp/bad4.json"
# each refusal names the line, or the record and its key
H='{"format": "vifmac-registry", "version": 1, "records": ['
REC='"mac": "02:00:00:00:00:01", "uuid": "'$UUID_A'"'
bad() { # bad NAME TEXT EXPECTED: import of TEXT refused, the message matching EXPECTED
	printf '%s' "$2" >"$tmp/$1.json"
	run_cmd 2 "$VIFMAC" --registry "sqlite:$tmp/other.db" import "$tmp/$1.json"
	has err "$3"
}
bad trunc "$H" "trunc.json: line 1: unexpected end of the document"
bad dupdeep "$H
{$REC, \"devid\": 0,
 \"devid\": 1}]}" 'dupdeep.json: line 3: duplicate key "devid"'
bad dupesc "$H
{$REC, \"devid\": 0, \"\\u006dac\": \"02:00:00:00:00:02\"}]}" 'dupesc.json: line 2: duplicate key "mac"'
bad ctl "$H
{$REC, \"devid\": 0, \"note\": \"a$(printf '\t')b\"}]}" "ctl.json: line 2: control character in a string"
bad nul "$H
{$REC, \"devid\": 0, \"note\": \"a\\u0000b\"}]}" 'nul.json: line 2: bad escape in a string'
bad squote "{'format': \"vifmac-registry\"}" "squote.json: line 1: a string in single quotes"
bad float "$H{$REC, \"devid\": 1.5}]}" 'record 0: "devid" must be an integer'
bad after "$H]}
x" "after.json: line 2: unexpected character"
bad deep "$(python3 -c 'print("[" * 40 + "]" * 40)')" "deep.json: line 1: nesting too deep"
run_cmd 0 "$VIFMAC" --registry "sqlite:$tmp/other.db" list
lines out 2

# ---------------------------------------------------------------- release
run_cmd 0 v release 02:00:c0:00:02:14
has out "released 02:00:c0:00:02:14: domain db1 \(uuid $UUID_B, devid 0\)"
run_cmd 1 v whois 02:00:c0:00:02:14
run_cmd 1 v release 02:00:c0:00:02:14
has err "nothing recorded"
run_cmd 0 v release --domain web1 --devid 1
has out "released 02:00:c0:00:02:0b"
lacks out "02:00:c0:00:02:0a"
run_cmd 0 v whois web1
lines out 1
run_cmd 0 v release 02:00:00:00:00:fe
has out "released 02:00:00:00:00:fe: reservation"
run_cmd 2 v release not-a-mac
run_cmd 2 v release 02:00:c0:00:02:0a --devid 0
run_cmd 0 v release --domain $UUID_A
has out "released 02:00:c0:00:02:0a"
run_cmd 0 v list
lines out 0

# ---------------------------------------------------------------- gc
run_cmd 0 "$REGTOOL" "$R" claim 02:00:c0:00:02:0a '*' web1 $UUID_A 0 xenbr0 "192.0.2.10"
if [ -e /dev/xen/xenbus ] || [ -S /var/run/xenstored/socket ] || [ -S /run/xenstored/socket ]; then
	echo "SKIP: gc refusal (this host has xenstore)"
else
	# no xenstore: the running domains cannot be listed, so nothing may be released
	run_cmd 3 v gc
	has err "cannot list the running domains"
	has err "nothing released"
	run_cmd 3 v gc --dry-run
	run_cmd 0 v whois 02:00:c0:00:02:0a
fi
run_cmd 0 v gc --help
has out "Usage: vifmac gc"

# ---------------------------------------------------------------- text from the registry reaches terminals escaped
# a note and a domain name holding ESC sequences (a title change, a colour, a
# cursor move) and line breaks: human output shows them as \xNN, one line each
E=$(mktemp -d "$tmp/esc.XXXXXX")
RE="sqlite:$E/r.db"
esc=$(printf '\033')
run_cmd 0 "$VIFMAC" --registry "$RE" reserve 02:00:00:00:00:e1 --note "$(printf 'router\033]0;pwned\007\nFAKE 02:00:00:00:00:ff line')"
lacks out "$esc"
lines out 1
run_cmd 0 "$REGTOOL" "$RE" claim 02:00:00:00:00:e2 '*' "$(printf 'web\033[31mred\033[2J')" $UUID_A 0 xenbr0 192.0.2.30
for c in list "whois 02:00:00:00:00:e1" "whois 02:00:00:00:00:e2" "whois 192.0.2.30"; do
	# shellcheck disable=SC2086
	run_cmd 0 "$VIFMAC" --registry "$RE" $c
	lacks out "$esc"
	lacks out '^FAKE'
done
run_cmd 0 "$VIFMAC" --registry "$RE" list
lines out 3
has out 'router\\x1b\]0;pwned\\x07\\x0aFAKE 02:00:00:00:00:ff line'
has out 'web\\x1b\[31mred\\x1b\[2J'
run_cmd 1 "$VIFMAC" --registry "$RE" reserve 02:00:00:00:00:e1 --note again
lacks err "$esc"
one_line err
has err 'already reserved: router\\x1b'
run_cmd 1 "$VIFMAC" --registry "$RE" reserve 02:00:00:00:00:e2 --note again
lacks err "$esc"
has err 'held by domain web\\x1b\[31m'
# JSON keeps the text, escaped the JSON way
run_cmd 0 "$VIFMAC" --registry "$RE" list --json
has out '"note": "router\\u001b\]0;pwned\\u0007\\nFAKE'
# and an import brings such text in: shown escaped too
run_cmd 0 "$VIFMAC" --registry "$RE" export
cp "$tmp/out" "$E/export.json"
run_cmd 0 "$VIFMAC" --registry "sqlite:$E/r2.db" import "$E/export.json"
run_cmd 0 "$VIFMAC" --registry "sqlite:$E/r2.db" list
lacks out "$esc"
lines out 3

# ---------------------------------------------------------------- failures
run_cmd 2 "$VIFMAC" --registry "consul://127.0.0.1:8500" list
has err "unknown URL scheme"
head -c 8192 /dev/urandom >"$tmp/junk.db"
run_cmd 3 "$VIFMAC" --registry "sqlite:$tmp/junk.db" list
has err "$tmp/junk.db is corrupt"
for cmd in list whois reserve release gc export import; do
	run_cmd 0 "$VIFMAC" "$cmd" --help
	has out "Usage: vifmac $cmd"
done

finish
