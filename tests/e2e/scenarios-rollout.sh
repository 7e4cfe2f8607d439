# Issue 14's rollout scenarios, sourced by scenarios.sh (inside dom0):
#   p  vifmac adopt on a guest started without the hook, plan --running
#   q  a config as xen-tools writes it: refused at start, fixed by vifmac fix-config
MAC_P=02:00:c0:00:02:46      # 192.0.2.70, what papa gets once the hook runs
MAC_Q=02:00:c0:00:02:50      # 192.0.2.80
XT_MAC_Q=00:16:3E:9A:BC:DE   # xen-tools' MAC for quebec (4th byte >= 0x80: not libxl's range)
UUID_P=7a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d

# ------------------------------------------------------------ p
sc_p() {
  begin p "vifmac adopt on a guest started without the hook: the registry holds its libxl MAC (source adopted); plan --running shows the MAC it will get, which it gets at its next start"
  local now next
  # script=vif-bridge in the vif: this guest starts as on a host without vifmac
  guest_cfg papa pv "bridge=xenbr0,ip=192.0.2.70,script=vif-bridge"
  echo "uuid = \"$UUID_P\"" >>$CFG/papa.cfg
  xl_create papa
  check_rc0 "xl create papa (script=vif-bridge, no hook)"
  if guest_ifaces papa; then now=$(gmac eth0); else now="(silent)"; fail "guest papa silent"; fi
  if [[ "$now" =~ ^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$ ]]; then ev "guest papa eth0 $now (libxl's random range)"
  else fail "guest papa eth0 '$now' is not in libxl's random range"; fi
  check_eq "xl network-list papa devid 0" "$(xl_mac papa 0)" "$now"
  check_eq "registry holds for papa before adopt:" "$(reg_macs_of papa)" ""
  cmd $VIFMAC adopt --dry-run
  check_rc0 "vifmac adopt --dry-run"
  check_msg "dry run:" would-adopt "$now" papa
  check_eq "registry holds for papa after the dry run:" "$(reg_macs_of papa)" ""
  cmd $VIFMAC adopt
  check_rc0 "vifmac adopt"
  check_msg "adopt:" adopted "$now" papa
  check_eq "registry record of papa (mac uuid devid source):" \
    "$(reg_json | jq -r '.[] | select(.domain == "papa") | "\(.mac) \(.uuid) \(.devid) \(.source)"' 2>&1)" "$now $UUID_P 0 adopted"
  cmd $VIFMAC adopt
  check_rc0 "vifmac adopt again"
  check_msg "again:" already "$now" papa
  cmd $VIFMAC plan --running --json
  check_rc0 "vifmac plan --running --json"
  next=$(jq -r '.vifs[] | select(.domain == "papa") | "\(.mac) \(.next.mac) \(.changes) \(.next.ipv6_link_local)"' $OUTF 2>&1)
  check_eq "plan --running for papa (now next changes link-local):" "$next" "$now $MAC_P true fe80::c0ff:fe00:246"
  cmd $VIFMAC plan --running
  check_msg "plan --running:" next $MAC_P CHANGES
  # its next start, with the hook: the policy's MAC, and the adopted claim moves to it (same UUID)
  cmd xl destroy papa
  sed -i 's/,script=vif-bridge//' $CFG/papa.cfg
  xl_create papa
  check_rc0 "xl create papa with the hook"
  check_guest papa $MAC_P "(next start, with the hook)"
  check_eq "registry holds for papa:" "$(reg_macs_of papa)" $MAC_P
  log_registry
  cmd xl destroy papa
  end
}

# ------------------------------------------------------------ q
sc_q() {
  begin q "a config as xen-tools writes it: refused at start, fixed by vifmac fix-config, then starts with the policy MAC"
  local sum
  # xen-create-image's template (xm.tmpl), with the lab's kernel
  cat >$CFG/quebec.cfg <<C
#
# Configuration file for the Xen instance quebec, created
# by xen-tools 4.9.2 on Tue Dec  1 08:00:00 2026.
#

#
#  Kernel + memory size
#
kernel      = '/domu/vmlinuz'
extra       = 'console=hvc0 quiet loglevel=3'
ramdisk     = '/domu/initrd.img'

vcpus       = '1'
memory      = '128'

#
#  Hostname
#
name        = 'quebec'

#
#  Networking
#
vif         = [ 'ip=192.0.2.80,mac=$XT_MAC_Q' ]

#
#  Behaviour
#
on_poweroff = 'destroy'
on_reboot   = 'restart'
on_crash    = 'restart'
C
  cp $CFG/quebec.cfg $OUT/quebec.orig
  xl_create quebec
  check_refused "xl create quebec (xen-tools' mac=)"
  check_msg "message:" differs $MAC_Q
  check_absent quebec
  cmd $VIFMAC fix-config --dry-run $CFG/quebec.cfg
  check_rc0 "vifmac fix-config --dry-run"
  check_msg "diff -:" "-vif" "mac=$XT_MAC_Q"
  check_msg "diff +:" "+vif" "'ip=192.0.2.80' ]"
  check_eq "dry run left the file (md5):" "$(md5sum <$CFG/quebec.cfg)" "$(md5sum <$OUT/quebec.orig)"
  cmd $VIFMAC fix-config $CFG/quebec.cfg
  check_rc0 "vifmac fix-config"
  check_msg "written:" written backup quebec.cfg.vifmac-bak
  check_eq "backup is the original (md5):" "$(md5sum <$CFG/quebec.cfg.vifmac-bak 2>&1)" "$(md5sum <$OUT/quebec.orig)"
  check_eq "lines that differ from the original (of $(wc -l <$OUT/quebec.orig)):" \
    "$(awk 'NR == FNR { a[FNR] = $0; next } a[FNR] != $0' $OUT/quebec.orig $CFG/quebec.cfg | wc -l)" 1
  check_eq "the vif line now:" "$(grep '^vif' $CFG/quebec.cfg)" "vif         = [ 'ip=192.0.2.80' ]"
  cmd $VIFMAC plan --json $CFG/quebec.cfg
  check_eq "vifmac plan of the fixed config:" "$(jq -r '.vifs[0].mac' $OUTF 2>&1)" $MAC_Q
  xl_create quebec
  check_rc0 "xl create quebec (fixed)"
  check_guest quebec $MAC_Q
  check_eq "xl network-list quebec devid 0" "$(xl_mac quebec 0)" $MAC_Q
  check_eq "registry holds for quebec:" "$(reg_macs_of quebec)" $MAC_Q
  cmd xl destroy quebec
  end
}
