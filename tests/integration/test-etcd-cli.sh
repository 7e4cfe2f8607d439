#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The CLI on an etcd registry (a real 3-member cluster on loopback ports):
# a malformed etcd: URL refused with exit 2, list and whois, and
# vifmac migrate-registry from SQLite to etcd and back, refusing on
# conflicts and listing them. The members allow 32 operations per
# transaction, so a large migration goes in parts.
: "${TOP_SRCDIR:?run through make check}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
: "${TOP_BUILDDIR:?run through make check}"
REGTOOL="$TOP_BUILDDIR/tests/integration/regtool"
CLUSTER="$TOP_SRCDIR/tests/etcd/cluster.sh"
cleanup() {
	"$CLUSTER" stop "$tmp/cluster" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
UUID_A=11111111-1111-1111-1111-111111111111
UUID_B=22222222-2222-2222-2222-222222222222

# ------------------------------------------------------------ the command line (no cluster needed)
# (the etcd_* keys and etcd: URLs of a policy file: tests/unit/test-policy.c)
conf() { printf '%s\n' "$@" > "$tmp/p.conf"; }
conf 'registry = "etcd:ftp://h1:2379"'
run_cmd 2 "$VIFMAC" --config "$tmp/p.conf" list
has err 'p.conf:1: registry: "etcd:ftp://h1:2379": endpoint "ftp://h1:2379" is not http\(s\)://HOST:PORT'
run_cmd 2 "$VIFMAC" --registry "etcd://127.0.0.1:2379" list
has err 'registry etcd://127.0.0.1:2379: endpoint "//127.0.0.1:2379" is not http\(s\)://HOST:PORT'

# ------------------------------------------------------------ a cluster
ETCD_EXTRA_ARGS="--max-txn-ops 32" "$CLUSTER" start "$tmp/cluster" >"$tmp/cluster.log" 2>&1
rc=$?
if [ $rc != 0 ]; then
	cat "$tmp/cluster.log" >&2
	echo "*** SKIP: test-etcd-cli: cannot start a 3-member etcd cluster (install etcd-server) ***" >&2
	exit 77
fi
E="etcd:$(cat "$tmp/cluster/endpoints")"
S="sqlite:$tmp/host-a.db"
conf "registry = \"$E\"" 'etcd_timeout_ms = 3000'
P="$tmp/p.conf"

# a host's SQLite registry: 40 claims, a reservation
i=0
while [ $i -lt 40 ]; do
	hex=$(printf '%02x' $i)
	run_cmd 0 "$REGTOOL" "$S" claim "02:00:0a:00:00:$hex" '*' "web$i" "$UUID_A" "$i" xenbr0 "10.0.0.$i"
	i=$((i + 1))
done
run_cmd 0 "$VIFMAC" --registry "$S" reserve 02:00:0a:00:00:fe --note "router"

# into the cluster: in parts (40 records need more than 32 operations), then all there
run_cmd 0 "$VIFMAC" --config "$P" migrate-registry --from "$S" --to "$E"
has out "copied 41 records from $S to $E"
has err 'too many for one transaction'
run_cmd 0 "$VIFMAC" --config "$P" list
lines out 42 # a header and 41 records
has out '02:00:0a:00:00:07 .*web7'
run_cmd 0 "$VIFMAC" --config "$P" whois 10.0.0.7
has out 'web7'
run_cmd 0 "$VIFMAC" --config "$P" whois 02:00:0a:00:00:fe
has out 'router'
# again: the same owners, no conflict
run_cmd 0 "$VIFMAC" --config "$P" migrate-registry --from "$S" --to "$E"

# another host's registry with two of those MACs for other domains: refused, both listed, nothing copied
S2="sqlite:$tmp/host-b.db"
run_cmd 0 "$REGTOOL" "$S2" claim 02:00:0a:00:00:03 '*' db3 "$UUID_B" 0 xenbr0 10.1.0.3
run_cmd 0 "$REGTOOL" "$S2" claim 02:00:0a:00:00:05 '*' db5 "$UUID_B" 1 xenbr0 10.1.0.5
run_cmd 0 "$REGTOOL" "$S2" claim 02:00:0a:00:01:00 '*' db9 "$UUID_B" 2 xenbr0 10.1.0.9
run_cmd 1 "$VIFMAC" --config "$P" migrate-registry --dry-run --from "$S2" --to "$E"
has out 'conflict: 02:00:0a:00:00:03 .*db3.*held in .* by domain web3'
has out '3 records in .* 2 conflicts'
run_cmd 1 "$VIFMAC" --config "$P" migrate-registry --from "$S2" --to "$E"
has out 'conflict: 02:00:0a:00:00:03 \(scope \*\) of domain db3 .* by domain web3 \(uuid 11111111-'
has out 'conflict: 02:00:0a:00:00:05 '
has err '2 conflicts .*nothing copied'
run_cmd 1 "$VIFMAC" --config "$P" whois 02:00:0a:00:01:00
run_cmd 0 "$VIFMAC" --config "$P" list
lines out 42

# and back: the cluster into a new SQLite file, the same records
S3="sqlite:$tmp/back.db"
run_cmd 0 "$VIFMAC" --config "$P" migrate-registry --from "$E" --to "$S3"
has out 'copied 41 records'
"$VIFMAC" --registry "$S" list >"$tmp/a" 2>&1
"$VIFMAC" --registry "$S3" list >"$tmp/b" 2>&1
cmp -s "$tmp/a" "$tmp/b" || { fail "the round trip changed the records"; diff "$tmp/a" "$tmp/b" >&2; }

# usage
run_cmd 2 "$VIFMAC" migrate-registry --from "$S"
run_cmd 2 "$VIFMAC" migrate-registry --from "$S" --to "$S"

# a member (or a proxy in its place) answering JSON of the wrong shape:
# refused naming the registry, exit 3 -- json-c aborts the process if an
# object reaches its array calls (tests/fuzz/fuzz-etcd-answer.c)
wrong_member() { # BODY: serve BODY to every POST on a free loopback port, written to $tmp/port
	rm -f "$tmp/port"
	python3 "$TOP_SRCDIR/tests/etcd/hostile-gateway.py" body "$tmp/port" "$tmp/member.log" "$1" &
	wrong_pid=$!
	for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
}
for body in '{"header":{"revision":"3"},"responses":{"response_range":{}}}' \
	'{"header":{"revision":"3"},"responses":[{"response_range":{"kvs":{"key":"eA=="}}}]}' \
	'{"header":{"revision":"3"},"responses":[{"response_range":{"kvs":[{"key":null}]}}]}' \
	'{"header":{"revision":"3"},"responses":[{"response_range":{"kvs":[{"key":"L3ZpZm1hYy9tL3g=","value":"bm90IGpzb24="}]}}]}'; do
	wrong_member "$body"
	run_cmd 3 "$VIFMAC" --registry "etcd:http://127.0.0.1:$(cat "$tmp/port")" list
	has err 'registry etcd:http://127\.0\.0\.1:[0-9]+(: |.* is corrupt: )(an answer without the ranges asked for|a range whose kvs is not a list|a key-value without a key|key /vifmac/m/x holds no vifmac record)'
	kill "$wrong_pid" 2>/dev/null
	wait "$wrong_pid" 2>/dev/null
done

# libcurl missing (the etcd backend dlopen()s it): its file hidden in a
# mount namespace of the command's own; a clear refusal naming the library
# and its package, and the SQLite default unaffected
hide_curl() { unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$curl" "$@"; }
curl=$(ldconfig -p | awk '/^[[:space:]]*libcurl\.so\.4 .*x86-64/ { print $NF; exit }')
if [ -n "$curl" ] && unshare -m true 2>/dev/null; then
	run_cmd 3 hide_curl "$VIFMAC" --config "$P" list
	has err 'the etcd backend needs libcurl\.so\.4 \(Debian package libcurl4\)'
	run_cmd 0 hide_curl "$VIFMAC" --registry "$S" list
	cmp -s "$tmp/out" "$tmp/a" || fail "the SQLite list without libcurl differs from the list with it"
else
	echo "SKIP (this part only): cannot hide libcurl.so.4 (no mount namespace, or ldconfig does not list it)"
fi

# the cluster gone: a clear refusal naming the endpoints
"$CLUSTER" stop "$tmp/cluster" >/dev/null 2>&1
run_cmd 3 "$VIFMAC" --config "$P" list
has err 'no etcd member answered within 3000 ms \(http://127.0.0.1:[0-9]+: .*onnect'

finish
