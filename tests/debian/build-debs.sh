#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the Debian packages from a copy of the source tree: what git knows,
# committed or not (outside a git checkout: the tree without its build
# folders and caches), so that no build folder of the checkout gets in.
#   tests/debian/build-debs.sh TOP WORKDIR [dpkg-buildpackage options...]
# The copy is WORKDIR/vifmac, the packages land in WORKDIR (dpkg-buildpackage
# writes them beside the source), its output in WORKDIR/build.log. DEB_BUILD_*
# come from the environment. Exit status: dpkg-buildpackage's.
# Used by tests/debian/test-package.sh and tests/e2e/run.
set -u
top=$1
work=$2
shift 2
rm -rf "$work/vifmac"
mkdir -p "$work/vifmac"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard | tar -cf - -T -) | tar -xf - -C "$work/vifmac"
else
	tar -C "$top" --exclude='./build*' --exclude=./.cache -cf - . | tar -xf - -C "$work/vifmac"
fi
cd "$work/vifmac" && dpkg-buildpackage -us -uc -b "$@" >"$work/build.log" 2>&1
