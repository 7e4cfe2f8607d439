#!/usr/bin/bash
# scripts/demo, inside dom0: what an admin sees. Every line meant for the
# viewer is printed with "@@DEMO " (the host strips it).
. /e2e/lib.sh
CUR=demo
say() { while IFS= read -r l; do echo "@@DEMO $l"; done <<<"$*"; }
show() { say "$(cat "$1")"; }
# run a command as the admin would type it, showing its output
sh_() { say "dom0# $*"; local o; o=$(timeout 150 bash -c "$*" 2>&1); RC=$?; [ -n "$o" ] && say "$o"; [ $RC = 0 ] || say "[exit status $RC]"; }

write_table
write_policy global >/dev/null
echo 'vif.default.script="vif-vifmac"' >>/etc/xen/xl.conf
guest_cfg web1 pv "bridge=xenbr0,ip=192.0.2.10"
guest_cfg web2 pv "bridge=xenbr1,ip=192.0.2.10"
cp $CFG/web1.cfg $CFG/web2.cfg /etc/xen/

say ""
say "===== vifmac demo: Xen $(xl info | sed -n 's/^xen_version *: //p') in QEMU, dom0 $(uname -r) ====="
say ""
sh_ 'grep -v "^#" /etc/xen/vifmac.conf'
sh_ 'grep "^vif" /etc/xen/xl.conf'
sh_ 'grep vif /etc/xen/web1.cfg'
sh_ 'vifmac derive --bridge xenbr0 --ip 192.0.2.10'
say ""
say "----- 1. a guest gets its MAC from its IP at xl create -----"
con_mark web1
sh_ 'xl create /etc/xen/web1.cfg'
if guest_ifaces web1 120 >/dev/null; then
  say "(web1's console, from inside the guest): eth0 address $(gmac eth0)"
else say "(web1 printed nothing)"; fi
sh_ 'xl network-list web1'
sh_ 'vifmac whois 192.0.2.10'
say ""
say "----- 2. another guest claiming the same address is refused -----"
sh_ 'grep vif /etc/xen/web2.cfg'
sh_ 'xl create /etc/xen/web2.cfg'
sh_ 'xl list'
sh_ 'vifmac list'
say ""
say "===== end of demo ====="
