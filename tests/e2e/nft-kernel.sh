#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/nft-kernel.sh [BUILDDIR]: vifmac's nftables rules on Debian 12's
# own kernel (6.1), without Xen: that kernel (from the e2e cache, or
# E2E_CACHE) boots in QEMU (TCG, ~15 s) with busybox, the nf_tables modules
# dom0 loads (tests/e2e/run) and the built vifmac, then adds, replaces,
# lists and removes rules. The host's kernel may differ (6.1 needs
# nft_meta_bridge for iifname in the bridge family: this is how that was
# found). Exit 0 when every step passed, 1 otherwise, 77 without the cache.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
B=${1:-$TOP/build}
X=${E2E_CACHE:-$TOP/.cache/e2e}/x
K=$(ls "$X/lib/modules" 2>/dev/null | head -n1)
[ -n "$K" ] && [ -f "$X/boot/vmlinuz-$K" ] || { echo "SKIP: no Debian kernel under $X (tests/e2e/run fills the cache)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 is missing"; exit 77; }
BIN=$B/tools/.libs/vifmac
[ -x "$BIN" ] || { echo "FAIL: no built vifmac in $B"; exit 1; }
R=$(mktemp -d "${TMPDIR:-/tmp}/vifmac-nftk-XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,lib64,lib/x86_64-linux-gnu,mod,usr/sbin}
cp "$X/bin/busybox" "$R/bin/"
# the modules, in the order tests/e2e/dom0-init loads them
MODS="crypto/crc32c_generic lib/libcrc32c net/netfilter/nfnetlink net/netfilter/nf_tables net/llc/llc net/802/stp net/bridge/bridge net/bridge/netfilter/nft_meta_bridge"
for m in $MODS; do cp "$X/lib/modules/$K/kernel/$m.ko" "$R/mod/"; done
cp "$BIN" "$R/usr/sbin/vifmac"
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
# and libnftables, which libvifmac loads with dlopen() for the table (ldd does not see it)
NFT=/usr/lib/x86_64-linux-gnu/libnftables.so.1
{ echo "libnftables.so.1 => $NFT (0)"; LD_LIBRARY_PATH=$B/lib/.libs ldd "$BIN" "$NFT"; } | awk '/=> \// { print $3 }' | sort -u |
	while read -r l; do cp -L "$l" "$R/lib/x86_64-linux-gnu/"; done
cat >"$R/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys
for m in $(for m in $MODS; do printf '%s ' "${m##*/}"; done); do insmod /mod/\$m.ko || echo "STEP FAIL insmod \$m"; done
step() { out=\$("\$@" 2>&1) && echo "STEP OK \$*" || echo "STEP FAIL \$*: \$out"; }
step vifmac enforce add vif1.0 02:00:c0:00:02:0a
step vifmac enforce add vif2.0-emu 02:00:c0:00:02:0b
step vifmac enforce add vif1.0 02:00:c0:00:02:0c
[ "\$(vifmac enforce list | tr -s ' ' | tr '\n' ' ')" = "vif1.0 02:00:c0:00:02:0c vif2.0-emu 02:00:c0:00:02:0b " ] && echo "STEP OK list after replace" || echo "STEP FAIL list: \$(vifmac enforce list)"
step vifmac enforce remove vif1.0 02:00:c0:00:02:0c
step vifmac enforce remove vif2.0-emu
step vifmac enforce remove vif2.0-emu
[ -z "\$(vifmac enforce list)" ] && echo "STEP OK empty" || echo "STEP FAIL not empty: \$(vifmac enforce list)"
echo STEPS-DONE
poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 >"$R.img")
out=$(timeout 300 qemu-system-x86_64 -machine pc,accel=tcg -m 512 -display none -monitor none -serial stdio -no-reboot \
	-kernel "$X/boot/vmlinuz-$K" -initrd "$R.img" -append "console=ttyS0 quiet loglevel=3 rdinit=/init" 2>&1 | tr -d '\r')
rm -f "$R.img"
echo "$out" | grep '^STEP'
echo "$out" | grep -q '^STEPS-DONE' || { echo "FAIL: the VM did not finish"; exit 1; }
if echo "$out" | grep -q '^STEP FAIL'; then echo "$0: FAIL on Linux $K"; exit 1; fi
echo "$0: every step passed on Linux $K"
