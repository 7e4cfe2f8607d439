#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# etcd answers are data from the network (docs/security.md): a hostile
# member or proxy on loopback (tests/etcd/hostile-gateway.py) and what the
# CLI does with what it sends; where credentials may travel; proxies from
# the environment. Needs python3 only (no etcd).
: "${TOP_SRCDIR:?run through make check}"
. "$TOP_SRCDIR/tests/cli/lib.sh"
GATEWAY="$TOP_SRCDIR/tests/etcd/hostile-gateway.py"
gw_pids=
cleanup() {
	for p in $gw_pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
conf() { printf '%s\n' "$@" >"$tmp/p.conf"; }
printf 'secret\n' >"$tmp/pw"
chmod 0600 "$tmp/pw"

# gateway NAME MODE [ARG]: starts one; its port in $NAME_port is read by port NAME, its log is $tmp/NAME.log
gateway() {
	rm -f "$tmp/$1.port"
	: >"$tmp/$1.log"
	python3 "$GATEWAY" "$2" "$tmp/$1.port" "$tmp/$1.log" ${3:+"$3"} &
	gw_pids="$gw_pids $!"
	for _ in $(seq 100); do [ -s "$tmp/$1.port" ] && break; sleep 0.05; done
	[ -s "$tmp/$1.port" ] || fail "gateway $1 ($2) did not start"
}
port() { cat "$tmp/$1.port"; }
# rusage CMD...: runs CMD (output in $tmp/out, $tmp/err); its status, then
# "MAXRSS_KB CPU_SECONDS" in $tmp/rusage
rusage() {
	python3 -c '
import resource, subprocess, sys
with open(sys.argv[1] + "/out", "w") as o, open(sys.argv[1] + "/err", "w") as e:
    rc = subprocess.call(sys.argv[2:], stdout=o, stderr=e)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1] + "/rusage", "w").write("%d %.2f\n" % (r.ru_maxrss, r.ru_utime + r.ru_stime))
sys.exit(rc)' "$tmp" "$@"
}

# ------------------------------------------------------------ credentials and transport (policy, file:line)
gateway plain body '{"header":{"revision":"3"},"responses":[{"response_range":{}}]}'
P=$(port plain)
# (in a policy file: tests/unit/test-policy.c; here through the CLI, and what reaches the member)
conf "registry = \"etcd:http://127.0.0.1:$P\"" 'etcd_user = "vifmac"' "etcd_password_file = \"$tmp/pw\""
run 2 --config "$tmp/p.conf" list
has err 'p.conf:1: registry: .*credentials \(etcd_user\) are never sent over plain http://'
# the same credentials with a --registry of the command line: refused too, nothing sent
conf "registry = \"etcd:https://127.0.0.1:1\"" 'etcd_user = "vifmac"' "etcd_password_file = \"$tmp/pw\""
run 2 --config "$tmp/p.conf" --registry "etcd:http://127.0.0.1:$P" list
has err "registry etcd:http://127.0.0.1:$P: credentials \(etcd_user\) are never sent over plain http://"
checks=$((checks + 1))
[ ! -s "$tmp/plain.log" ] || fail "the http member got a request: $(cat "$tmp/plain.log")"

# ------------------------------------------------------------ proxies: only the policy's
gateway proxy proxy
X=http://127.0.0.1:$(port proxy)
conf "registry = \"etcd:http://127.0.0.1:$P\""
run_cmd 0 env http_proxy="$X" HTTP_PROXY="$X" https_proxy="$X" HTTPS_PROXY="$X" ALL_PROXY="$X" all_proxy="$X" \
	"$VIFMAC" --config "$tmp/p.conf" list
checks=$((checks + 1))
[ ! -s "$tmp/proxy.log" ] || fail "a proxy from the environment was used ($(wc -l <"$tmp/proxy.log") connections)"
checks=$((checks + 1))
[ -s "$tmp/plain.log" ] || fail "the member was not asked directly"
conf "registry = \"etcd:http://127.0.0.1:$P\"" "etcd_proxy = \"$X\"" 'etcd_timeout_ms = 500'
run_cmd 3 env NO_PROXY='*' no_proxy='*' "$VIFMAC" --config "$tmp/p.conf" list
checks=$((checks + 1))
[ -s "$tmp/proxy.log" ] || fail "etcd_proxy was not used (NO_PROXY from the environment took it away?)"

# ------------------------------------------------------------ answers
# a write answered with "succeeded": "false" (a string): not recorded, and not told as recorded
gateway str succeeded-string
conf "registry = \"etcd:http://127.0.0.1:$(port str)\""
run 3 --config "$tmp/p.conf" reserve 02:00:00:00:00:aa --note router
has err '"succeeded" is not true or false; nothing is known to be recorded'
lacks out 'reserved'

# a token holding CR/LF never reaches a request header (credentials: over https, a test certificate)
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1; then
	GATEWAY_CERT=$tmp/cert.pem GATEWAY_KEY=$tmp/key.pem gateway tok token-crlf
	conf "registry = \"etcd:https://127.0.0.1:$(port tok)\"" "etcd_cacert = \"$tmp/cert.pem\"" \
		'etcd_user = "vifmac"' "etcd_password_file = \"$tmp/pw\""
	run 3 --config "$tmp/p.conf" list
	has err 'cannot authenticate as "vifmac" .*a token that is not printable ASCII'
	checks=$((checks + 1))
	grep -q "auth/authenticate" "$tmp/tok.log" || fail "the member was not asked for a token: $(cat "$tmp/tok.log")"
	checks=$((checks + 1))
	if grep -qi 'X-Injected' "$tmp/tok.log"; then fail "a header chosen by the member was sent: $(cat "$tmp/tok.log")"; fi
	checks=$((checks + 1))
	if grep -q 'kv/' "$tmp/tok.log"; then fail "a request went out with the member's token: $(cat "$tmp/tok.log")"; fi
else
	echo "SKIP (this part only): openssl cannot make a test certificate"
fi

# an oversized answer (16 MiB of small key-values) is refused early, in little memory
gateway big oversized 16
conf "registry = \"etcd:http://127.0.0.1:$(port big)\"" 'etcd_timeout_ms = 3000'
rusage "$VIFMAC" --config "$tmp/p.conf" list
rc=$?
checks=$((checks + 1))
[ "$rc" = 3 ] || fail "list of a 16 MiB answer exited $rc, expected 3: $(cat "$tmp/err")"
has err 'refused an oversized answer .*larger than 4 MiB \(etcd_max_answer_mb\)'
read -r rss cpu <"$tmp/rusage"
echo "oversized answer (16 MiB): max RSS ${rss} kB, CPU ${cpu} s"
checks=$((checks + 1))
[ "$rss" -lt 102400 ] || fail "a 16 MiB answer took the process to $rss kB (bound: 100 MiB)"

# 10,000 and 40,000 records: listed once each, and the cost grows with the
# count, not with its square. Compared within this run (the machine's speed,
# its load and a sanitizer build cancel out): four times the records took
# about 4.5 times the CPU; comparing every pair took 16 times (3.5 s at 40,000).
list_records() { # N: lists N records from a gateway of its own, "CPU_SECONDS" in $cpu
	gateway many$1 records "$1"
	conf "registry = \"etcd:http://127.0.0.1:$(port many$1)\"" 'etcd_max_answer_mb = 64' 'etcd_timeout_ms = 20000' \
		'etcd_request_timeout_ms = 20000'
	rusage "$VIFMAC" --config "$tmp/p.conf" list
	rc=$?
	checks=$((checks + 1))
	[ "$rc" = 0 ] || fail "list of $1 records exited $rc: $(head -c 300 "$tmp/err")"
	lines out $(($1 + 1))
	read -r rss cpu <"$tmp/rusage"
	echo "$1 records: max RSS ${rss} kB, CPU ${cpu} s"
}
list_records 10000
cpu10=$cpu
list_records 40000
checks=$((checks + 1))
awk -v a="$cpu10" -v b="$cpu" 'BEGIN { exit !(b < 8 * a + 0.3) }' ||
	fail "listing 40,000 records took $cpu s of CPU, 10,000 took $cpu10 s: it grows faster than n log n"

finish
