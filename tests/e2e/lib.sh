# Helpers for the scenarios run inside dom0 (sourced by scenarios.sh and demo.sh).
# Output protocol, one line each, read by tests/e2e/run on the host:
#   @@E2E BEGIN id title            a scenario starts
#   @@E2E LOG id | text             detail (commands, their output, guest lines)
#   @@E2E RESULT id STATUS title :: evidence / failures
VIFMAC=/usr/sbin/vifmac
CFG=/e2e/cfg
OUT=/tmp/e2e
CON=/var/log/xen/console
mkdir -p $CFG $OUT
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
CUR=-
NCMD=0
declare -A CONOFF

log() { local l; while IFS= read -r l; do echo "@@E2E LOG $CUR | $l"; done <<<"$*"; }
logf() { local l; while IFS= read -r l; do echo "@@E2E LOG $CUR |   $l"; done <"$1"; }

# ------------------------------------------------------------ policy and configs
# write_policy SCOPE: the lab's policy (see tests/e2e/README.md)
write_policy() {
  cat >/etc/xen/vifmac.conf <<POL
# vifmac policy for the end-to-end lab
prefix = "02:00"
private_bridges = [ "xenbr0", "xenbr1" ]
public_bridges = [ "xenpub", "xenpool" ]
public_table = "/etc/xen/vifmac-table.txt"
bridge_pools = [ "xenpool=block" ]
scope = "$1"
registry = "sqlite:/var/lib/vifmac/registry.db"
POL
  log "policy: scope = \"$1\""
}

write_table() {
  cat >/etc/xen/vifmac-table.txt <<TAB
# IPv4            MAC (the operator's table for the public bridge)
198.51.100.10     52:54:00:aa:00:10
198.51.100.11     52:54:00:aa:00:11
TAB
}

# guest_cfg NAME TYPE VIF... : writes $CFG/NAME.cfg (a PV guest unless TYPE=hvm)
guest_cfg() {
  local name=$1 type=$2 v vifs=""; shift 2
  for v in "$@"; do vifs="$vifs${vifs:+, }'$v'"; done
  if [ "$type" = hvm ]; then
    cat >$CFG/$name.cfg <<C
name = "$name"
type = "hvm"
kernel = "/domu/vmlinuz"
ramdisk = "/domu/initrd.img"
# xen_nopv: a plain PC guest (no PV clock, no event channels); quiet, as every
# character on the emulated UART is a trip through nested SVM.
cmdline = "console=ttyS0 quiet loglevel=3 xen_nopv e2e_hvm"
# xenconsoled does not log an HVM guest's serial port: QEMU writes it where
# the PV guests' consoles are logged
serial = "file:$CON/guest-$name.log"
vnc = 0
sdl = 0
nographic = 1
xen_platform_pci = 0
# The lab's nested SVM (QEMU TCG) gives no next-RIP on an intercepted RDTSCP
# and Xen cannot step over it ("SVM Insn len emulation failed"): hide RDTSCP.
cpuid = "host,rdtscp=0"
memory = 192
vcpus = 1
vif = [ $vifs ]
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
C
  else
    cat >$CFG/$name.cfg <<C
name = "$name"
type = "pv"
kernel = "/domu/vmlinuz"
ramdisk = "/domu/initrd.img"
extra = "console=hvc0 quiet loglevel=3"
memory = 128
vcpus = 1
vif = [ $vifs ]
on_poweroff = "destroy"
on_crash = "destroy"
C
  fi
}

# ------------------------------------------------------------ commands
# cmd LABEL COMMAND...: runs the command (hard limit 150 s), sets RC and OUTF
# (its stdout+stderr), logs both.
cmd() {
  NCMD=$((NCMD+1)); OUTF=$OUT/$NCMD.out
  log "\$ ${*}"
  timeout 150 "$@" >$OUTF 2>&1; RC=$?
  logf $OUTF
  log "(exit status $RC)"
}

# xl_create NAME [key=value...]: xl create $CFG/NAME.cfg, remembering where
# the guest's console log was so that only new guest lines count.
xl_create() { local n=$1; shift; con_mark $n; cmd xl create $CFG/$n.cfg "$@"; }

domid_of() { xl domid "$1" 2>/dev/null; }
exists() { xl domid "$1" >/dev/null 2>&1; }

# ------------------------------------------------------------ what the guest says
con_file() { echo $CON/guest-$1.log; }
con_mark() { CONOFF[$1]=$(cat "$(con_file $1)" 2>/dev/null | wc -l); }
# con_lines NAME: the guest's console lines since the mark, \r stripped
con_lines() { tail -n +$((${CONOFF[$1]:-0}+1)) "$(con_file $1)" 2>/dev/null | tr -d '\r'; }

# guest_ifaces NAME [TIMEOUT] [MINSEQ]: waits for a "DOMU-IFACES n ..." line
# with n >= MINSEQ printed since the mark; sets GSEQ and GIFACES
# ("eth0=MAC eth1=MAC") from the newest. Returns 1 on timeout.
guest_ifaces() {
  local name=$1 to=${2:-120} min=${3:-0} t=0 line
  GSEQ=""; GIFACES=""
  while [ $t -lt $((to*2)) ]; do
    line=$(con_lines $name | grep -o 'DOMU-IFACES [0-9]*\( [a-z0-9]*=[0-9a-f:]*\)*' | awk -v m=$min '$2>=m' | tail -n1)
    if [ -n "$line" ]; then
      GSEQ=$(echo "$line" | cut -d' ' -f2); GIFACES=$(echo "$line" | cut -d' ' -f3-)
      log "guest $name reports (#$GSEQ, after $((t/2)) s): $GIFACES"
      return 0
    fi
    sleep 0.5; t=$((t+1))
    # a domain that is gone will not print anything more
    [ $((t % 10)) = 0 ] && ! exists $name && { log "guest $name: the domain does not exist"; break; }
  done
  log "guest $name: no DOMU-IFACES line (n >= $min) within ${to}s; console since mark:"
  con_lines $name | tail -n 20 | while IFS= read -r l; do log "  console: $l"; done
  return 1
}
# check_guest NAME MAC [NOTE [TIMEOUT [MINSEQ]]]: NAME reports (guest_ifaces) and its eth0 is MAC
check_guest() {
  local name=$1 want=$2 note=${3:+ $3}
  if guest_ifaces "$name" "${4:-120}" "${5:-0}"; then check_eq "guest $name eth0$note" "$(gmac eth0)" "$want"
  else fail "guest $name silent$note"; fi
}
# gmac IFACE: that interface's MAC in GIFACES
gmac() { local w; for w in $GIFACES; do [ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return; }; done; echo "(none)"; }

# ------------------------------------------------------------ what the toolstack says
# xl_macs NAME: "devid=MAC ..." from xl network-list
xl_macs() {
  xl network-list "$1" 2>/dev/null | awk 'NR>1 && $3 ~ /:/ {printf "%s%s=%s", sep, $1, $3; sep=" "}'
}
xl_mac() { local w; for w in $(xl_macs "$1"); do [ "${w%%=*}" = "$2" ] && { echo "${w#*=}"; return; }; done; echo "(none)"; }

# ------------------------------------------------------------ what the registry says
reg_json() { $VIFMAC list --json 2>$OUT/reg.err || echo "ERROR: $(cat $OUT/reg.err)"; }
# reg_claims: one line per record, "mac domain bridge devid state"
reg_claims() { reg_json | jq -r '.[] | "\(.mac) \(.domain // "-") \(.bridge // "-") \(.devid) \(.state)"' 2>&1 | sort; }
# reg_macs_of DOMAIN: the MACs the registry holds for DOMAIN, sorted, space separated
reg_macs_of() { reg_json | jq -r --arg d "$1" '[.[] | select(.domain == $d) | .mac] | sort | join(" ")' 2>&1; }
# reg_holders MAC: the domains holding MAC
reg_holders() { reg_json | jq -r --arg m "$1" '[.[] | select(.mac == $m) | (.domain // "(reserved)")] | sort | join(" ")' 2>&1; }
reg_snapshot() { reg_json | jq -S 'sort_by(.mac, .scope)' 2>&1; }
log_registry() { log "registry:"; reg_claims | while IFS= read -r l; do log "  $l"; done; }

# reg_of MAC: who holds MAC in this host's registry: "domain host uuid", or "nothing"
reg_of() {
  reg_json | jq -r --arg m "$1" '[.[] | select(.mac == $m) | "\(.domain // "(reserved)") \(.host // "-") \(.uuid // "-")"]
    | if length == 0 then "nothing" else join(", ") end' 2>&1
}
# uuid_of NAME: the running domain's UUID, from the hypervisor (xl list -v)
uuid_of() { xl list -v "$1" 2>/dev/null | awk 'NR == 2 {print $7}'; }

# pkg_status PACKAGE: its Status line in dom0's dpkg database
pkg_status() {
  awk -v p="$1" '/^Package: / {cur = $2} cur == p && /^Status: / {sub(/^Status: /, ""); print; exit}' /var/lib/dpkg/status 2>&1
}

# ------------------------------------------------------------ assertions
# Each check records evidence (PASS) or a failure; scenario_end prints one line.
begin() {
  CUR=$1; TITLE=$2; EVID=(); FAILS=(); T0=$(cut -d' ' -f1 /proc/uptime)
  echo "@@E2E BEGIN $CUR $TITLE"
}
ev() { EVID+=("$*"); log "ok: $*"; }
fail() { FAILS+=("$*"); log "FAILED: $*"; }
check_eq() { if [ "$2" = "$3" ]; then ev "$1 $2"; else fail "$1: got '$2', want '$3'"; fi; }
check_rc0() { if [ "$RC" = 0 ]; then ev "$1 exit 0"; else fail "$1: exit status $RC, want 0 ($(tail -n1 $OUTF | cut -c1-160))"; fi; }
check_refused() {
  if [ "$RC" != 0 ] && [ "$RC" != 124 ]; then ev "$1 refused (exit $RC)"
  else fail "$1: exit status $RC, want a refusal"; fi
}
# check_msg LABEL NEEDLE...: the command's output has one line containing every NEEDLE
check_msg() {
  local label=$1 line; shift
  line=$(grep -v 'exited with error status' $OUTF | awk -v n="$*" 'BEGIN{k=split(n,w," ")} {ok=1; for(i=1;i<=k;i++) if(index($0,w[i])==0) ok=0; if(ok){print; exit}}')
  if [ -n "$line" ]; then ev "$label \"$(echo "$line" | sed 's/^.*script: //' | cut -c1-300)\""
  else fail "$label: no line of the output contains all of: $*"; fi
}
check_absent() { if exists "$1"; then fail "domain $1 exists (domid $(domid_of $1))"; else ev "domain $1 absent"; fi; }
end() {
  local st=PASS t1 sep="" s=""
  t1=$(cut -d' ' -f1 /proc/uptime)
  [ ${#FAILS[@]} -gt 0 ] && st=FAIL
  [ ${#EVID[@]} -eq 0 ] && [ $st = PASS ] && { st=FAIL; FAILS+=("no assertion ran"); }
  if [ $st = FAIL ]; then for x in "${FAILS[@]}"; do s="$s$sep$x"; sep="; "; done; s="$s || evidence: "; sep=""; fi
  for x in "${EVID[@]}"; do s="$s$sep$x"; sep="; "; done
  echo "@@E2E RESULT $CUR $st $TITLE :: $s ($(awk -v a=$T0 -v b=$t1 'BEGIN{printf "%.0f", b-a}') s)"
  CUR=-
}
xfail() { echo "@@E2E RESULT $1 XFAIL $2 :: $3"; }

# ------------------------------------------------------------ the migration hand-over
# handover NAME MAC ON_SRC [SRC_HOST]: the hand-over of `xl migrate` replayed
# step by step (a live migration needs log-dirty mode, which the nested TCG
# lab does not offer: "Failed to enable logdirty: 95"), as
# tools/xl/xl_migrate.c and xl_vmcontrol.c take them. The source NAME runs
# where ON_SRC runs commands (cmd: this host; cmd_a: dom0-a in two-hosts,
# SRC_HOST names it in the labels), the receiver here: created paused as
# NAME--incoming with the source's uuid= while the source runs; the source
# renamed NAME--migratedaway and destroyed; the receiver renamed and
# unpaused; `vifmac gc` where the source ran. After every step the claim of
# MAC is NAME's, this host's, under the same UUID. Leaves NAME running here
# and OUTF holding what that `vifmac gc` said.
handover() {
  local name=$1 mac=$2 on=$3 at=${4:+[$4] } here="" uuid want
  [ -n "${4:-}" ] && here="[$(hostname)] "
  con_mark $name
  $on xl create $CFG/$name.cfg
  check_rc0 "${at}xl create $name"
  check_guest${on#cmd} $name $mac            # check_guest or check_guest_a
  $on xl list -v $name
  uuid=$(awk 'NR == 2 {print $7}' $OUTF)
  want="$name $(hostname) ${uuid:-(no uuid)}"
  sed "s/^name = .*/name = \"$name--incoming\"/" $CFG/$name.cfg >$CFG/$name-in.cfg
  echo "uuid = \"$uuid\"" >>$CFG/$name-in.cfg
  cmd xl create -p $CFG/$name-in.cfg
  check_rc0 "${here}xl create -p $name--incoming (uuid $uuid) while $name runs${4:+ on $4}"
  check_eq "${here}xl network-list $name--incoming devid 0" "$(xl_mac $name--incoming 0)" $mac
  check_eq "${here}claim of $mac (domain host uuid):" "$(reg_of $mac)" "$want"
  $on xl rename $name $name--migratedaway
  check_rc0 "${at}xl rename $name $name--migratedaway"
  $on xl destroy $name--migratedaway
  check_rc0 "${at}xl destroy $name--migratedaway (its vif goes offline)"
  check_eq "${here}after the source's teardown the claim of $mac:" "$(reg_of $mac)" "$want"
  cmd xl rename $name--incoming $name
  # xenconsoled named the console log after the domain's first name
  mv -f "$(con_file $name)" $CON/guest-$name-source.log 2>/dev/null
  ln -sf guest-$name--incoming.log "$(con_file $name)"
  con_mark $name
  cmd xl unpause $name
  check_rc0 "${here}xl rename $name--incoming $name + xl unpause"
  check_guest $name $mac "${here:+on $(hostname) }after the hand-over"
  check_eq "${here}xl network-list $name devid 0" "$(xl_mac $name 0)" $mac
  $on $VIFMAC gc
  check_rc0 "${at}vifmac gc"
  check_eq "${here}after ${at}vifmac gc the claim of $mac:" "$(reg_of $mac)" "$want"
}
