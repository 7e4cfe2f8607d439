#!/usr/bin/bash
# Scenario s (issue 16): vifmac reads domain configs as the real xl 4.17 does.
# For every record of xl-diff.corpus, in dom0, with the same /etc/xen/xl.conf:
#   xl create -n CFG          (dry run: the configuration libxl would get, as JSON)
#   vifmac plan --json CFG
# compared per vif (devid, bridge, ip, mac= given) and for the domain (type,
# number of vifs, read or refused). A config xl reads and vifmac refuses is a
# failure unless its record says "REFUSE <reason>" (vifmac(8), XL
# COMPATIBILITY); one xl refuses must be refused by vifmac as well. For each
# config vifmac plans without a refusal, xl create -n CFG "$(vifmac xl-args
# CFG)" must read vifmac's MACs and otherwise the same vifs.
# One line per config in the scenario log ("xl-diff ID: ..."). Sourced by
# scenarios.sh (sc_s); tests/cli/test-cli-xl-diff-corpus.sh uses xd_split on
# the build host.

XD_CORPUS=${XD_CORPUS:-/e2e/xl-diff.corpus}

# xd_split CORPUS DIR: one DIR/ID.cfg per record (the harness's name, kernel
# and memory first), DIR/ID.xlconf when the record has an xl.conf, DIR/ID.why
# holding the deliberate refusal's reason (empty when there is none); prints
# the ids in corpus order.
xd_split() {
  awk -v dir="$2" '
    function header(id) { printf "name = \"xd-%s\"\nkernel = \"/domu/vmlinuz\"\nmemory = 128\n", id > (dir "/" id ".cfg") }
    /^=== / {
      if (out) close(out)
      id = $2; why = ""
      if (match($0, /\| REFUSE /)) why = substr($0, RSTART + 9)
      printf "%s", why > (dir "/" id ".why"); close(dir "/" id ".why")
      header(id); out = dir "/" id ".cfg"; print id; next
    }
    /^--- xl.conf$/ { close(out); out = dir "/" id ".xlconf"; printf "" > out; next }
    id == "" { next }
    { print > out }
  ' "$1"
}

# xd_xl_view FILE: what xl create -n gave libxl, in the form vifmac's is reduced to
xd_xl_view() {
  jq -c '{type: ((.c_info.type // "pv") | ascii_downcase),
          vifs: [(.nics // [])[] | {devid: (.devid // -1), bridge: (.bridge // "xenbr0"),
                                    ip: (.ip // null), mac: (.mac // null)}]}' "$1" 2>&1
}
xd_vifmac_view() {
  jq -c '{type: .type, vifs: [.vifs[] | {devid, bridge, ip, mac: .mac_given}]}' "$1" 2>&1
}

# xd_one ID: compares xl and vifmac on $XD/ID.cfg (with the /etc/xen/xl.conf
# in place); prints the verdict, its first word the kind (ok-same, ok-args:
# same and xl-args checked, ok-both: both refuse, ok-delib: a deliberate
# refusal, DIFF), and returns 1 on a difference.
xd_one() {
  local id=$1 c=$XD/$1.cfg why xrc vrc xv vv args arc a2 want got
  why=$(cat "$XD/$id.why")
  timeout 60 xl create -n "$c" >"$XD/$id.xl" 2>"$XD/$id.xl.err"; xrc=$?
  timeout 60 $VIFMAC plan --json "$c" >"$XD/$id.v" 2>"$XD/$id.v.err"; vrc=$?
  # vifmac read the config when it printed its plan (exit 0, or 1/2 for a refused vif)
  if ! jq -e .vifs "$XD/$id.v" >/dev/null 2>&1; then vv=""; else vv=$(xd_vifmac_view "$XD/$id.v"); fi
  if [ $xrc != 0 ]; then
    if [ -n "$vv" ]; then
      echo "DIFF: xl refuses ($(grep -v '^$' "$XD/$id.xl.err" | tail -n1 | cut -c1-120)), vifmac reads it (exit $vrc)"; return 1
    fi
    if [ -n "$why" ]; then
      echo "DIFF: listed as a deliberate refusal, but xl refuses too: drop the REFUSE"; return 1
    fi
    echo "ok-both: both refuse: xl \"$(grep -v '^$' "$XD/$id.xl.err" | tail -n1 | cut -c1-100)\"; vifmac \"$(tail -n1 "$XD/$id.v.err" | cut -c1-160)\""
    return 0
  fi
  xv=$(xd_xl_view "$XD/$id.xl")
  if [ -z "$vv" ]; then
    if [ -n "$why" ]; then
      echo "ok-delib: deliberate refusal ($why): vifmac \"$(tail -n1 "$XD/$id.v.err" | cut -c1-160)\""
      return 0
    fi
    echo "DIFF: xl reads $xv, vifmac refuses (exit $vrc): $(tail -n1 "$XD/$id.v.err" | cut -c1-200)"; return 1
  fi
  if [ -n "$why" ]; then
    echo "DIFF: listed as a deliberate refusal ($why), but vifmac reads it: $vv"; return 1
  fi
  if [ "$xv" != "$vv" ]; then
    echo "DIFF: xl $xv, vifmac $vv"; return 1
  fi
  # xl-args: xl must read vifmac's MACs, and the same vifs otherwise
  if [ $vrc = 0 ] && [ "$(jq '.vifs | length' "$XD/$id.v")" -gt 0 ]; then
    args=$(timeout 60 $VIFMAC xl-args "$c" 2>"$XD/$id.a.err"); arc=$?
    if [ $arc != 0 ]; then echo "DIFF: plan exit 0 but xl-args exit $arc: $(tail -n1 "$XD/$id.a.err")"; return 1; fi
    timeout 60 xl create -n "$c" "$args" >"$XD/$id.xl2" 2>"$XD/$id.xl2.err" ||
      { echo "DIFF: xl refuses the config with xl-args $args: $(grep -v '^$' "$XD/$id.xl2.err" | tail -n1)"; return 1; }
    want=$(jq -c '[.vifs[] | .mac]' "$XD/$id.v")
    got=$(jq -c '[(.nics // [])[] | .mac // null]' "$XD/$id.xl2" 2>&1)
    if [ "$want" != "$got" ]; then echo "DIFF: with xl-args xl reads MACs $got, vifmac planned $want"; return 1; fi
    a2=$(xd_xl_view "$XD/$id.xl2" | jq -c '.vifs |= map(del(.mac))')
    if [ "$a2" != "$(echo "$xv" | jq -c '.vifs |= map(del(.mac))')" ]; then
      echo "DIFF: with xl-args xl reads other vifs: $a2 (was $xv)"; return 1
    fi
    echo "ok-args: same: $vv; xl-args MACs read back by xl: $got"
    return 0
  fi
  if [ $vrc = 0 ]; then echo "ok-same: same: $vv (no vifs: nothing for xl-args)"
  else echo "ok-same: same: $vv (vifmac exit $vrc: a vif refused by the policy, no xl-args)"; fi
}

sc_s() {
  begin s "differential test: vifmac plan reads domain configs as xl create -n does (corpus tests/e2e/xl-diff.corpus)"
  local ids id kind line n=0 nd=0 same=0 both=0 delib=0 args=0
  XD=$OUT/xl-diff; rm -rf "$XD"; mkdir -p "$XD"
  cp /etc/xen/xl.conf "$XD/xl.conf.lab"
  ids=$(xd_split "$XD_CORPUS" "$XD")
  # the records on the lab's xl.conf two at a time (dom0 has two vCPUs:
  # xl starts slowly under TCG), then one by one those with an xl.conf of
  # their own in place
  for id in $ids; do
    [ -f "$XD/$id.xlconf" ] && continue
    [ "$(jobs -rp | wc -l)" -ge 2 ] && wait -n
    xd_one "$id" >"$XD/$id.line" &
  done
  wait
  for id in $ids; do
    [ -f "$XD/$id.xlconf" ] || continue
    cp "$XD/$id.xlconf" /etc/xen/xl.conf
    xd_one "$id" >"$XD/$id.line"
  done
  cp "$XD/xl.conf.lab" /etc/xen/xl.conf
  for id in $ids; do
    n=$((n + 1))
    line=$(cat "$XD/$id.line"); kind=${line%%:*}
    case $kind in
      ok-same) same=$((same + 1)) ;;
      ok-args) same=$((same + 1)); args=$((args + 1)) ;;
      ok-both) both=$((both + 1)) ;;
      ok-delib) delib=$((delib + 1)) ;;
      *) nd=$((nd + 1)); fail "xl-diff $id: ${line:-no verdict}"; continue ;;
    esac
    log "xl-diff $id: ${line#*: }"
  done
  if [ $n -ge 60 ]; then ev "$n configs (at least 60)"; else fail "only $n configs in the corpus, want at least 60"; fi
  [ $nd = 0 ] && ev "no difference: $same read alike by xl and vifmac, $both refused by both, $delib deliberate refusals (each listed with its reason)"
  if [ $args -ge 20 ]; then ev "xl create -n with vifmac xl-args reads vifmac's MACs for $args configs"
  else fail "xl-args checked for only $args configs"; fi
  end
}
