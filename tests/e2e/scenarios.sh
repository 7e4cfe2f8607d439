#!/usr/bin/bash
# The end-to-end scenarios (issue 5's a-j, issue 6's k, issue 7's l, issue
# 14's m-o in scenarios-lifecycle.sh, issue 16's s in xl-diff.sh), run inside
# dom0 in one boot.
# Each prints one "@@E2E RESULT" line; tests/e2e/run turns them into the report.
. /e2e/lib.sh
. /e2e/xl-diff.sh

MAC_A=02:00:c0:00:02:0a      # 192.0.2.10 on a private bridge
MAC_C=02:00:c0:00:02:28      # 192.0.2.40
MAC_E=02:00:c0:00:02:14      # 192.0.2.20, also put on a dom0 dummy link
MAC_H=02:00:c0:00:02:0b      # 192.0.2.11, hot-plugged with vifmac network-attach
MAC_H2=02:00:c0:00:02:0c     # 192.0.2.12, what plain xl network-attach should have used
MAC_I=02:00:c0:00:02:1e      # 192.0.2.30
MAC_J=02:00:c0:00:02:32      # 192.0.2.50 (HVM)
MAC_K=02:00:c0:00:02:3c      # 192.0.2.60, used first by a "foreign machine" on xenbr0
POOL_0=52:54:00:bb:00:00     # the operator's range for xenpool: ...:00-...:07
POOL_1=52:54:00:bb:00:01
POOL_2=52:54:00:bb:00:02
TAB_10=52:54:00:aa:00:10     # the operator table's 198.51.100.10
TAB_11=52:54:00:aa:00:11     # and 198.51.100.11

ONLY=$(sed -n 's/.*e2e_only=\([a-z+]*\).*/\1/p' /proc/cmdline)   # "a+b+c"
want() { [ -z "$ONLY" ] || case "+$ONLY+" in *"+$1+"*) return 0;; *) return 1;; esac; }

# ------------------------------------------------------------ set-up
write_table
write_policy global
echo 'vif.default.script="vif-vifmac"' >>/etc/xen/xl.conf
log "$(ls -l /etc/xen/scripts/vif-vifmac 2>&1)"
log "$($VIFMAC --version 2>&1 | head -n1)"
guest_cfg alpha pv "bridge=xenbr0,ip=192.0.2.10"
guest_cfg bravo pv "bridge=xenbr1,ip=192.0.2.10"
guest_cfg charlie1 pv "bridge=xenbr0,ip=192.0.2.40"
guest_cfg charlie2 pv "bridge=xenbr1,ip=192.0.2.40"
guest_cfg charlie3 pv "bridge=xenbr0,ip=192.0.2.40"
guest_cfg delta pv "bridge=xenpub,ip=198.51.100.10"
guest_cfg delta2 pv "bridge=xenpub,ip=198.51.100.99"
guest_cfg echo pv "bridge=xenbr0,ip=192.0.2.20"
guest_cfg india pv "bridge=xenbr0,ip=192.0.2.30" "bridge=xenpub,ip=198.51.100.11"
guest_cfg kilo pv "bridge=xenbr0,ip=192.0.2.60"
guest_cfg lima1 pv "bridge=xenpool,ip=203.0.113.21"
guest_cfg lima2 pv "bridge=xenpool,ip=203.0.113.22"
guest_cfg lima3 pv "bridge=xenpool,ip=203.0.113.23"
guest_cfg juliet hvm "bridge=xenbr0,ip=192.0.2.50,model=e1000"
. /e2e/scenarios-lifecycle.sh

# ------------------------------------------------------------ a
sc_a() {
  begin a "vifmac installed from its .deb; PV guest on a private bridge, hook from xl.conf vif.default.script"
  # dom0 got vifmac by dpkg -i of the packages (tests/e2e/run): dpkg's own
  # record, the files it lists, and the registry folder its postinst made
  check_eq "dpkg status vifmac, libvifmac0:" "$(pkg_status vifmac) / $(pkg_status libvifmac0)" \
    "install ok installed / install ok installed"
  check_eq "files of the vifmac package:" \
    "$(grep -x -e /usr/sbin/vifmac -e /etc/xen/scripts/vif-vifmac -e /etc/xen/vifmac.conf -e /usr/libexec/vifmac/vif-vifmac \
        /var/lib/dpkg/info/vifmac.list 2>&1 | sort | tr '\n' ' ')" \
    "/etc/xen/scripts/vif-vifmac /etc/xen/vifmac.conf /usr/libexec/vifmac/vif-vifmac /usr/sbin/vifmac "
  # the hook libxl runs is the program, through the symlink (no shell script)
  check_eq "/etc/xen/scripts/vif-vifmac links to:" "$(readlink /etc/xen/scripts/vif-vifmac 2>&1)" \
    /usr/libexec/vifmac/vif-vifmac
  check_eq "/var/lib/vifmac (postinst) mode, owner:" "$(stat -c '%a %U' /var/lib/vifmac 2>&1)" "750 root"
  xl_create alpha
  check_rc0 "xl create alpha"
  check_guest alpha $MAC_A
  check_eq "xl network-list alpha devid 0" "$(xl_mac alpha 0)" $MAC_A
  check_eq "registry holds for alpha:" "$(reg_macs_of alpha)" $MAC_A
  log_registry
  end
}

# ------------------------------------------------------------ b
sc_b() {
  begin b "same MAC on another bridge, scope global: refused"
  local before after id_before
  before=$(reg_snapshot); id_before=$(domid_of alpha)
  xl_create bravo
  check_refused "xl create bravo"
  check_msg "message:" $MAC_A
  check_absent bravo
  check_eq "alpha still running, domid" "$(domid_of alpha)" "${id_before:-(none)}"
  check_eq "xl network-list alpha devid 0" "$(xl_mac alpha 0)" $MAC_A
  con_mark alpha
  check_guest alpha $MAC_A "after the refusal" 30
  after=$(reg_snapshot)
  if [ "$before" = "$after" ]; then ev "registry unchanged ($(echo "$before" | jq length 2>/dev/null) records)"
  else fail "registry changed: before $(echo "$before" | jq -c . 2>&1 | cut -c1-300) after $(echo "$after" | jq -c . 2>&1 | cut -c1-300)"; fi
  end
}

# ------------------------------------------------------------ c
sc_c() {
  begin c "scope bridge: the same MAC on two bridges is allowed, twice on one bridge is not"
  write_policy bridge
  xl_create charlie1
  check_rc0 "xl create charlie1 (xenbr0)"
  xl_create charlie2
  check_rc0 "xl create charlie2 (xenbr1)"
  check_guest charlie1 $MAC_C
  check_guest charlie2 $MAC_C
  check_eq "xl network-list charlie2 devid 0" "$(xl_mac charlie2 0)" $MAC_C
  check_eq "registry holders of $MAC_C:" "$(reg_holders $MAC_C)" "charlie1 charlie2"
  xl_create charlie3
  check_refused "xl create charlie3 (xenbr0 again)"
  check_msg "message:" $MAC_C
  check_absent charlie3
  log_registry
  cmd xl destroy charlie1; cmd xl destroy charlie2
  write_policy global
  end
}

# ------------------------------------------------------------ d
sc_d() {
  begin d "public bridge with the operator table; an IP missing from it is refused"
  xl_create delta
  check_rc0 "xl create delta"
  check_guest delta $TAB_10
  check_eq "xl network-list delta devid 0" "$(xl_mac delta 0)" $TAB_10
  check_eq "registry holds for delta:" "$(reg_macs_of delta)" $TAB_10
  xl_create delta2
  check_refused "xl create delta2 (198.51.100.99 not in the table)"
  check_msg "message:" 198.51.100.99
  check_absent delta2
  check_eq "registry holds for delta2:" "$(reg_macs_of delta2)" ""
  log_registry
  cmd xl destroy delta
  end
}

# ------------------------------------------------------------ e
sc_e() {
  begin e "a MAC already on a dom0 interface is refused"
  cmd /usr/sbin/ip link add e2edummy0 type dummy
  cmd /usr/sbin/ip link set e2edummy0 address $MAC_E
  check_eq "dom0 e2edummy0 address" "$(cat /sys/class/net/e2edummy0/address 2>&1)" $MAC_E
  xl_create echo
  check_refused "xl create echo"
  check_msg "message:" $MAC_E
  check_absent echo
  check_eq "registry holds for echo:" "$(reg_macs_of echo)" ""
  check_eq "registry holders of $MAC_E:" "$(reg_holders $MAC_E)" ""
  # control: without the dummy link the same guest gets that MAC
  cmd /usr/sbin/ip link del e2edummy0
  xl_create echo
  check_rc0 "without e2edummy0: xl create echo"
  check_guest echo $MAC_E
  cmd xl destroy echo
  end
}

# ------------------------------------------------------------ i
sc_i() {
  begin i "two vifs on two bridges (private + public)"
  xl_create india
  check_rc0 "xl create india"
  if guest_ifaces india; then
    check_eq "guest india eth0" "$(gmac eth0)" $MAC_I
    check_eq "guest india eth1" "$(gmac eth1)" $TAB_11
  else fail "guest india silent"; fi
  check_eq "xl network-list india" "$(xl_macs india)" "0=$MAC_I 1=$TAB_11"
  check_eq "registry holds for india:" "$(reg_macs_of india)" "$MAC_I $TAB_11"
  cmd xl destroy india
  end
}

# ------------------------------------------------------------ g
sc_g() {
  begin g "xl save + xl restore keeps the MAC"
  local seq
  if ! exists alpha; then xl_create alpha; guest_ifaces alpha >/dev/null; fi
  con_mark alpha
  guest_ifaces alpha 30 >/dev/null; seq=${GSEQ:-0}
  cmd xl save alpha $OUT/alpha.save
  check_rc0 "xl save alpha"
  check_absent alpha
  log_registry
  con_mark alpha
  cmd xl restore $OUT/alpha.save
  check_rc0 "xl restore"
  check_guest alpha $MAC_A "after restore" 90 $((seq+3))
  check_eq "xl network-list alpha devid 0" "$(xl_mac alpha 0)" $MAC_A
  check_eq "registry holds for alpha:" "$(reg_macs_of alpha)" $MAC_A
  rm -f $OUT/alpha.save
  end
}

# ------------------------------------------------------------ h
sc_h() {
  begin h "hot-plug: vifmac network-attach gives the policy MAC, plain xl network-attach is refused"
  local n
  if ! exists alpha; then xl_create alpha; guest_ifaces alpha >/dev/null; fi
  con_mark alpha
  cmd $VIFMAC network-attach alpha bridge=xenbr0 ip=192.0.2.11
  check_rc0 "vifmac network-attach alpha"
  n=0; while ! con_lines alpha | grep -q 'DOMU-NEW-IFACE' && [ $n -lt 120 ]; do sleep 0.5; n=$((n+1)); done
  check_eq "guest alpha new interface" "$(con_lines alpha | grep -o 'DOMU-NEW-IFACE [a-z0-9]* [0-9a-f:]*' | head -n1 | cut -d' ' -f2-)" "eth1 $MAC_H"
  check_eq "xl network-list alpha devid 1" "$(xl_mac alpha 1)" $MAC_H
  check_eq "registry holds for alpha:" "$(reg_macs_of alpha)" "$MAC_A $MAC_H"
  cmd xl network-attach alpha bridge=xenbr0 ip=192.0.2.12
  check_refused "plain xl network-attach alpha"
  check_msg "message names the MAC to use:" $MAC_H2
  check_eq "registry holds for alpha:" "$(reg_macs_of alpha)" "$MAC_A $MAC_H"
  log "after the refused attach: xl network-list alpha: $(xl_macs alpha)"
  log_registry
  end
}

# ------------------------------------------------------------ f
sc_f() {
  begin f "destroy releases the claim, create again gives the same MAC, no stale claim after a failed create"
  if ! exists alpha; then xl_create alpha; guest_ifaces alpha >/dev/null; fi
  cmd xl destroy alpha
  check_rc0 "xl destroy alpha"
  check_eq "registry holds for alpha after destroy:" "$(reg_macs_of alpha)" ""
  xl_create alpha
  check_rc0 "xl create alpha again"
  check_guest alpha $MAC_A "after re-create"
  check_eq "xl network-list alpha devid 0" "$(xl_mac alpha 0)" $MAC_A
  check_eq "registry holds for alpha:" "$(reg_macs_of alpha)" $MAC_A
  xl_create bravo
  check_refused "xl create bravo (conflict)"
  check_absent bravo
  local stale
  stale=$(reg_json | jq -r '[.[] | select(.domain == "bravo" or .domain == "charlie3" or .domain == "delta2" or .domain == "echo") | "\(.domain)=\(.mac)"] | join(" ")' 2>&1)
  check_eq "claims of refused guests (bravo charlie3 delta2 echo):" "$stale" ""
  log_registry
  cmd xl destroy alpha
  end
}

# ------------------------------------------------------------ k
# A machine vifmac does not manage (another operator's host on the same
# segment) uses 02:00:c0:00:02:3c first: a network namespace behind a veth
# port of xenbr0, invisible to dom0's own link list. The bridge learns its
# MAC from the frames it sends; the hook must find it there and refuse.
IP=/usr/sbin/ip
sc_k() {
  begin k "a foreign machine on the bridge uses the MAC first: xl create refused by the wire check"
  cmd $IP netns add foreign
  cmd $IP link add e2efor0 type veth peer name f0 netns foreign
  cmd $IP -n foreign link set f0 address $MAC_K
  cmd $IP link set e2efor0 master xenbr0 up
  cmd $IP -n foreign addr add 192.0.2.60/24 dev f0
  cmd $IP -n foreign link set f0 up
  # the foreign machine speaks: ARP requests with its MAC as the source
  cmd $IP netns exec foreign /bin/busybox arping -c 3 -w 4 -I f0 192.0.2.1
  check_eq "dom0 links carrying $MAC_K:" "$($IP -o link | grep -c -i "$MAC_K")" 0
  cmd $IP -o link show dev e2efor0
  check_eq "e2efor0 on xenbr0:" "$(grep -o 'master [a-z0-9]*' $OUTF)" "master xenbr0"
  cmd /usr/sbin/bridge fdb show br xenbr0
  check_msg "the kernel's FDB:" $MAC_K e2efor0
  cmd $VIFMAC seen $MAC_K
  check_eq "vifmac seen $MAC_K exit status (1: seen)" "$RC" 1
  check_msg "vifmac seen:" fdb bridge xenbr0 port e2efor0
  xl_create kilo
  check_refused "xl create kilo"
  check_msg "message:" $MAC_K xenbr0 e2efor0
  check_absent kilo
  check_eq "registry holds for kilo:" "$(reg_macs_of kilo)" ""
  check_eq "registry holders of $MAC_K:" "$(reg_holders $MAC_K)" ""
  # control: the foreign machine leaves (its port, and what the bridge
  # learned there, go with it); the same guest then gets the MAC
  cmd $IP link del e2efor0
  cmd $IP netns del foreign
  xl_create kilo
  check_rc0 "foreign machine gone: xl create kilo"
  check_guest kilo $MAC_K
  check_eq "registry holds for kilo:" "$(reg_macs_of kilo)" $MAC_K
  cmd xl destroy kilo
  end
}

# ------------------------------------------------------------ l
# The operator's range for the public bridge xenpool (bridge_pools in the
# policy): imported with vifmac pool import, handed out lowest first, sticky
# per domain, a released address kept in quarantine (24 h by default).
sc_l() {
  begin l "public bridge with a range pool: the first guest gets the lowest address, the second the next one"
  cat >/etc/xen/vifmac-block.txt <<B
# the operator's block for xenpool
52:54:00:bb:00:00-52:54:00:bb:00:07
B
  cmd $VIFMAC pool import block /etc/xen/vifmac-block.txt
  check_rc0 "vifmac pool import block"
  xl_create lima1
  check_rc0 "xl create lima1"
  check_guest lima1 $POOL_0
  check_eq "xl network-list lima1 devid 0" "$(xl_mac lima1 0)" $POOL_0
  xl_create lima2
  check_rc0 "xl create lima2"
  check_guest lima2 $POOL_1 "(the next address)"
  check_eq "xl network-list lima2 devid 0" "$(xl_mac lima2 0)" $POOL_1
  check_eq "registry holds for lima1, lima2:" "$(reg_macs_of lima1) $(reg_macs_of lima2)" "$POOL_0 $POOL_1"
  cmd $VIFMAC whois $POOL_1
  check_msg "whois:" $POOL_1 lima2 source pool:block
  cmd $VIFMAC pool show block --json
  check_eq "pool block size used free:" "$(jq -r '"\(.size) \(.used) \(.free)"' $OUTF 2>&1)" "8 2 6"
  # sticky: destroyed and created again (a new UUID: the config has no
  # uuid=), lima1 gets its address back
  cmd xl destroy lima1
  xl_create lima1
  check_rc0 "xl create lima1 again"
  check_guest lima1 $POOL_0 "after re-create (sticky)"
  # quarantine: lima2's released address is not given to a new guest
  cmd xl destroy lima2
  xl_create lima3
  check_rc0 "xl create lima3"
  check_guest lima3 $POOL_2 "(not lima2's, in quarantine)"
  log_registry
  cmd xl destroy lima1; cmd xl destroy lima3
  end
}

# ------------------------------------------------------------ j
# qemu_args DOMID: the command line of that domain's device model
qemu_args() {
  local p
  for p in /proc/[0-9]*; do
    case "$(tr '\0' ' ' <$p/cmdline 2>/dev/null)" in
      *"-xen-domid $1 "*) tr '\0' ' ' <$p/cmdline; return 0;;
    esac
  done
  return 1
}
HVM_WAIT=${HVM_WAIT:-240}
sc_j() {
  begin j "HVM guest: vifmac xl-args puts the policy MAC on the emulated NIC; without it, refused"
  local args id qa nic
  # without xl-args: QEMU starts with a random MAC, the hook must refuse
  xl_create juliet
  check_refused "xl create juliet without xl-args"
  check_msg "message names the MAC to use:" mac=$MAC_J
  check_absent juliet
  check_eq "registry holds for juliet:" "$(reg_macs_of juliet)" ""
  # with xl-args
  cmd $VIFMAC xl-args $CFG/juliet.cfg
  check_rc0 "vifmac xl-args juliet.cfg"
  args=$(grep '^vif' $OUTF | tail -n1)
  case "$args" in *"mac=$MAC_J"*) ev "xl-args: $args";; *) fail "xl-args printed no mac=$MAC_J: '$args'";; esac
  con_mark juliet
  cmd xl create $CFG/juliet.cfg "$args"
  check_rc0 "xl create juliet.cfg \"$args\""
  id=$(domid_of juliet)
  qa=$(qemu_args "${id:-none}")
  nic=$(echo "$qa" | grep -o -- "-device [^ ]*mac=[^ ]*" | head -n1)
  log "device model: $qa"
  check_eq "QEMU's emulated NIC:" "$(echo "$nic" | grep -o 'mac=[0-9a-f:]*')" "mac=$MAC_J"
  check_eq "xl network-list juliet devid 0" "$(xl_mac juliet 0)" $MAC_J
  check_eq "registry holds for juliet:" "$(reg_macs_of juliet)" $MAC_J
  if guest_ifaces juliet $HVM_WAIT; then
    check_eq "HVM guest juliet eth0 (emulated e1000)" "$(gmac eth0)" $MAC_J
  elif exists juliet; then
    # a guest that hangs under nested SVM in QEMU TCG is a failure like any other
    fail "the HVM guest did not reach its init within ${HVM_WAIT}s; its console's last lines: $(con_lines juliet | grep -v '^ *$' | tail -n3 | tr '\n' '|' | cut -c1-300)"
  else
    fail "HVM guest juliet died before printing its MAC"
  fi
  cmd xl destroy juliet
  end
}

. /e2e/scenarios-enforce.sh    # r (issue 15)
. /e2e/scenarios-rollout.sh   # p, q (issue 14)
for s in a b c d e i k l m n o p q g h f s j r; do
  want $s || continue
  sc_$s
  log "xl list: $(xl list 2>&1 | awk 'NR>1{printf "%s(%s) ", $1, $2}')"
done
CUR=-
for f in /var/log/xen/*.log; do [ -f "$f" ] && { log "===== $f"; logf "$f"; }; done
log "===== /var/log/messages (vifmac)"; grep -i -E 'vifmac|vif-' /var/log/messages 2>/dev/null | tail -n 200 | while IFS= read -r l; do log "  $l"; done
