#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A 3-member etcd cluster on loopback ports, for the tests and the benchmark.
#
#   cluster.sh start DIR [--tls] [--auth]   start members 1-3; DIR/endpoints gets "url,url,url"
#   cluster.sh stop DIR                     stop every member (by PID) and remove DIR's data
#   cluster.sh kill DIR N                   kill -9 member N (1-3)
#   cluster.sh restart DIR N                start member N again on its data
#   cluster.sh health DIR                   exit 0 when every running member answers
#
# Ports come from a free block above 20000 (never etcd's 2379/2380: Debian's
# service may run there). --tls makes a CA, server and client certificates
# with openssl (DIR/ca.pem, DIR/client.pem, DIR/client-key.pem) and requires
# client certificates. --auth adds root and user "vifmac" (password in
# DIR/password, role with read-write on /vifmac/) and turns auth on.
# ETCD_EXTRA_ARGS adds options to every member (e.g. "--max-txn-ops 32").
# Exit 77 (the automake skip status) when etcd is not installed.
set -eu

die() { echo "cluster.sh: $*" >&2; exit 1; }

ETCD=${ETCD:-$(command -v etcd || true)}
ETCDCTL=${ETCDCTL:-$(command -v etcdctl || true)}

port_free() {
	! (ss -Htln 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]$1\$")
}

pick_ports() {
	# six consecutive free ports, starting from a pseudo-random block
	base=$(( 20000 + ($$ * 37 + $(date +%N | sed 's/^0*//;s/^$/0/') / 1000) % 30000 ))
	base=$(( base - base % 8 ))
	tries=0
	while :; do
		ok=1
		for i in 0 1 2 3 4 5; do
			port_free $((base + i)) || { ok=0; break; }
		done
		[ $ok = 1 ] && break
		base=$((base + 8))
		[ $base -gt 60000 ] && base=20000
		tries=$((tries + 1))
		[ $tries -gt 500 ] && die "no free block of ports"
	done
	echo $base
}

member_url() { # DIR N kind(client|peer)
	scheme=http
	[ -f "$1/tls" ] && scheme=https
	base=$(cat "$1/base")
	if [ "$3" = client ]; then
		echo "$scheme://127.0.0.1:$((base + 2 * ($2 - 1)))"
	else
		echo "$scheme://127.0.0.1:$((base + 2 * ($2 - 1) + 1))"
	fi
}

make_certs() { # DIR
	d=$1
	(
		cd "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vifmac test CA" \
			-keyout ca-key.pem -out ca.pem >/dev/null 2>&1
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > ext.cnf
		for who in server peer client; do
			subj="/CN=$who"
			# the JSON gateway refuses client certificates with a CommonName (etcd 3.4)
			[ $who = client ] && subj="/O=vifmac test client"
			openssl req -newkey rsa:2048 -nodes -subj "$subj" -keyout "$who-key.pem" -out "$who.csr" \
				>/dev/null 2>&1
			openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
				-extfile ext.cnf -out "$who.pem" >/dev/null 2>&1
		done
		# a second CA, for "wrong CA" tests
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
			-keyout other-ca-key.pem -out other-ca.pem >/dev/null 2>&1
		chmod 600 ./*-key.pem
	) || die "openssl could not make the test certificates"
}

start_member() { # DIR N
	d=$1
	n=$2
	cluster=""
	for i in 1 2 3; do
		cluster="${cluster:+$cluster,}m$i=$(member_url "$d" $i peer)"
	done
	state=new
	[ -d "$d/m$n" ] && state=existing
	tls=""
	if [ -f "$d/tls" ]; then
		tls="--cert-file=$d/server.pem --key-file=$d/server-key.pem --trusted-ca-file=$d/ca.pem --client-cert-auth
		     --peer-cert-file=$d/peer.pem --peer-key-file=$d/peer-key.pem --peer-trusted-ca-file=$d/ca.pem
		     --peer-client-cert-auth"
	fi
	# shellcheck disable=SC2086
	setsid "$ETCD" --name "m$n" --data-dir "$d/m$n" \
		--listen-client-urls "$(member_url "$d" "$n" client)" \
		--advertise-client-urls "$(member_url "$d" "$n" client)" \
		--listen-peer-urls "$(member_url "$d" "$n" peer)" \
		--initial-advertise-peer-urls "$(member_url "$d" "$n" peer)" \
		--initial-cluster "$cluster" --initial-cluster-state "$state" \
		--initial-cluster-token "vifmac-test-$(cat "$d/base")" \
		--heartbeat-interval 50 --election-timeout 500 \
		--log-level error --logger zap $tls ${ETCD_EXTRA_ARGS:-} \
		>>"$d/m$n.log" 2>&1 </dev/null &
	echo $! > "$d/m$n.pid"
}

ctl() { # DIR args...
	d=$1
	shift
	if [ -f "$d/tls" ]; then
		ETCDCTL_API=3 "$ETCDCTL" --endpoints "$(cat "$d/endpoints")" --cacert "$d/ca.pem" \
			--cert "$d/client.pem" --key "$d/client-key.pem" --dial-timeout 2s --command-timeout 5s "$@"
	else
		ETCDCTL_API=3 "$ETCDCTL" --endpoints "$(cat "$d/endpoints")" --dial-timeout 2s --command-timeout 5s "$@"
	fi
}

health() { # DIR
	d=$1
	for i in 1 2 3; do
		[ -f "$d/m$i.pid" ] && kill -0 "$(cat "$d/m$i.pid")" 2>/dev/null || continue
		if [ -f "$d/tls" ]; then
			curl -sf --max-time 2 --cacert "$d/ca.pem" --cert "$d/client.pem" --key "$d/client-key.pem" \
				"$(member_url "$d" $i client)/health" | grep -q '"health":"true"' || return 1
		else
			curl -sf --max-time 2 "$(member_url "$d" $i client)/health" | grep -q '"health":"true"' || return 1
		fi
	done
	return 0
}

wait_healthy() { # DIR
	for _ in $(seq 1 100); do
		health "$1" && return 0
		sleep 0.1
	done
	return 1
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: cluster.sh start|stop|kill|restart|health DIR [...]"

case $cmd in
start)
	[ -x "$ETCD" ] || { echo "cluster.sh: etcd is not installed (apt-get install etcd-server)" >&2; exit 77; }
	command -v curl >/dev/null || { echo "cluster.sh: curl is not installed" >&2; exit 77; }
	mkdir -p "$dir"
	shift 2
	tls=0
	auth=0
	for a in "$@"; do
		case $a in
		--tls) tls=1 ;;
		--auth) auth=1 ;;
		*) die "unknown option $a" ;;
		esac
	done
	pick_ports > "$dir/base"
	if [ $tls = 1 ]; then
		command -v openssl >/dev/null || { echo "cluster.sh: openssl is not installed" >&2; exit 77; }
		: > "$dir/tls"
		make_certs "$dir"
	fi
	eps=""
	for i in 1 2 3; do
		eps="${eps:+$eps,}$(member_url "$dir" $i client)"
	done
	echo "$eps" > "$dir/endpoints"
	for i in 1 2 3; do
		start_member "$dir" $i
	done
	if ! wait_healthy "$dir"; then
		tail -n 20 "$dir"/m*.log >&2 || true
		die "the cluster did not become healthy in 10 s"
	fi
	if [ $auth = 1 ]; then
		[ -x "$ETCDCTL" ] || { echo "cluster.sh: etcdctl is not installed (etcd-client)" >&2; exit 77; }
		echo "vifmac-secret-$$" > "$dir/password"
		chmod 600 "$dir/password"
		ctl "$dir" user add root:rootpw >/dev/null
		ctl "$dir" user grant-role root root >/dev/null
		ctl "$dir" role add vifmac >/dev/null
		ctl "$dir" role grant-permission vifmac --prefix=true readwrite /vifmac/ >/dev/null
		ctl "$dir" user add "vifmac:$(cat "$dir/password")" >/dev/null
		ctl "$dir" user grant-role vifmac vifmac >/dev/null
		ctl "$dir" auth enable >/dev/null
	fi
	;;
stop)
	for i in 1 2 3; do
		if [ -f "$dir/m$i.pid" ]; then
			pid=$(cat "$dir/m$i.pid")
			kill "$pid" 2>/dev/null || true
		fi
	done
	for i in 1 2 3; do
		if [ -f "$dir/m$i.pid" ]; then
			pid=$(cat "$dir/m$i.pid")
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null || true
			rm -f "$dir/m$i.pid"
		fi
	done
	rm -rf "$dir"/m1 "$dir"/m2 "$dir"/m3
	;;
kill)
	n=${3:?member number}
	pid=$(cat "$dir/m$n.pid")
	kill -9 "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$dir/m$n.pid"
	;;
restart)
	n=${3:?member number}
	start_member "$dir" "$n"
	wait_healthy "$dir" || die "member $n did not come back in 10 s"
	;;
health)
	health "$dir"
	;;
url)
	member_url "$dir" "${3:?member number}" client
	;;
*)
	die "unknown command $cmd"
	;;
esac
