#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The differential test's corpus (tests/e2e/xl-diff.corpus), on the build
# host where there is no xl: at least 60 configs; every record listed as a
# deliberate refusal is refused by vifmac plan (exit 2, no plan printed);
# every other record is read or refused without a crash. The comparison
# with the real xl is scenario s of the end-to-end suite.
. "$TOP_SRCDIR/tests/cli/lib.sh"
. "$TOP_SRCDIR/tests/e2e/xl-diff.sh"
C="--config $D/example.conf"

ids=$(xd_split "$TOP_SRCDIR/tests/e2e/xl-diff.corpus" "$tmp")
n=$(echo $ids | wc -w)
checks=$((checks + 1))
[ "$n" -ge 60 ] || fail "only $n configs in the corpus"
nrefuse=0
for id in $ids; do
	xl=""
	[ -f "$tmp/$id.xlconf" ] && xl="$tmp/$id.xlconf"
	checks=$((checks + 1))
	"$VIFMAC" $C plan --json --xl-conf "$xl" "$tmp/$id.cfg" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ -s "$tmp/$id.why" ]; then
		nrefuse=$((nrefuse + 1))
		{ [ $rc = 2 ] && [ ! -s "$tmp/out" ] && [ -s "$tmp/err" ]; } ||
			fail "$id is listed as a deliberate refusal ($(cat "$tmp/$id.why")), but plan exits $rc: $(cat "$tmp/out" "$tmp/err")"
	else
		[ $rc -le 2 ] || fail "$id: plan exits $rc: $(cat "$tmp/err")"
	fi
done
checks=$((checks + 1))
[ "$nrefuse" -ge 10 ] || fail "only $nrefuse deliberate refusals found: is the REFUSE marker still parsed?"
echo "corpus: $n configs, $nrefuse deliberate refusals"
finish
