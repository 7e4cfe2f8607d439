# Two Xen hosts on one wire (issue 19), run by dom0-init in both dom0s of
# tests/e2e/two-hosts (e2e_mode=two-hosts; the host name, dom0-a or dom0-b,
# comes from dom0's command line). Each dom0 enslaves its NIC, the shared
# link, to xenbr0 and takes a lab address on xenbr0 (dom0-a 10.99.0.1,
# dom0-b 10.99.0.2). dom0-a then serves requests on that link (an agent:
# one shell command per TCP connection, its output and "@@RC status" back);
# dom0-b runs the scenarios, on itself and through dom0-a's agent, and prints
# the "@@E2E RESULT" lines the harness reports:
#   1  strangers on one wire (a SQLite registry each): the wire check
#   2  one etcd cluster for both hosts: refusal naming the host, xl save on A
#      + xl restore on B, the migration hand-over across the hosts
#   3  pools across hosts: one operator range on the cluster, guests on
#      both hosts (one after the other, then two at once) get different
#      addresses
#   4  a host dies (the harness kills dom0-a's QEMU when asked): its claim
#      stays until vifmac gc --host dom0-a
# etcd: one member (m1) on dom0-a, two (m2, m3) on dom0-b, so that the
# cluster keeps its quorum (2 of 3) when dom0-a dies in 4.
. /e2e/lib.sh
HOST=$(hostname)
IP=/usr/sbin/ip
LAB_A=10.99.0.1
LAB_B=10.99.0.2
AGENT_PORT=7000
ETCDCTL="timeout 60 /usr/bin/etcdctl --dial-timeout 5s --command-timeout 20s"
ETCD_CLUSTER="m1=http://$LAB_A:2380,m2=http://$LAB_B:2380,m3=http://$LAB_B:2382"
MAC_A=02:00:c0:00:02:0a      # 192.0.2.10: alpha on dom0-a, bravo on dom0-b (scenario 1)
MAC_G=02:00:c0:00:02:46      # 192.0.2.70: golf on dom0-a, golf2 on dom0-b (2)
MAC_H=02:00:c0:00:02:50      # 192.0.2.80: hotel, handed over from dom0-a to dom0-b (2)
MAC_K=02:00:c0:00:02:64      # 192.0.2.100: kilo on dom0-a, kilo2 on dom0-b (4)
POOL_0=52:54:00:bb:00:00     # the operator's range for xenpool (3): papa on dom0-a
POOL_1=52:54:00:bb:00:01     #   papa2 on dom0-b
POOL_2=52:54:00:bb:00:02     #   papa3 on dom0-a and papa4 on dom0-b, at once: these two
POOL_3=52:54:00:bb:00:03

# ------------------------------------------------------------ both hosts
# the lab's policy (lib.sh) with this host's name; registry sqlite or etcd
set_policy() {
  write_table
  write_policy global
  echo "host_name = \"$HOST\"" >>/etc/xen/vifmac.conf
  if [ "$1" = etcd ]; then
    sed -i "s|^registry = .*|registry = \"$(etcd_url)\"|" /etc/xen/vifmac.conf
    # two machines under TCG on a busy 2-core box: slower than a server room
    printf 'etcd_timeout_ms = 15000\netcd_request_timeout_ms = 5000\n' >>/etc/xen/vifmac.conf
  fi
  grep -E '^(registry|host_name)' /etc/xen/vifmac.conf
}
# this host's members first: a claim goes on when the other host is gone
etcd_url() {
  if [ "$HOST" = dom0-a ]; then echo "etcd:http://$LAB_A:2379,http://$LAB_B:2379,http://$LAB_B:2381"
  else echo "etcd:http://$LAB_B:2379,http://$LAB_B:2381,http://$LAB_A:2379"; fi
}
# etcd_start NAME CLIENT-PORT PEER-PORT: a member of the lab's cluster on this host's lab address
etcd_start() {
  local me=$LAB_B
  [ "$HOST" = dom0-a ] && me=$LAB_A
  [ -f /run/etcd-$1.pid ] && return 0
  mkdir -p /var/lib/etcd
  # TCG is slow (and shares the cores): a generous election timeout keeps the leader in place
  setsid /usr/bin/etcd --name $1 --data-dir /var/lib/etcd/$1 \
    --listen-client-urls http://$me:$2 --advertise-client-urls http://$me:$2 \
    --listen-peer-urls http://$me:$3 --initial-advertise-peer-urls http://$me:$3 \
    --initial-cluster $ETCD_CLUSTER --initial-cluster-state new --initial-cluster-token vifmac-two-hosts \
    --heartbeat-interval 500 --election-timeout 5000 --log-level warn --logger zap \
    >>/var/log/etcd-$1.log 2>&1 </dev/null &
  echo $! >/run/etcd-$1.pid
  echo "etcd member $1 started on $me:$2 (pid $!)"
}
guest_line() { guest_ifaces "$1" "${2:-120}" && echo "GIFACES $GIFACES"; }
fdb_has() { /usr/sbin/bridge fdb show br xenbr0 2>/dev/null | grep -i "^$1 dev "; }

# the lab link: the NIC QEMU gave this dom0 (the only one with a device) in xenbr0
lab_up() {
  local n i=0
  # lo too: a connection to this host's own lab address (etcd's own members) goes through it
  $IP link set lo up
  insmod /lib/modules/$(uname -r)/kernel/drivers/net/ethernet/intel/e1000/e1000.ko 2>&1
  WIRE=""
  while [ -z "$WIRE" ] && [ $i -lt 50 ]; do
    for n in /sys/class/net/*; do [ -e $n/device ] && WIRE=${n##*/}; done
    [ -n "$WIRE" ] || { sleep 0.2; i=$((i+1)); }
  done
  [ -n "$WIRE" ] || return 1
  echo $WIRE >/run/e2e-wire
  $IP link set $WIRE master xenbr0 && $IP link set $WIRE up || return 1
  if [ "$HOST" = dom0-a ]; then $IP addr add $LAB_A/24 dev xenbr0; else $IP addr add $LAB_B/24 dev xenbr0; fi
}

# ------------------------------------------------------------ dom0-a: the agent
# one request per connection (nc -e): the shell text up to EOF, run here
serve() {
  local req
  req=$(cat)
  echo "@@E2E LOG agent | \$ $req" >/dev/console
  case "$req" in
    # a file as it is (the save image), no status line
    "@@RAW cat "*) eval "${req#@@RAW }"; return ;;
  esac
  # lib.sh's helpers say what they see in plain lines here
  log() { printf '%s\n' "$*"; }
  # stdin not the connection: what stays behind (xl's domain daemon, etcd)
  # must not keep it open
  ( eval "$req" ) </dev/null 2>&1 | sed 's/@@E2E /@@e2e /g'
  echo "@@RC ${PIPESTATUS[0]}"
}
agent() {
  echo "@@E2E INFO two-hosts: dom0-a serves requests on $LAB_A:$AGENT_PORT [dom0 uptime $(cut -d' ' -f1 /proc/uptime)]"
  while :; do nc -l -p $AGENT_PORT -e /usr/bin/bash /e2e/scenarios-two-hosts.sh serve; done
}
# the driver is done with dom0-a: its logs on its console, then power off
finish() {
  local f
  for f in /var/log/xen/*.log /var/log/etcd-*.log; do
    [ -f "$f" ] && { echo "@@E2E LOG agent | ===== $f"; sed 's/^/@@E2E LOG agent |   /' "$f"; } >/dev/console
  done
  (sleep 1; echo "@@E2E END" >/dev/console; sync; poweroff -f) >/dev/null 2>&1 &
  echo "dom0-a powers off"
}

# ------------------------------------------------------------ dom0-b: talking to dom0-a
# cmd_a COMMAND...: like cmd (lib.sh), on dom0-a; sets RC and OUTF
cmd_a() {
  local q n=0
  NCMD=$((NCMD+1)); OUTF=$OUT/$NCMD.out
  q=$(printf '%q ' "$@")
  log "[dom0-a] \$ $q"
  while :; do
    printf '%s\n' "$q" | timeout 200 nc -w 5 $LAB_A $AGENT_PORT >$OUTF.raw 2>&1
    # the agent listens again a moment after each request
    grep -q 'Connection refused' $OUTF.raw && [ $n -lt 20 ] || break
    sleep 0.5; n=$((n+1))
  done
  RC=$(sed -n 's/^@@RC \([0-9]*\)$/\1/p' $OUTF.raw | tail -n1)
  grep -v '^@@RC [0-9]*$' $OUTF.raw >$OUTF
  [ -n "$RC" ] || { RC=255; echo "(no answer from dom0-a's agent)" >>$OUTF; }
  logf $OUTF
  log "(exit status $RC)"
}
# out_a COMMAND...: the last line dom0-a prints for COMMAND (logged as cmd_a does)
out_a() { cmd_a "$@" >/dev/console; tail -n1 $OUTF; }
check_guest_a() {
  cmd_a guest_line "$1" "${4:-120}"
  GIFACES=$(sed -n 's/^GIFACES //p' $OUTF | tail -n1)
  if [ -n "$GIFACES" ]; then check_eq "[dom0-a] guest $1 eth0${3:+ $3}" "$(gmac eth0)" "$2"
  else fail "[dom0-a] guest $1 silent${3:+ $3}"; fi
}
# check_reg MAC WANT: both hosts' registries say WANT ("domain host", or "nothing") for MAC
check_reg() {
  local a b
  a=$(out_a reg_of $1 | cut -d' ' -f1,2); b=$(reg_of $1 | cut -d' ' -f1,2)
  check_eq "registry on dom0-a, $1:" "$a" "$2"
  check_eq "registry on dom0-b, $1:" "$b" "$2"
}
a_alive() { ping -c 1 -W 2 $LAB_A >/dev/null 2>&1; }
# etcd_up: the cluster (m1 on dom0-a, m2 + m3 here) healthy, both hosts' policy on it
etcd_up() {
  local t0 t=0 u ok eps="http://$LAB_A:2379,http://$LAB_B:2379,http://$LAB_B:2381"
  [ -f /run/etcd-ready ] && return 0
  log "$(etcd_start m2 2379 2380; etcd_start m3 2381 2382)"
  cmd_a etcd_start m1 2379 2380
  t0=$(date +%s)
  while [ $t -lt 180 ]; do
    ok=$($ETCDCTL --endpoints $eps endpoint status 2>/dev/null | grep -c '^http://')
    [ "$ok" = 3 ] && break
    sleep 2; t=$(( $(date +%s) - t0 ))
  done
  cmd $ETCDCTL --endpoints $eps endpoint status
  if [ "$ok" = 3 ] && [ $(grep -c '^http://' $OUTF) = 3 ]; then
    ev "etcd cluster of 3 healthy after ${t}s: m1 on dom0-a, m2 and m3 on dom0-b"
    touch /run/etcd-ready
  else
    fail "etcd cluster not healthy after ${t}s ($ok of 3 members answer)"
    log "$(ps -o pid,stat,args 2>&1 | grep -e etcd -e PID; cat /proc/loadavg; free -m)"
    for u in /var/log/etcd-*.log; do log "== $u"; log "$(tail -n 8 $u)"; done
    cmd_a sh -c 'ps -o pid,stat,args | grep -e etcd -e PID; cat /proc/loadavg; tail -n 8 /var/log/etcd-m1.log'
  fi
  cmd_a set_policy etcd
  log "$(set_policy etcd)"
}
log_a_hotplug() {
  cmd_a tail -n 15 /var/log/xen/xen-hotplug.log >/dev/null
  log "dom0-a's hotplug log (last lines):"; logf $OUTF
}

# ------------------------------------------------------------ 1
sc_1() {
  begin 1 "strangers on one wire (a SQLite registry each): a guest on dom0-a talks with $MAC_A; on dom0-b the guest whose IP gives that MAC is refused by the wire check, naming the port where dom0-b's bridge learned it; once dom0-a's guest is gone and dom0-b's bridge has aged it out, it starts"
  local t line
  cmd_a grep -E '^registry' /etc/xen/vifmac.conf
  check_msg "dom0-a's registry:" sqlite:
  # dom0-b's bridge forgets what it learned after 10 s instead of 300 s
  cmd $IP link set dev xenbr0 type bridge ageing_time 1000
  cmd_a xl create $CFG/alpha.cfg
  check_rc0 "[dom0-a] xl create alpha (ip 192.0.2.10, talking)"
  check_guest_a alpha $MAC_A
  t=0; while ! fdb_has $MAC_A >/dev/null && [ $t -lt 60 ]; do sleep 1; t=$((t+1)); done
  cmd /usr/sbin/bridge fdb show br xenbr0
  check_msg "dom0-b's FDB (after ${t}s):" $MAC_A "dev $WIRE" master xenbr0
  cmd $VIFMAC seen $MAC_A
  check_eq "[dom0-b] vifmac seen $MAC_A exit status (1: seen)" "$RC" 1
  check_msg "[dom0-b] vifmac seen:" bridge xenbr0 port $WIRE
  xl_create bravo
  check_refused "[dom0-b] xl create bravo (ip 192.0.2.10)"
  check_msg "[dom0-b] message:" $MAC_A "bridge xenbr0 port $WIRE"
  check_absent bravo
  check_eq "registry on dom0-a, $MAC_A:" "$(out_a reg_of $MAC_A | cut -d' ' -f1,2)" "alpha dom0-a"
  check_eq "registry on dom0-b, $MAC_A:" "$(reg_of $MAC_A)" "nothing"
  cmd_a xl destroy alpha
  check_rc0 "[dom0-a] xl destroy alpha"
  t=0; while fdb_has $MAC_A >/dev/null && [ $t -lt 90 ]; do sleep 1; t=$((t+1)); done
  if fdb_has $MAC_A >/dev/null; then fail "dom0-b's bridge still has $MAC_A after ${t}s: $(fdb_has $MAC_A)"
  else ev "dom0-b's bridge aged $MAC_A out ${t}s after alpha was destroyed (ageing_time 10 s)"; fi
  xl_create bravo
  check_rc0 "[dom0-b] xl create bravo, the MAC gone from the wire"
  check_guest bravo $MAC_A
  check_eq "registry on dom0-a, $MAC_A:" "$(out_a reg_of $MAC_A)" "nothing"
  check_eq "registry on dom0-b, $MAC_A:" "$(reg_of $MAC_A | cut -d' ' -f1,2)" "bravo dom0-b"
  cmd xl destroy bravo
  cmd $IP link set dev xenbr0 type bridge ageing_time 30000
  end
}

# ------------------------------------------------------------ 2
sc_2() {
  begin 2 "one etcd cluster for both hosts: a guest held on dom0-a is refused on dom0-b naming dom0-a; xl save on dom0-a, the image over the shared link, xl restore on dom0-b keeps the MAC and the claim moves to dom0-b, vifmac gc on dom0-a leaves it; the migration hand-over replayed across the hosts is accepted"
  local uuid uuid_b sum_a sum_b t0 t size
  etcd_up
  check_msg "dom0-a's policy:" "registry = \"etcd:http://$LAB_A:2379"
  cmd_a xl create $CFG/golf.cfg
  check_rc0 "[dom0-a] xl create golf (ip 192.0.2.70)"
  check_guest_a golf $MAC_G
  uuid=$(out_a uuid_of golf)
  check_reg $MAC_G "golf dom0-a"
  xl_create golf2
  check_refused "[dom0-b] xl create golf2 (ip 192.0.2.70)"
  check_msg "[dom0-b] message:" $MAC_G "domain golf" "host dom0-a"
  check_absent golf2
  # xl save on dom0-a, the image to dom0-b over the lab link, xl restore there
  cmd_a xl save golf /tmp/golf.save
  check_rc0 "[dom0-a] xl save golf"
  check_reg $MAC_G "nothing"
  sum_a=$(out_a sha256sum /tmp/golf.save | cut -d' ' -f1)
  t0=$(date +%s)
  printf '@@RAW cat /tmp/golf.save\n' | timeout 300 nc -w 5 $LAB_A $AGENT_PORT >$OUT/golf.save
  t=$(( $(date +%s) - t0 )); size=$(( $(stat -c %s $OUT/golf.save) / 1048576 ))
  sum_b=$(sha256sum $OUT/golf.save | cut -d' ' -f1)
  check_eq "save image copied over the lab link (${size} MB in ${t}s), sha256" "$sum_b" "${sum_a:-(none)}"
  con_mark golf
  cmd xl restore $OUT/golf.save
  check_rc0 "[dom0-b] xl restore golf.save"
  check_guest golf $MAC_G "after xl restore on dom0-b"
  check_eq "[dom0-b] xl network-list golf devid 0" "$(xl_mac golf 0)" $MAC_G
  check_eq "[dom0-b] golf's UUID" "$(uuid_of golf)" "${uuid:-(none)}"
  check_reg $MAC_G "golf dom0-b"
  cmd_a $VIFMAC gc
  check_msg "[dom0-a] vifmac gc:" "released 0 claims"
  check_reg $MAC_G "golf dom0-b"
  cmd xl destroy golf
  rm -f $OUT/golf.save
  # the hand-over of xl migrate, replayed (log-dirty mode is not in this lab):
  # the receiver here while the source still runs on dom0-a
  handover hotel $MAC_H cmd_a dom0-a
  check_msg "[dom0-a] vifmac gc:" "released 0 claims"
  check_reg $MAC_H "hotel dom0-b"
  cmd xl destroy hotel
  log_a_hotplug
  end
}

# ------------------------------------------------------------ 3
sc_3() {
  begin 3 "pools across hosts: the operator's range imported once on the shared etcd registry; a guest on dom0-a and one on dom0-b on xenpool get different addresses from it, one after the other and at once, each host sees every claim"
  local rc4 m3 m4 t0 t4 d3 d4
  etcd_up
  printf '# the operator block for xenpool, on the cluster\n52:54:00:bb:00:00-52:54:00:bb:00:07\n' >/etc/xen/vifmac-block.txt
  cmd $VIFMAC pool import block /etc/xen/vifmac-block.txt
  check_rc0 "[dom0-b] vifmac pool import block (52:54:00:bb:00:00-07)"
  cmd_a $VIFMAC pool show block --json
  check_eq "[dom0-a] pool block (imported on dom0-b) size used free:" "$(jq -r '"\(.size) \(.used) \(.free)"' $OUTF 2>&1)" "8 0 8"
  cmd_a xl create $CFG/papa.cfg
  check_rc0 "[dom0-a] xl create papa (xenpool)"
  check_guest_a papa $POOL_0
  xl_create papa2
  check_rc0 "[dom0-b] xl create papa2 (xenpool)"
  check_guest papa2 $POOL_1 "(the next address: dom0-a's papa holds the first)"
  check_eq "[dom0-b] xl network-list papa2 devid 0" "$(xl_mac papa2 0)" $POOL_1
  check_reg $POOL_0 "papa dom0-a"
  check_reg $POOL_1 "papa2 dom0-b"
  cmd $VIFMAC whois $POOL_1
  check_msg "[dom0-b] whois:" $POOL_1 papa2 source pool:block
  cmd_a $VIFMAC pool show block --json
  check_eq "[dom0-a] pool block size used free:" "$(jq -r '"\(.size) \(.used) \(.free)"' $OUTF 2>&1)" "8 2 6"
  # both hosts at once: papa3 on dom0-a (in a subshell: its own command
  # number, its status in a file) while papa4 starts here
  t0=$(cut -d" " -f1 /proc/uptime)
  ( cmd_a xl create $CFG/papa3.cfg; echo $RC >$OUT/papa3.rc; cut -d" " -f1 /proc/uptime >$OUT/papa3.end ) >$OUT/papa3.log 2>&1 &
  NCMD=$((NCMD+1))
  xl_create papa4
  rc4=$RC t4=$(cut -d" " -f1 /proc/uptime)
  wait
  cat $OUT/papa3.log
  RC=$(cat $OUT/papa3.rc 2>/dev/null || echo none)
  check_rc0 "[dom0-a] xl create papa3, at the same time as papa4 on dom0-b"
  RC=$rc4
  check_rc0 "[dom0-b] xl create papa4, at the same time as papa3 on dom0-a"
  # both began at t0 (dom0-b's uptime): side by side until the first returned
  d3=$(awk -v s=$t0 -v e="$(cat $OUT/papa3.end 2>/dev/null)" 'BEGIN{printf "%.1f", (e == "" ? s : e) - s}')
  d4=$(awk -v s=$t0 -v e=$t4 'BEGIN{printf "%.1f", e - s}')
  ev "papa3's xl create took ${d3} s, papa4's ${d4} s, both begun at once: side by side for $(awk -v a=$d3 -v b=$d4 'BEGIN{print (a < b ? a : b)}') s"
  # which of the two gets which is the race's; each guest says what it got
  cmd_a guest_line papa3
  GIFACES=$(sed -n 's/^GIFACES //p' $OUTF | tail -n1); m3=$(gmac eth0)
  guest_ifaces papa4; m4=$(gmac eth0)
  case "$m3 $m4" in
    "$POOL_2 $POOL_3"|"$POOL_3 $POOL_2") ev "created at once, the guests report two different addresses: papa3 (dom0-a) $m3, papa4 (dom0-b) $m4" ;;
    *) fail "papa3 (dom0-a) and papa4 (dom0-b), created at once, report '$m3' and '$m4', want $POOL_2 and $POOL_3 in some order" ;;
  esac
  check_reg $m3 "papa3 dom0-a"
  check_reg $m4 "papa4 dom0-b"
  cmd $VIFMAC pool show block --json
  check_eq "[dom0-b] pool block size used free:" "$(jq -r '"\(.size) \(.used) \(.free)"' $OUTF 2>&1)" "8 4 4"
  cmd_a xl destroy papa; cmd_a xl destroy papa3
  cmd xl destroy papa2; cmd xl destroy papa4
  end
}

# ------------------------------------------------------------ 4
sc_4() {
  begin 4 "a host dies: dom0-a's QEMU is killed while its guest holds $MAC_K; on dom0-b that MAC stays refused (dom0-a's claim) until vifmac gc --host dom0-a, then dom0-b's guest starts with it"
  local t=0 gone=0
  etcd_up
  cmd_a xl create $CFG/kilo.cfg
  check_rc0 "[dom0-a] xl create kilo (ip 192.0.2.100)"
  check_guest_a kilo $MAC_K
  check_reg $MAC_K "kilo dom0-a"
  # the harness (tests/e2e/two-hosts) kills dom0-a's QEMU when it reads this
  echo "@@E2E HOST kill dom0-a"
  while [ $t -lt 120 ]; do
    if a_alive; then gone=0; else gone=$((gone+1)); [ $gone -ge 3 ] && break; fi
    sleep 1; t=$((t+1))
  done
  if [ $gone -ge 3 ]; then ev "dom0-a killed (its QEMU quit): no answer on the lab link after ${t}s"
  else fail "dom0-a still answers ${t}s after the kill request"; fi
  # if m1 led, m2 and m3 elect a new leader first (election timeout 5 s)
  t=0; while [ $t -lt 60 ] && ! $ETCDCTL --endpoints http://$LAB_B:2379,http://$LAB_B:2381 endpoint health >/dev/null 2>&1; do sleep 2; t=$((t+2)); done
  cmd $ETCDCTL --endpoints http://$LAB_B:2379,http://$LAB_B:2381 endpoint health
  check_eq "[dom0-b] etcd members m2, m3 healthy (quorum 2 of 3):" "$(grep -c 'is healthy' $OUTF)" 2
  check_eq "registry on dom0-b, $MAC_K:" "$(reg_of $MAC_K | cut -d' ' -f1,2)" "kilo dom0-a"
  xl_create kilo2
  check_refused "[dom0-b] xl create kilo2 (ip 192.0.2.100)"
  check_msg "[dom0-b] message:" $MAC_K "domain kilo" "host dom0-a"
  check_absent kilo2
  cmd $VIFMAC gc
  check_msg "[dom0-b] vifmac gc (claims of other hosts kept):" "released 0 claims"
  check_eq "registry on dom0-b, $MAC_K:" "$(reg_of $MAC_K | cut -d' ' -f1,2)" "kilo dom0-a"
  cmd $VIFMAC gc --host dom0-a
  check_rc0 "[dom0-b] vifmac gc --host dom0-a"
  check_msg "[dom0-b] vifmac gc --host dom0-a:" "released 1 claim of host dom0-a"
  check_eq "registry on dom0-b, $MAC_K:" "$(reg_of $MAC_K)" "nothing"
  xl_create kilo2
  check_rc0 "[dom0-b] xl create kilo2 after vifmac gc --host dom0-a"
  check_guest kilo2 $MAC_K
  check_eq "registry on dom0-b, $MAC_K:" "$(reg_of $MAC_K | cut -d' ' -f1,2)" "kilo2 dom0-b"
  cmd xl destroy kilo2
  end
}

driver() {
  local t=0 s
  while [ $t -lt 600 ]; do
    printf 'echo ready\n' | timeout 10 nc -w 3 $LAB_A $AGENT_PORT 2>/dev/null | grep -q '^ready' && break
    sleep 2; t=$((t+2))
  done
  echo "@@E2E INFO two-hosts: lab ready, dom0-a answers on the lab link after ${t}s [dom0 uptime $(cut -d' ' -f1 /proc/uptime)]"
  for s in 1 2 3 4; do
    want $s || continue
    sc_$s
    log "xl list: $(xl list 2>&1 | awk 'NR>1{printf "%s(%s) ", $1, $2}')"
  done
  a_alive && cmd_a finish
  CUR=-
  for f in /var/log/xen/*.log /var/log/etcd-*.log; do [ -f "$f" ] && { log "===== $f"; logf "$f"; }; done
}

# ------------------------------------------------------------ main
case "${1:-}" in
  serve) WIRE=$(cat /run/e2e-wire); serve; exit ;;
esac
ONLY=$(sed -n 's/.*e2e_only=\([0-9+]*\).*/\1/p' /proc/cmdline)   # "1+2"
want() { [ -z "$ONLY" ] || case "+$ONLY+" in *"+$1+"*) return 0;; *) return 1;; esac; }
echo 'vif.default.script="vif-vifmac"' >>/etc/xen/xl.conf
lab_up || echo "@@E2E FATAL $HOST: the lab link did not come up ($(ls /sys/class/net | tr '\n' ' '))"
echo "@@E2E INFO two-hosts: $HOST, $WIRE in xenbr0 ($(cat /sys/class/net/$WIRE/address 2>&1)), $($IP -o -4 addr show dev xenbr0 | awk '{print $4}')"
set_policy sqlite >/dev/null
guest_cfg alpha pv "bridge=xenbr0,ip=192.0.2.10"
sed -i 's/^extra = "\(.*\)"/extra = "\1 e2e_talk=192.0.2.10"/' $CFG/alpha.cfg
guest_cfg bravo pv "bridge=xenbr0,ip=192.0.2.10"
guest_cfg golf pv "bridge=xenbr0,ip=192.0.2.70"
guest_cfg golf2 pv "bridge=xenbr0,ip=192.0.2.70"
guest_cfg hotel pv "bridge=xenbr0,ip=192.0.2.80"
guest_cfg papa pv "bridge=xenpool,ip=203.0.113.31"
guest_cfg papa2 pv "bridge=xenpool,ip=203.0.113.32"
guest_cfg papa3 pv "bridge=xenpool,ip=203.0.113.33"
guest_cfg papa4 pv "bridge=xenpool,ip=203.0.113.34"
guest_cfg kilo pv "bridge=xenbr0,ip=192.0.2.100"
guest_cfg kilo2 pv "bridge=xenbr0,ip=192.0.2.100"
case "$HOST" in
  dom0-a) agent ;;
  *) driver ;;
esac
