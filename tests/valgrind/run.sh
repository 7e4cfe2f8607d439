#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# valgrind memcheck over the CLI and helper tests: zero errors, zero leaks.
#   tests/valgrind/run.sh BUILDDIR [PATTERN]   (PATTERN: only tests whose path matches it, grep -E)
# BUILDDIR is a configured build WITHOUT sanitizers (valgrind and ASan do not
# mix); its test programs are built here ("make check TESTS=").
#  - every tests/cli/test-cli-*.sh (and tests/hook/test-hook.sh and
#    tests/net/test-wire.sh when present) runs with VIFMAC pointing at a
#    wrapper that runs the real binary (tools/.libs/vifmac, not libtool's
#    wrapper script) under valgrind; in tests/hook/test-hook.sh the hook
#    program (hook/vif-vifmac, a real program) runs under valgrind too
#    (HOOK_RUNNER, tests/hook/lib.sh), up to its exec of the network script;
#  - every cmocka unit test binary, and the registry contract suite on SQLite
#    (8 racing processes instead of 64), runs under valgrind itself.
# One check per test script or program: it passes when the test passes AND
# valgrind logged nothing (no error, no definite or indirect leak) in any of
# the processes it ran. Ends with "valgrind: N checks, M failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${1:?usage: tests/valgrind/run.sh BUILDDIR [PATTERN]}
only=${2:-.}
b=$(cd "$b" && pwd)
checks=0
failed=0

if ! command -v valgrind >/dev/null; then
	echo "valgrind: SKIP: valgrind is not installed (scripts/install-deps --tests)"
	echo "valgrind: 0 checks, 0 failed"
	exit 0
fi
if grep -q -- '-fsanitize' "$b/Makefile" 2>/dev/null && grep -q '^SANITIZER_CFLAGS = -fsanitize' "$b/Makefile"; then
	echo "valgrind: $b is a sanitizer build; valgrind needs a plain one"
	echo "valgrind: 1 checks, 1 failed"
	exit 1
fi
if ! make -C "$b" -s -j2 all >/dev/null 2>&1 || ! make -C "$b" -s -j2 check TESTS= >/dev/null 2>&1; then
	echo "valgrind: cannot build the tests in $b"
	echo "valgrind: 1 checks, 1 failed"
	exit 1
fi

tmp=$(mktemp -d /tmp/vifmac-valgrind.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# the skip filter for the lock-contention tests (see cmocka-skip.c)
if ! cc -shared -fPIC -o "$tmp/cmocka-skip.so" "$top/tests/valgrind/cmocka-skip.c" -ldl -lcmocka; then
	echo "valgrind: cannot build cmocka-skip.so"
	echo "valgrind: 1 checks, 1 failed"
	exit 1
fi
# tests where one process waits for the writer lock another holds: under valgrind
# 3.19 they hang (F_OFD_SETLKW); they run in make check and the sanitizer build
skip_contention='*lock*'
vgopts=(--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
	--show-leak-kinds=definite,indirect --track-fds=no -q
	--suppressions="$top/tests/valgrind/xlutil.supp" --suppressions="$top/tests/valgrind/nftables.supp"
	--suppressions="$top/tests/valgrind/glibc.supp")
libpath=$b/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# the real binary behind libtool's wrapper script
real() {
	local d=${1%/*} n=${1##*/}
	if [ -x "$d/.libs/$n" ]; then echo "$d/.libs/$n"; elif [ -x "$d/.libs/lt-$n" ]; then echo "$d/.libs/lt-$n"; else echo "$1"; fi
}

cat >"$tmp/vifmac" <<WRAP
#!/bin/sh
# vifmac under valgrind memcheck (tests/valgrind/run.sh)
LD_LIBRARY_PATH='$libpath' exec valgrind ${vgopts[*]} --log-file='$tmp/logs/vifmac.%p.log' '$(real "$b/tools/vifmac")' "\$@"
WRAP
chmod +x "$tmp/vifmac"

# verdict NAME STATUS: one check; the test's status and valgrind's logs
verdict() {
	local name=$1 rc=$2 logs
	checks=$((checks + 1))
	logs=$(find "$tmp/logs" -type f -size +0 2>/dev/null)
	if [ "$rc" -eq 77 ] && [ -z "$logs" ]; then
		echo "SKIP: $name (the test skipped itself)"
	elif [ "$rc" -eq 0 ] && [ -z "$logs" ]; then
		echo "PASS: $name"
	else
		failed=$((failed + 1))
		echo "FAIL: $name (exit $rc)"
		tail -n 30 "$tmp/run.log" | sed 's/^/  | /'
		for l in $logs; do
			echo "  valgrind log $l:"
			head -n 60 "$l" | sed 's/^/  | /'
		done
	fi
}

export TOP_SRCDIR=$top TOP_BUILDDIR=$b TEST_DATA_DIR=$top/tests/data VIFMAC=$tmp/vifmac
# the limits that tell a hang (a FIFO) or a quadratic loop from work, for the slower CLI here
export VIFMAC_TEST_TIME_SCALE=15
unset ASAN_OPTIONS UBSAN_OPTIONS

scripts=("$top"/tests/cli/test-cli-*.sh)
[ -f "$top/tests/hook/test-hook.sh" ] && [ -f "$b/tests/fake/.libs/libfakexs.so" ] && scripts+=("$top/tests/hook/test-hook.sh")
[ -f "$top/tests/net/test-wire.sh" ] && scripts+=("$top/tests/net/test-wire.sh")
for t in "${scripts[@]}"; do
	echo "$t" | grep -Eq -- "$only" || continue
	rm -rf "$tmp/logs"
	mkdir -p "$tmp/logs"
	(cd "$b" && HOOK_RUNNER="valgrind ${vgopts[*]} --log-file=$tmp/logs/hook.%p.log" timeout 900 bash "$t") \
		>"$tmp/run.log" 2>&1
	verdict "${t#$top/}" $?
done

for t in "$b"/tests/unit/test-* "$b"/tests/contract/test-registry-contract; do
	[ -x "$t" ] && [ ! -d "$t" ] || continue
	case $t in *.log | *.trs | *.o) continue ;; esac
	echo "$t" | grep -Eq -- "$only" || continue
	rm -rf "$tmp/logs"
	mkdir -p "$tmp/logs"
	(cd "$b" && LD_LIBRARY_PATH=$libpath LD_PRELOAD="$tmp/cmocka-skip.so" VIFMAC_CMOCKA_SKIP=$skip_contention \
		VIFMAC_FAULT_KILLS=${VIFMAC_FAULT_KILLS:-20} VIFMAC_CONTRACT_RACERS=8 VIFMAC_CONTRACT_URL= timeout 900 valgrind "${vgopts[@]}" \
		--log-file="$tmp/logs/unit.%p.log" "$(real "$t")") >"$tmp/run.log" 2>&1
	verdict "${t#$b/}" $?
done
echo "valgrind: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
