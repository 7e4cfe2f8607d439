#!/usr/bin/bash
# The hook benchmark on the real Xen host (issue 15, "Measure"), run inside
# dom0 by bench/xen-hook only (dom0-init, e2e_mode=hookbench): never part of
# tests/e2e/run's scenarios. bench/hook measures vif-vifmac against the stock
# vif-bridge on a fake xenstore whose every operation locks and reads a state
# file; here both run as libxl runs them, against the real xenstored.
#
# One running PV guest (hbguest: eth0 on xenbr1 by the stock vif-bridge, so
# that it has booted and loaded netfront before the bench starts). Then N
# cycles per variant, the variants shuffled in each round (fixed seed):
#   xl network-attach hbguest bridge=xenbr0 ip=192.0.2.200 mac=MAC script=hb-VARIANT
#   (checks) xl network-detach hbguest 1 (checks)
# with MAC the policy's (vifmac derive), so that vif-vifmac verifies and
# claims rather than refuses; every variant gets the same arguments.
# hb-VARIANT is one wrapper text for all (hb_wrapper): it takes
# $EPOCHREALTIME (a bash builtin: no process) at its start, runs the real
# script as its child, takes it again and the children's CPU time (`times`,
# a builtin), and appends one line to /run/hookbench/samples. Variants:
#   vif-bridge         /etc/xen/scripts/vif-bridge (stock, Debian's)
#   vif-vifmac         /etc/xen/scripts/vif-vifmac (from the .deb; enforce = "mac", the default)
#   vif-vifmac-helper  a script that times the helper `vifmac hotplug online`
#                      alone, then execs vif-bridge (vif-vifmac is one program
#                      taking the same decision in process: this script's bash
#                      makes this variant's total dearer; its total is not the
#                      comparison, its helper lines are)
# After every attach: the vif is a port of xenbr0, the backend's and `xl
# network-list`'s MAC is MAC, the guest's netfront connected (frontend state
# 4), and for vif-vifmac the registry holds MAC for hbguest and the rules
# hold the vif to MAC (for vif-bridge: neither). After every detach: the vif
# and its backend are gone, no claim, no rules (`vifmac enforce list` empty).
# Every online must be recorded by its wrapper with exit status 0.
# Boot storm (e2e_hb_k=K, e2e_hb_r=R): K vifs (devid 1..K, ip 192.0.2.210..)
# attached at once by K parallel xl network-attach, R batches per variant
# interleaved; the same checks for all K, then K parallel detaches.
# Output: "@@E2E BENCH ..." lines (every sample), read by bench/xen-hook.
. /e2e/lib.sh

HB=/run/hookbench
S=/etc/xen/scripts
G=hbguest
HB_IP=192.0.2.200
HB_MAC=02:00:c0:00:02:c8     # the policy's MAC for 192.0.2.200 (prefix 02:00 + the IPv4)
arg() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" /proc/cmdline; }
N=$(arg e2e_hb_n); N=${N:-40}
K=$(arg e2e_hb_k); K=${K:-8}
R=$(arg e2e_hb_r); R=${R:-4}
VARIANTS=(vif-bridge vif-vifmac vif-vifmac-helper)
mkdir -p $HB

# hb_wrapper VARIANT REAL [ENV]: the same text for every variant; ENV is an
# assignment exported before the real script runs (the helper shim).
hb_wrapper() {
  cat >$S/hb-$1 <<W
#!/bin/bash
# hookbench wrapper ($1): times \`online\` of $2 (tests/e2e/scenarios-hookbench.sh)
[ "\$1" = online ] || exec $2 "\$@"
${3:+export $3}
t0=\$EPOCHREALTIME
$2 "\$@"
rc=\$?
t1=\$EPOCHREALTIME
times >$HB/times.\$\$
{ read -r _; read -r u s; } <$HB/times.\$\$
echo "$1 \${t0/./} \${t1/./} \$u \$s \$rc \${vif:-?}" >>$HB/samples
exit \$rc
W
  chmod 755 $S/hb-$1
}
# the helper alone, then vif-bridge: the same timing around `vifmac hotplug`
hb_shim() {
  cat >$HB/helper-hook <<W
#!/bin/bash
t0=\$EPOCHREALTIME
out=\$($VIFMAC hotplug "\$@" </dev/null)
rc=\$?
t1=\$EPOCHREALTIME
[ \$rc = 0 ] || { echo "\$out" >&2; [ "\$1" != online ] || exit 1; }
if [ "\$1" = online ]; then
  times >$HB/times.\$\$
  { read -r _; read -r u s; } <$HB/times.\$\$
  echo "helper \${t0/./} \${t1/./} \$u \$s \$rc \${vif:-?}" >>$HB/helper
fi
exec $S/vif-bridge "\$@"
W
  chmod 755 $HB/helper-hook
}

# cpu_us 0m0.012s 0m0.004s: user + system in microseconds
cpu_us() {
  local t sum=0 m r
  for t in "$@"; do
    m=${t%%m*}; r=${t#*m}; r=${r%s}
    sum=$((sum + (10#$m * 60 + 10#${r%.*}) * 1000000 + 10#${r#*.} * 1000))
  done
  echo $sum
}

# take_samples WANT VARIANT FILE: the wrapper's lines since the last call
# must be WANT lines of VARIANT with exit status 0; they are appended to
# FILE as "t0_us t1_us cpu_us vif". Returns 1 (and says why) otherwise.
take_samples() {
  local want=$1 v=$2 out=$3 lines l name t0 t1 u s rc vif bad=""
  mapfile -t lines <$HB/samples 2>/dev/null
  : >$HB/samples
  [ ${#lines[@]} = "$want" ] || { echo "$v: ${#lines[@]} online runs recorded, want $want"; return 1; }
  for l in "${lines[@]}"; do
    read -r name t0 t1 u s rc vif <<<"$l"
    # only a run that did its work is a sample
    if [ "$name" != "$v" ]; then bad="$bad; $vif ran $name, not $v"
    elif [ "$rc" != 0 ]; then bad="$bad; $vif online exit status $rc"
    else echo "$t0 $t1 $(cpu_us "$u" "$s") $vif" >>"$out"; fi
  done
  [ -z "$bad" ] || { echo "$v:${bad#;}"; return 1; }
}

# vif_up VARIANT DEVID MAC: the checks after an attach; echoes what is wrong
vif_up() {
  local v=$1 id=$2 mac=$3 d vif st t=0
  d=$(domid_of $G); vif=vif$d.$id
  [ -e /sys/class/net/$vif ] || { echo "$vif: no such interface"; return; }
  [ "$(readlink /sys/class/net/$vif/master)" != "" ] && [ "$(basename "$(readlink /sys/class/net/$vif/master)")" = xenbr0 ] ||
    echo "$vif: not a port of xenbr0"
  [ "$(xenstore-read /local/domain/0/backend/vif/$d/$id/mac 2>&1)" = "$mac" ] ||
    echo "$vif: backend mac $(xenstore-read /local/domain/0/backend/vif/$d/$id/mac 2>&1), want $mac"
  while st=$(xenstore-read /local/domain/$d/device/vif/$id/state 2>/dev/null); [ "$st" != 4 ] && [ $t -lt 600 ]; do
    sleep 0.1; t=$((t+1))
  done
  [ "$st" = 4 ] || echo "$vif: the guest's netfront did not connect (frontend state ${st:-none} after 60 s)"
}

# Checks of the whole guest after a batch: xl network-list, rules, claims.
# hb_state VARIANT "DEVID=MAC ..." (what should be attached; "" after a detach)
hb_state() {
  local v=$1 want=$2 w have rules claims d wr=""
  d=$(domid_of $G)
  # xl lists the vifs in the order they were added (the storm's come in any order)
  have=$(xl_macs $G | tr ' ' '\n' | sort | tr '\n' ' ')
  w=$(echo "0=$G0_MAC $want" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
  [ "$have" = "$w" ] || echo "xl network-list $G: '$have', want '$w'"
  rules=$($VIFMAC enforce list 2>&1 | awk '{print $1 "=" $2}' | sort | tr '\n' ' ')
  claims=$(reg_macs_of $G)
  if [ "$v" = vif-bridge ] || [ -z "$want" ]; then
    [ -z "$rules" ] || echo "rules: '$rules', want none"
    [ -z "$claims" ] || echo "registry holds '$claims' for $G, want nothing"
  else
    for w in $want; do wr="$wr vif$d.${w%%=*}=${w#*=}"; done
    wr=$(echo $wr | tr ' ' '\n' | sort | tr '\n' ' ')
    [ "$rules" = "$wr" ] || echo "rules: '$rules', want '$wr'"
    [ "$claims" = "$(for w in $want; do echo ${w#*=}; done | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
      echo "registry holds '$claims' for $G, want the attached MACs"
  fi
  if [ -z "$want" ]; then
    for w in /sys/class/net/vif$d.*; do [ "$w" = "/sys/class/net/vif$d.0" ] || [ ! -e "$w" ] || echo "${w##*/} still there"; done
    for w in $(xenstore-list /local/domain/0/backend/vif/$d 2>/dev/null); do [ "$w" = 0 ] || echo "backend vif/$d/$w still there"; done
  fi
}

hb_problems=0
problem() { hb_problems=$((hb_problems+1)); [ $hb_problems -le 20 ] && fail "$*"; }
# guest_gone: the guest died (a crash under TCG destroys it: on_crash): the
# bench stops there and shows what the guest said last
guest_gone() {
  exists $G && return 1
  fail "the guest $G is gone; its console's last lines: $(tail -n 8 "$(con_file $G)" 2>/dev/null | tr -d '\r' | tr '\n' '|' | cut -c1-600)"
  return 0
}

# one cycle: attach, checks, detach, checks
cycle() {
  local v=$1 out bad t=0
  out=$OUT/hb-attach.out
  # the guest's view is checked in the first cycle of each variant: by then
  # it has seen the previous vif go (it looks every second)
  [ "$3" = first ] && { sleep 3; con_mark $G; }
  if ! xl network-attach $G bridge=xenbr0 ip=$HB_IP mac=$HB_MAC script=hb-$v >$out 2>&1; then
    problem "cycle $2 $v: xl network-attach failed: $(tail -n2 $out | tr '\n' ' ')"
  fi
  bad=$(take_samples 1 $v $HB/single.$v; vif_up $v 1 $HB_MAC; hb_state $v "1=$HB_MAC")
  [ -z "$bad" ] || problem "cycle $2 $v after attach: $(echo $bad)"
  if [ "$3" = first ]; then
    # the guest itself sees the MAC (its console: eth1 is the hot-plugged vif)
    while ! con_lines $G | grep -q "DOMU-IFACES [0-9]* .*eth1=$HB_MAC" && [ $t -lt 60 ]; do sleep 0.5; t=$((t+1)); done
    if con_lines $G | grep -q "DOMU-IFACES [0-9]* .*eth1=$HB_MAC"; then ev "$v: the guest reports eth1=$HB_MAC"
    else fail "$v: the guest does not report eth1=$HB_MAC within 30 s (last: $(con_lines $G | grep DOMU-IFACES | tail -n1))"; fi
  fi
  xl network-detach $G 1 >$out 2>&1 || problem "cycle $2 $v: xl network-detach failed: $(tail -n2 $out | tr '\n' ' ')"
  bad=$(hb_state $v "")
  [ -z "$bad" ] || problem "cycle $2 $v after detach: $(echo $bad)"
}

# storm_mac I: the policy's MAC for the storm's vif I (192.0.2.(210 + I))
storm_mac() { printf '02:00:c0:00:02:%02x' $((210 + $1)); }

# one storm batch: K attaches at once, checks, K detaches at once, checks
storm() {
  local v=$1 i pids=() t0 t1 want="" bad nf=0
  for ((i = 0; i < K; i++)); do want="$want $((i+1))=$(storm_mac $i)"; done
  want=${want# }
  t0=$EPOCHREALTIME
  for ((i = 0; i < K; i++)); do
    xl network-attach $G devid=$((i+1)) bridge=xenbr0 ip=192.0.2.$((210+i)) \
      mac="$(storm_mac $i)" script=hb-$v >$OUT/hb-storm-$i.out 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait $i || nf=$((nf+1)); done
  t1=$EPOCHREALTIME
  [ $nf = 0 ] || problem "storm $2 $v: $nf of $K xl network-attach failed: $(cat $OUT/hb-storm-*.out | grep -v '^$' | head -n2 | tr '\n' ' ')"
  echo "${t0/./} ${t1/./}" >>$HB/storm-xl.$v
  bad=$(take_samples $K $v $HB/storm.$v.$2
        for ((i = 0; i < K; i++)); do vif_up $v $((i+1)) "$(storm_mac $i)"; done
        hb_state $v "$want")
  [ -z "$bad" ] || problem "storm $2 $v after attach: $(echo $bad | cut -c1-400)"
  pids=()
  for ((i = 0; i < K; i++)); do xl network-detach $G $((i+1)) >$OUT/hb-storm-$i.out 2>&1 & pids+=($!); done
  nf=0; for i in "${pids[@]}"; do wait $i || nf=$((nf+1)); done
  [ $nf = 0 ] || problem "storm $2 $v: $nf of $K xl network-detach failed"
  bad=$(hb_state $v "")
  [ -z "$bad" ] || problem "storm $2 $v after detach: $(echo $bad | cut -c1-400)"
}

sc_hookbench() {
  local i j k t v order d n
  begin hookbench "vif-vifmac online against the stock vif-bridge online on the real Xen host, $N cycles per variant$( [ "$K" -gt 0 ] && echo ", boot storm of $K vifs x $R batches")"
  write_table
  write_policy global
  log "policy: $(grep -c enforce /etc/xen/vifmac.conf) enforce lines (none: the default, enforce = \"mac\")"
  check_eq "vifmac derive --bridge xenbr0 --ip $HB_IP:" "$($VIFMAC derive --bridge xenbr0 --ip $HB_IP 2>/dev/null)" $HB_MAC
  check_eq "vifmac derive for the storm's last vif (192.0.2.$((210+K-1))):" \
    "$($VIFMAC derive --bridge xenbr0 --ip 192.0.2.$((210+K-1)) 2>/dev/null)" "$(storm_mac $((K-1)))"
  hb_wrapper vif-bridge $S/vif-bridge
  hb_wrapper vif-vifmac $S/vif-vifmac
  hb_shim
  hb_wrapper vif-vifmac-helper $HB/helper-hook
  G0_MAC=00:16:3e:00:00:01
  guest_cfg $G pv "bridge=xenbr1,script=vif-bridge,mac=$G0_MAC"
  # 128 MB (the lab's guests) ran out after some 45 hot-plug cycles: twice the
  # guest's kernel died (in round 15 of 20, and when 8 vifs came at once after 14)
  sed -i 's/^memory = .*/memory = 512/' $CFG/$G.cfg
  xl_create $G
  check_rc0 "xl create $G"
  check_guest $G $G0_MAC "(eth0 on xenbr1, stock vif-bridge)"
  d=$(domid_of $G)
  for v in "${VARIANTS[@]}"; do : >$HB/single.$v; : >$HB/storm-xl.$v; done
  : >$HB/samples; : >$HB/helper
  # warm-up: one cycle of each, not counted (page cache, the registry file, the nftables table)
  for v in "${VARIANTS[@]}"; do cycle $v warmup first; : >$HB/single.$v; done
  : >$HB/helper
  echo "@@E2E BENCH load-before $(cat /proc/loadavg)"
  RANDOM=4242
  for ((i = 0; i < N; i++)); do
    order=("${VARIANTS[@]}")
    for ((j = ${#order[@]} - 1; j > 0; j--)); do
      k=$((RANDOM % (j + 1))); t=${order[j]}; order[j]=${order[k]}; order[k]=$t
    done
    for v in "${order[@]}"; do cycle $v $i; done
    guest_gone && break
    [ $((i % 10)) = 9 ] && log "round $((i+1)) of $N done ($hb_problems problems so far; load $(cut -d' ' -f1-3 /proc/loadavg))"
  done
  echo "@@E2E BENCH load-single $(cat /proc/loadavg)"
  for v in "${VARIANTS[@]}"; do
    n=$(wc -l <$HB/single.$v)
    check_eq "$v online runs recorded (exit 0 each, checked):" $n $N
  done
  check_eq "helper runs recorded:" "$(wc -l <$HB/helper)" $N
  if [ "$K" -gt 0 ] && exists $G; then
    # the storm's two variants only; the helper shim is not timed in it
    for ((i = 0; i < R; i++)); do
      if ((i % 2)); then storm vif-bridge $i; storm vif-vifmac $i; else storm vif-vifmac $i; storm vif-bridge $i; fi
      guest_gone && break
    done
    echo "@@E2E BENCH load-storm $(cat /proc/loadavg)"
    for v in vif-bridge vif-vifmac; do
      check_eq "$v storm batches (each $K online runs, exit 0, checked):" "$(ls $HB/storm.$v.* 2>/dev/null | wc -l)" $R
    done
  fi
  check_eq "problems (failed attaches, refusals, wrong MAC, left-over state):" $hb_problems 0
  # every sample, for bench/xen-hook
  for v in "${VARIANTS[@]}"; do
    while read -r t0 t1 c vif; do echo "@@E2E BENCH single $v $((t1 - t0)) $c $vif"; done <$HB/single.$v
  done
  while read -r _ t0 t1 u s rc vif; do echo "@@E2E BENCH single helper $((t1 - t0)) $(cpu_us $u $s) $vif"; done <$HB/helper
  for v in vif-bridge vif-vifmac; do
    for f in $HB/storm.$v.*; do
      [ -f "$f" ] || continue
      # the scripts' span: the first start to the last exit of the batch
      awk -v v=$v 'NR == 1 || $1 < a { a = $1 } $2 > b { b = $2 } END { printf "@@E2E BENCH storm %s %d\n", v, b - a }' "$f"
    done
    while read -r t0 t1; do echo "@@E2E BENCH storm-xl $v $((t1 - t0))"; done <$HB/storm-xl.$v
  done
  cmd xl destroy $G
  end
}

sc_hookbench
f=/var/log/xen/xen-hotplug.log
if [ -f $f ]; then log "===== $f (last 40 lines)"; tail -n 40 $f | while IFS= read -r l; do log "  $l"; done; fi
