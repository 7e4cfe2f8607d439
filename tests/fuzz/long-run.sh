#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The long fuzz run of docs/reliability.md: each target, one at a time, for
#   tests/fuzz/long-run.sh [RUNS] [TARGET...]     (default 10000000 runs, every target)
# at low priority (nice), on a working corpus in build-fuzz/long-corpus/<target>
# seeded from tests/fuzz/corpus/<target>. Prints one table row per target:
# executions, exec/s, coverage (edges, features), corpus size, time, crashes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$top/build-fuzz}
runs=${1:-10000000}
[ $# -gt 0 ] && shift
"$top/tests/fuzz/build.sh" "$out" >/dev/null || exit 1
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || for b in "$out"/fuzz-*; do targets+=("$(basename "$b")"); done
mkdir -p "$out/artifacts" "$out/long-logs"
echo "| target | executions | exec/s | coverage (cov / ft) | corpus | time | crashes |"
echo "| --- | ---: | ---: | --- | ---: | ---: | ---: |"
for name in "${targets[@]}"; do
	corpus=$out/long-corpus/$name
	log=$out/long-logs/$name.log
	mkdir -p "$corpus"
	start=$(date +%s)
	nice -n 10 "$out/$name" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$name-" "$corpus" "$top/tests/fuzz/corpus/${name#fuzz-}" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
	cov=$(echo "$last" | grep -o 'cov: [0-9]*' | cut -d' ' -f2)
	ft=$(echo "$last" | grep -o 'ft: [0-9]*' | cut -d' ' -f2)
	files=$(ls "$corpus" | wc -l)
	crashes=$(ls "$out/artifacts" | grep -c "^$name-")
	[ $rc -eq 0 ] || crashes="$crashes (exit $rc)"
	echo "| $name | ${execs:-?} | ${eps:-?} | $cov / $ft | $files | ${secs}s | $crashes |"
done
