#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac pool: check, import, list, show, allocate, remove; errors with file:line.
# On a SQLite registry; tests/integration/test-etcd-pool-cli.sh runs the same
# checks on an etcd cluster (POOL_TEST_REGISTRY, an empty one).
. "$TOP_SRCDIR/tests/cli/lib.sh"
P="$D/pools"
R="--registry ${POOL_TEST_REGISTRY:-sqlite:$tmp/r.db}"
cat >"$tmp/p.conf" <<CONF
public_bridges = [ "xenpub" ]
bridge_pools = [ "xenpub=ipam,block" ]
pool_quarantine = "1h"
CONF
C="--config $tmp/p.conf"

run 0 pool check "$P/table.txt" "$P/table.csv" "$P/range4.pool" "$P/recycled.pool"
has out "table.txt: table pool, 2 addresses, 0 warnings"
has out "range4.pool: range pool, 4 addresses"
has out "recycled.pool: recycled pool, 2 addresses"
run 0 pool check "$P/xen-range.txt"
has out "1 warning$"
run 2 pool check "$P/recycled.pool" "$P/recycled-overlap.pool"
has err "recycled.pool:2 and .*recycled-overlap.pool:1 overlap: both hold 00:1b:21:0a:0b:0d"
for f in malformed.txt dup-mac.txt dup-ip.txt multicast.txt mixed.txt reversed.pool span.pool no-note.pool \
	no-mac-column.csv short-row.csv prefix-short.pool two-ranges.pool; do
	run 2 pool check "$P/bad/$f"
	one_line err
	has err "bad/$f:[0-9]+: "
done

run 0 $R pool import ipam "$P/table.txt"
has out "^pool ipam: table, 2 addresses"
run 0 $R pool import block "$P/range4.pool"
run 1 $R pool import block2 "$P/range4.pool"
has err "overlaps pool block"
run 2 $R pool import "bad name" "$P/range4.pool"
run 2 $R pool import x "$P/bad/malformed.txt"
has err "malformed.txt:2:"

run 0 $R $C pool allocate --bridge xenpub --uuid 11111111-1111-4111-8111-111111111111 --devid 0 --domain a
is out "06:00:00:00:10:00"
run 0 $R $C pool allocate --bridge xenpub --uuid 22222222-2222-4222-8222-222222222222 --devid 0 --ip 198.51.100.10
is out "52:54:00:aa:00:10"
run 0 $R $C pool allocate --bridge xenpub --uuid 11111111-1111-4111-8111-111111111111 --devid 0
is out "06:00:00:00:10:00"
run 1 $R $C pool allocate --bridge xenpub --uuid 33333333-3333-4333-8333-333333333333 --devid 0 --ip 198.51.100.10
has err "52:54:00:aa:00:10 is held by domain"
run 1 $R $C pool allocate --bridge xenbr0 --uuid 33333333-3333-4333-8333-333333333333 --devid 0
has err "gives bridge xenbr0 no pools"
run 0 $R whois 06:00:00:00:10:00
has out "source pool:block"

run 0 $R $C pool list
has out "^block +range +4 +1 +0 +0 +3 "
has out "^ipam +table +2 +1 "
run 0 $R $C pool show block --json
checks=$((checks + 1))
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p["name"] == "block" and p["size"] == 4 and p["used"] == 1 and p["free"] == 3, p
' "$tmp/out" || fail "pool show --json"
run 2 $R pool show nosuch
has err "no pool \"nosuch\""

# exhaustion names the pool and its size
for i in 2 3 4; do
	run 0 $R $C pool allocate --bridge xenpub --uuid 4444444$i-0000-4000-8000-000000000000 --devid 0
done
run 1 $R $C pool allocate --bridge xenpub --uuid 55555555-0000-4000-8000-000000000000 --devid 0
has err "block \(range, 4 addresses\)"

run 0 $R pool remove ipam
run 1 $R pool remove ipam
run 2 pool frobnicate
run 0 pool --help
has out "^Usage: vifmac pool check FILE"
finish
