# The end-to-end scenarios of a guest's and a host's life (issue 14), sourced
# by scenarios.sh inside dom0:
#   m  power loss: the registry as a crash leaves it, xl create again
#   n  the migration hand-over, replayed step by step
#   o  guest reboot (xl reboot), and xl save / xl restore
MAC_M=02:00:c0:00:02:65      # 192.0.2.101
MAC_N=02:00:c0:00:02:66      # 192.0.2.102
MAC_O=02:00:c0:00:02:67      # 192.0.2.103
guest_cfg mike pv "bridge=xenbr0,ip=192.0.2.101"
guest_cfg november pv "bridge=xenbr0,ip=192.0.2.102"
guest_cfg oscar pv "bridge=xenbr0,ip=192.0.2.103"
echo 'on_reboot = "restart"' >>$CFG/oscar.cfg

# reg_uuids_of MAC: the UUIDs the registry holds MAC for
reg_uuids_of() { reg_json | jq -r --arg m "$1" '[.[] | select(.mac == $m) | .uuid] | sort | join(" ")' 2>&1; }
# hotplug_log_has TEXT: a line of the hotplug log (and syslog) since the mark has TEXT
log_mark_hp() { HPOFF=$(wc -l </var/log/xen/xen-hotplug.log 2>/dev/null || echo 0); SLOFF=$(wc -l </var/log/messages 2>/dev/null || echo 0); }
hp_since() { tail -n +$((HPOFF + 1)) /var/log/xen/xen-hotplug.log 2>/dev/null; }
sl_since() { tail -n +$((SLOFF + 1)) /var/log/messages 2>/dev/null; }
# wait_new_domid NAME OLD SECONDS: until NAME runs with a domid other than OLD
wait_new_domid() {
  local t=0 id
  while [ $t -lt $(($3 * 2)) ]; do
    id=$(domid_of "$1"); [ -n "$id" ] && [ "$id" != "$2" ] && { echo "$id"; return 0; }
    sleep 0.5; t=$((t + 1))
  done
  echo "${id:-(none)}"; return 1
}

# ------------------------------------------------------------ m
sc_m() {
  begin m "power loss: the registry as a crash left it holds the guest's claim under its old UUID; xl create starts it again with its MAC, no admin step"
  local old new line
  xl_create mike
  check_rc0 "xl create mike"
  check_guest mike $MAC_M
  old=$(uuid_of mike)
  check_eq "registry holds $MAC_M for mike's UUID" "$(reg_uuids_of $MAC_M)" "${old:-(no uuid)}"
  # the disk as a power loss leaves it: the registry files as they are while the guest runs
  rm -rf /tmp/registry-at-crash; cp -a /var/lib/vifmac /tmp/registry-at-crash
  cmd xl destroy mike
  check_eq "after xl destroy (offline ran) the registry holds for mike:" "$(reg_macs_of mike)" ""
  rm -rf /var/lib/vifmac; cp -a /tmp/registry-at-crash /var/lib/vifmac
  check_eq "the crash copy put back: the claim under the old UUID" "$(reg_uuids_of $MAC_M)" "${old:-(no uuid)}"
  # xendomains (or the admin) creates the guest again; its config has no uuid=: a new one
  log_mark_hp
  xl_create mike
  check_rc0 "xl create mike after the power loss"
  check_guest mike $MAC_M "after the power loss"
  new=$(uuid_of mike)
  if [ -n "$new" ] && [ "$new" != "$old" ]; then ev "new UUID $new (was $old)"; else fail "the UUID did not change: '$new' vs '$old'"; fi
  check_eq "registry holds $MAC_M for the new UUID" "$(reg_uuids_of $MAC_M)" "${new:-(no uuid)}"
  line=$(hp_since | grep -m1 "took over the claim of $MAC_M by domain mike (uuid $old)")
  if [ -n "$line" ]; then ev "hotplug log: \"$(echo "$line" | cut -c1-240)\""; else fail "no take-over line in the hotplug log"; log "$(hp_since | tail -n 5)"; fi
  line=$(sl_since | grep -m1 "vif-vifmac.*took over the claim of $MAC_M")
  if [ -n "$line" ]; then ev "syslog: \"$(echo "$line" | cut -c1-160)\""; else fail "no take-over line in syslog (/var/log/messages)"; fi
  log_registry
  cmd xl destroy mike
  end
}

# ------------------------------------------------------------ n
sc_n() {
  begin n "migration hand-over replayed: the same UUID created paused as --incoming while the source runs, source renamed --migratedaway and destroyed, incoming renamed and unpaused: accepted, the claim stays"
  handover november $MAC_N cmd
  log_registry
  cmd xl destroy november
  end
}

# ------------------------------------------------------------ o
sc_o() {
  begin o "guest reboot (on_reboot = \"restart\", xl reboot) keeps the MAC; so do xl save and xl restore"
  local id1 id2 uuid
  xl_create oscar
  check_rc0 "xl create oscar"
  check_guest oscar $MAC_O
  id1=$(domid_of oscar); uuid=$(uuid_of oscar)
  cmd xl reboot oscar
  check_rc0 "xl reboot oscar"
  id2=$(wait_new_domid oscar "$id1" 90) && ev "re-created as domid $id2 (was $id1)" || fail "oscar not re-created within 90 s (domid ${id2})"
  con_mark oscar # only what the new domain prints counts
  check_eq "same UUID after the reboot" "$(uuid_of oscar)" "$uuid"
  check_guest oscar $MAC_O "after xl reboot"
  check_eq "registry holds $MAC_O for" "$(reg_uuids_of $MAC_O)" "$uuid"
  cmd xl save oscar /tmp/oscar.save
  check_rc0 "xl save oscar"
  check_eq "after xl save the registry holds for oscar:" "$(reg_macs_of oscar)" ""
  con_mark oscar
  cmd xl restore /tmp/oscar.save
  check_rc0 "xl restore"
  check_guest oscar $MAC_O "after xl restore"
  check_eq "xl network-list oscar devid 0" "$(xl_mac oscar 0)" $MAC_O
  check_eq "registry holds $MAC_O for" "$(reg_uuids_of $MAC_O)" "$uuid"
  rm -f /tmp/oscar.save
  cmd xl destroy oscar
  end
}
