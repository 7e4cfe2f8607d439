#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the libFuzzer targets: tests/fuzz/build.sh [OUTDIR]   (default build-fuzz/)
#
# clang (Debian's clang + libclang-rt-dev) with -fsanitize=fuzzer,address,undefined;
# the library's sources are compiled in (not the installed .so), so private
# functions are reachable and every line of the library is instrumented.
# Each target is OUTDIR/fuzz-<name>; run one with
#   OUTDIR/fuzz-<name> -max_total_time=60 CORPUS_DIR tests/fuzz/corpus/<name>
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-fuzz}
CC=${CC:-clang}
mkdir -p "$out/obj"

if ! command -v "$CC" >/dev/null; then
	echo "fuzz/build.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 77
fi

pkgs="xlutil xenlight xentoollog xencontrol xenstore sqlite3 libmnl libnftables"
# the etcd backend, once it is there, needs libcurl and json-c
[ -f "$top/lib/vifmac-registry-etcd.c" ] && pkgs="$pkgs libcurl json-c"
# shellcheck disable=SC2086
pc_cflags=$(pkg-config --cflags $pkgs)
# shellcheck disable=SC2086
pc_libs=$(pkg-config --libs $pkgs)

# what configure defines for lib/vifmac-xlu-dl.c (the dlopen()ed libxlutil)
xlutil_soname="libxlutil.so.$(pkg-config --modversion xlutil | cut -d. -f1,2)"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\" \
	-DFUZZ_DATA_DIR=\"$top/tests/data\" -DXLUTIL_SONAME=\"$xlutil_soname\" -I$top/lib -I$top/tests/fuzz -I$top/tests/fake \
	-Wall -Wextra -Wno-unused-parameter -Wno-unused-function $pc_cflags"

# the library, instrumented for coverage but without libFuzzer's main
objs=()
for src in "$top"/lib/*.c; do
	o="$out/obj/$(basename "${src%.c}").o"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "$top/lib/vifmac-internal.h" -nt "$o" ] ||
		[ "$top/lib/vifmac.h" -nt "$o" ] || [ "$0" -nt "$o" ]; then
		# shellcheck disable=SC2086
		$CC $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$o"
	fi
	objs+=("$o")
done
# the tests' one model of xenstore (tests/fake/xsmodel.c), under the hotplug target's seam
o="$out/obj/xsmodel.o"
# shellcheck disable=SC2086
$CC $cflags $san -fsanitize=fuzzer-no-link -c "$top/tests/fake/xsmodel.c" -o "$o"
objs+=("$o")

targets=()
for src in "$top"/tests/fuzz/fuzz-*.c; do
	name=$(basename "${src%.c}")
	# the etcd targets need the etcd backend (lib/vifmac-registry-etcd.c)
	case $name in fuzz-etcd-*) [ -f "$top/lib/vifmac-registry-etcd.c" ] || continue ;; esac
	# shellcheck disable=SC2086
	$CC $cflags $san -fsanitize=fuzzer "$src" "${objs[@]}" $pc_libs -lpthread -o "$out/$name"
	targets+=("$name")
done
echo "fuzz/build.sh: built ${targets[*]} in $out"
