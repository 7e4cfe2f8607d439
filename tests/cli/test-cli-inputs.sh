#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Files that are not files, and files that are very large (docs/security.md):
# a FIFO in the place of each input file is refused at once, never waited
# on; repeats in long policy lists and pool files are found in n log n;
# import refuses an oversized input before parsing it.
: "${TOP_SRCDIR:?run through make check}"
. "$TOP_SRCDIR/tests/cli/lib.sh"

# in_time SECONDS WANT_STATUS CMD...: run_cmd, killed (exit 124) after SECONDS
# (times VIFMAC_TEST_TIME_SCALE: tests/valgrind/run.sh runs the CLI ~20 times slower)
in_time() {
	s=$(($1 * ${VIFMAC_TEST_TIME_SCALE:-1}))
	shift
	w=$1
	shift
	run_cmd "$w" timeout "$s" "$@"
}

# ------------------------------------------------------------ FIFOs
mkfifo "$tmp/fifo"
in_time 10 2 "$VIFMAC" --config "$tmp/fifo" derive --bridge xenbr0 --ip 192.0.2.10
has err "fifo: cannot read policy file: not a regular file"
printf 'public_bridges = [ "xenpub" ]\npublic_table = "%s"\n' "$tmp/fifo" >"$tmp/table.conf"
in_time 10 2 "$VIFMAC" --config "$tmp/table.conf" derive --bridge xenpub --ip 198.51.100.11
has err "cannot read $tmp/fifo: not a regular file"
in_time 10 2 "$VIFMAC" pool check "$tmp/fifo"
has err "cannot read pool file $tmp/fifo: not a regular file"
in_time 10 2 "$VIFMAC" --registry "sqlite:$tmp/r.db" pool import block "$tmp/fifo"
has err "cannot read pool file $tmp/fifo: not a regular file"
in_time 10 2 "$VIFMAC" plan "$tmp/fifo"
has err "fifo: cannot read domain config: not a regular file"
in_time 10 2 "$VIFMAC" --registry "sqlite:$tmp/r.db" import "$tmp/fifo"
has err "import: cannot open $tmp/fifo: not a regular file"
printf 'registry = "etcd:https://127.0.0.1:1"\netcd_user = "vifmac"\netcd_password_file = "%s"\n' "$tmp/fifo" \
	>"$tmp/etcd.conf"
in_time 10 3 "$VIFMAC" --config "$tmp/etcd.conf" list
has err "cannot read etcd_password_file $tmp/fifo: not a regular file"

# ------------------------------------------------------------ long lists, big files
# 200,000 bridges (took 44 s when every pair was compared): derive in a few seconds,
# and a repeat at the very end still found, naming its line
awk 'BEGIN { printf "private_bridges = [\n"; for (i = 0; i < 200000; i++) printf "\"br%d\",\n", i; printf "]\n" }' \
	>"$tmp/many.conf"
in_time 20 0 "$VIFMAC" --config "$tmp/many.conf" derive --bridge br199999 --ip 192.0.2.10
is out 02:00:c0:00:02:0a
sed 's/^]$/"br7",\n]/' "$tmp/many.conf" >"$tmp/many-dup.conf"
in_time 20 2 "$VIFMAC" --config "$tmp/many-dup.conf" derive --bridge br1 --ip 192.0.2.10
has err 'many-dup.conf:200002: private_bridges: bridge "br7" is listed twice'
awk 'BEGIN { printf "public_bridges = [\n"; for (i = 0; i < 100000; i++) printf "\"pb%d\",\n", i; printf "]\n";
	printf "private_bridges = [\n"; for (i = 0; i < 100000; i++) printf "\"qb%d\",\n", i; printf "\"pb99999\" ]\n" }' \
	>"$tmp/both.conf"
in_time 20 2 "$VIFMAC" --config "$tmp/both.conf" derive --bridge xenbr0 --ip 192.0.2.10
has err 'both.conf:100001: bridge "pb99999" is in both public_bridges and private_bridges \(line 200004\)'
# 200,000 recycled addresses in a pool file (4 MB: the most a file may hold is 4 MiB), and another file overlapping it at its last one
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "06:42:%02x:%02x:%02x:00 r\n", i / 65536, (i / 256) % 256, i % 256 }' \
	>"$tmp/many.pool"
in_time 20 0 "$VIFMAC" pool check "$tmp/many.pool"
printf '06:00:00:00:00:01 r\n06:42:03:0d:3f:00 r\n' >"$tmp/other.pool"
in_time 20 2 "$VIFMAC" pool check "$tmp/many.pool" "$tmp/other.pool"
has err "overlap: both hold 06:42:03:0d:3f:00"
has err "many.pool:200000 "
has err "other.pool:2 "
printf '06:42:00:00:05:00 again\n' >>"$tmp/many.pool"
in_time 20 2 "$VIFMAC" pool check "$tmp/many.pool"
has err 'many.pool:200001: 06:42:00:00:05:00 is given twice \(first at line 6\)'
# import: more than 64 MiB is refused before parsing
truncate -s 65M "$tmp/huge.json"
in_time 20 2 "$VIFMAC" --registry "sqlite:$tmp/r.db" import "$tmp/huge.json"
has err "import: $tmp/huge.json is larger than 64 MiB"
in_time 20 2 sh -c "cat '$tmp/huge.json' | '$VIFMAC' --registry 'sqlite:$tmp/r.db' import -"
has err "import: - is larger than 64 MiB"

finish
