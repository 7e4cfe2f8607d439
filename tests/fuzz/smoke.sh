#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fuzz smoke run (scripts/run-tests): builds the targets (tests/fuzz/build.sh),
# then runs each one for a short fixed time on its seed corpus
# tests/fuzz/corpus/<target>/ -- which also holds every crash ever found, so
# each is replayed first. New inputs go to a scratch folder, never into the
# seed corpus.
#   tests/fuzz/smoke.sh [SECONDS_PER_TARGET]      (default 6: about 40 s in all)
# Ends with "fuzz-smoke: N checks, M failed" (one check per target).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$top/build-fuzz}
secs=${1:-6}
checks=0
failed=0

mkdir -p "$out"
"$top/tests/fuzz/build.sh" "$out" >"$out/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	cat "$out/build.log"
	if [ $rc -eq 77 ]; then
		echo "fuzz-smoke: SKIP: no clang"
		echo "fuzz-smoke: 0 checks, 0 failed"
		exit 0
	fi
	echo "fuzz-smoke: build failed"
	echo "fuzz-smoke: 1 checks, 1 failed"
	exit 1
fi

# libxlutil's own leak on lexical errors (see lsan.supp)
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
scratch=$(mktemp -d /tmp/vifmac-fuzz-smoke.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$out/artifacts"
for bin in "$out"/fuzz-*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	seeds=$top/tests/fuzz/corpus/${name#fuzz-}
	mkdir -p "$scratch/$name"
	checks=$((checks + 1))
	# -rss_limit_mb: a leak or a runaway allocation fails the run too
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$name-" "$scratch/$name" "$seeds" \
		>"$scratch/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$name.log")
		cov=$(grep -o 'cov: [0-9]*' "$scratch/$name.log" | tail -n1)
		echo "PASS: $name ($runs runs in ${secs}s, $cov)"
	else
		failed=$((failed + 1))
		echo "FAIL: $name"
		grep -E 'ERROR|SUMMARY|property failed|Test unit written|^    #[0-9]' "$scratch/$name.log" | head -n 30
	fi
done
echo "fuzz-smoke: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
