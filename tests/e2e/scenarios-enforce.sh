#!/usr/bin/bash
# Scenario r (issue 15), sourced by scenarios.sh: a running guest changes its
# own MAC to another running guest's and pings dom0. The per-vif rules drop
# those frames and the bridge never learns the other guest's MAC on its port;
# with its own MAC the pings work, before and after.
MAC_R1=02:00:c0:00:02:46     # 192.0.2.70, romeo1: the one that spoofs
MAC_R2=02:00:c0:00:02:47     # 192.0.2.71, romeo2: whose MAC it takes

guest_cfg romeo1 pv "bridge=xenbr0,ip=192.0.2.70"
guest_cfg romeo2 pv "bridge=xenbr0,ip=192.0.2.71"

# r_ping NAME WHAT: the guest's "DOMU-PING WHAT N/3" (waits up to 150 s)
r_ping() {
  local t=0 v
  while [ $t -lt 300 ]; do
    v=$(con_lines $1 | sed -n "s/.*DOMU-PING $2 \([0-9]*\/3\).*/\1/p" | tail -n1)
    [ -n "$v" ] && { echo "$v"; return; }
    sleep 0.5; t=$((t+1))
    [ $((t % 10)) = 0 ] && ! exists $1 && { echo "(domain $1 gone)"; return; }
  done
  echo "(no DOMU-PING $2 line)"
}

sc_r() {
  local base="console=hvc0 quiet loglevel=3 e2e_peer=192.0.2.1" d1 port1 d2
  begin r "a running guest takes another guest's MAC and pings dom0: dropped at its port, never learned there; its own MAC works"
  cmd $IP addr add 192.0.2.1/24 dev xenbr0
  # nf_tables in dom0's kernel (tests/e2e/run loads it), and the rules by hand
  cmd grep -E '^(nf_tables|nfnetlink|bridge) ' /proc/modules
  cmd $VIFMAC enforce add e2etest0 02:00:c0:00:02:ff
  check_rc0 "vifmac enforce add (by hand)"
  cmd $VIFMAC enforce remove e2etest0 02:00:c0:00:02:ff
  xl_create romeo2 "extra=\"$base e2e_ip=192.0.2.71\""
  check_rc0 "xl create romeo2"
  check_guest romeo2 $MAC_R2
  check_eq "romeo2 pings dom0 from its own MAC:" "$(r_ping romeo2 own)" 3/3
  xl_create romeo1 "extra=\"$base e2e_ip=192.0.2.70 e2e_spoof=$MAC_R2\""
  check_rc0 "xl create romeo1"
  d1=$(domid_of romeo1); port1=vif$d1.0; d2=$(domid_of romeo2)
  cmd $VIFMAC enforce list
  check_msg "rules hold romeo1's port:" $port1 $MAC_R1
  check_msg "and romeo2's:" vif$d2.0 $MAC_R2
  check_eq "romeo1 pings dom0 from its own MAC:" "$(r_ping romeo1 own)" 3/3
  check_eq "romeo1 pings dom0 from romeo2's MAC (dropped):" "$(r_ping romeo1 spoof)" 0/3
  check_eq "romeo1 back on its own MAC:" "$(r_ping romeo1 own-again)" 3/3
  cmd /usr/sbin/bridge fdb show br xenbr0
  check_eq "FDB entries of $MAC_R2 on romeo1's port $port1:" "$(grep -i "^$MAC_R2 dev $port1 " $OUTF | wc -l)" 0
  check_eq "FDB entries of $MAC_R2 on romeo2's port vif$d2.0:" "$(grep -i -c "^$MAC_R2 dev vif$d2.0 " $OUTF)" 1
  cmd $IP neigh show 192.0.2.70
  check_eq "dom0's neighbour 192.0.2.70:" "$(grep -o 'lladdr [0-9a-f:]*' $OUTF)" "lladdr $MAC_R1"
  cmd $VIFMAC audit
  check_eq "vifmac audit finds no missing rules:" "$(grep -c 'missing-rules' $OUTF)" 0
  # offline removes exactly romeo1's rules
  cmd xl destroy romeo1
  cmd $VIFMAC enforce list
  check_eq "rules left for $port1 after xl destroy:" "$(grep -c "^$port1 " $OUTF)" 0
  check_msg "romeo2's stay:" vif$d2.0 $MAC_R2
  cmd xl destroy romeo2
  cmd $IP addr del 192.0.2.1/24 dev xenbr0
  end
}
