#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vifmac derive, --help, --version, global options and exit statuses.
. "$TOP_SRCDIR/tests/cli/lib.sh"

# the issue's acceptance line
run 0 derive --config "$D/example.conf" --bridge xenbr0 --ip 192.0.2.10
is out "02:00:c0:00:02:0a"
empty err
# global options before the command, VIFMAC_CONFIG, built-in defaults
run 0 --config "$D/example.conf" derive --bridge xenbr1 --ip 192.0.2.10
is out "02:13:c0:00:02:0a"
VIFMAC_CONFIG="$D/example.conf" run 0 derive --bridge xenlocal --ip "fd00::1 10.9.8.7"
is out "02:00:0a:09:08:07"
run 0 --config "$D/example.conf" derive --bridge xenpub --ip 198.51.100.10
is out "52:54:00:aa:00:10"
run 0 --config "$D/example.conf" derive --bridge xenbr0 --ip 192.0.2.10 --verbose
has err "rule ip-derived \(private bridge, scope global\): prefix 02:00 \+ 192.0.2.10"

# refusals: exit 1, one line, nothing on stdout
run 1 --config "$D/example.conf" derive --bridge xenpub --ip 198.51.100.99
empty out
one_line err
has err "198.51.100.99 is not in the operator's table"
run 1 --config "$D/example.conf" derive --bridge xenlocal --ip 192.0.2.10
has err "10.x.x.x only, not 192.0.2.10"
run 1 --config "$D/example.conf" derive --bridge xenbr0 --ip "2001:db8::1"
has err "no_ipv4 = \"refuse\""
run 1 --config "$D/strict.conf" derive --bridge xenbr9 --ip 192.0.2.10
has err "unlisted_bridges = \"refuse\""
run 1 --config "$D/example.conf" derive --bridge xenbr0 --ip 192.0.2.10 --mac 00:16:3e:01:02:03
has err "mac=00:16:3e:01:02:03 differs from the policy's 02:00:c0:00:02:0a"
run 0 --config "$D/strict.conf" derive --bridge xenbr0 --ip 192.0.2.10 --mac 52:54:00:01:02:03
is out "52:54:00:01:02:03"
run 0 --config "$D/strict.conf" derive --bridge xenbr0 --uuid 6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b --devid 0
has out "^[0-9a-f][26ae](:[0-9a-f]{2}){5}$"

# bad input: exit 2, one line naming the input
for ip in 192.0.2.010 10.1 0x0a.0.0.1 192.0.2.256 "192.0.2.1x" "1.2.3.4/33" "fe80::zz"; do
	run 2 --config "$D/example.conf" derive --bridge xenbr0 --ip "$ip"
	one_line err
	has err "\"$(printf '%s' "$ip" | sed 's/[.]/[.]/g')\" is not an IPv4 or IPv6 address"
done
for mac in 02:00:c0:00:02 02-00-c0-00-02-0a 2:0:c0:0:2:a "02:00:c0:00:02:0a "; do
	run 2 --config "$D/example.conf" derive --bridge xenbr0 --ip 192.0.2.10 --mac "$mac"
	has err "not a MAC address"
done
run 2 --config "$D/example.conf" derive --bridge xenbr0 --ip 192.0.2.10 --mac 01:00:5e:00:00:01
has err "multicast"
run 2 derive --ip 192.0.2.10
has err "--bridge is required"
run 2 derive --bridge xenbr0 --devid 0x1
has err "--devid \"0x1\""
run 2 derive --bridge xenbr0 stray
has err "unexpected argument"

# every malformed policy: exit 2, one line with file:line
for f in prefix-multicast prefix-global prefix-03 prefix-long prefix-dash both-lists unknown-key bad-scope \
	bad-unlisted bad-no-ipv4 bad-explicit bridge-prefix-no-eq bridge-prefix-multicast twice prefix-list \
	bridges-string syntax table-bad table-dup table-multicast table-missing bad-registry bad-bridge-name; do
	run 2 --config "$D/bad/$f.conf" derive --bridge xenbr0 --ip 192.0.2.10
	empty out
	one_line err
	has err "^vifmac: .*(bad/$f\.conf|-table\.txt):[0-9]+: "
done
run 2 --config /nonexistent/vifmac.conf derive --bridge xenbr0 --ip 192.0.2.10
has err "/nonexistent/vifmac.conf: cannot read policy file"
run 2 --config derive --bridge xenbr0
has err "unknown command|needs"
run 2 --config
has err "--config needs a value"

# usage, help, version
run 2
has err "^Usage: vifmac"
run 2 frobnicate
has err "unknown command \"frobnicate\""
run 0 --help
has out "^  derive "
has out "^Exit status: 0 success, 1 refused"
run 0 derive --help
has out "^Usage: vifmac derive --bridge"
run 0 --version
has out "^vifmac [0-9]+\.[0-9]+\.[0-9]+$"
# --help works even with a broken policy in the environment
VIFMAC_CONFIG="$D/bad/syntax.conf" run 0 plan --help

finish
