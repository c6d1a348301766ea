#!/usr/bin/env bash
# `npm run lab -- up|down|status|list|variant [--part proxy|lvs] [--variant NAME] [--name NAME]
#                 [--index I] [--all] [--directors 1|2]`
# Leaves a reference lab running for people who want to try hagrade by hand, and prints the
# lab spec to grade it with: Part 2 (Apache reverse proxy in network namespaces, the default)
# or, with --part lvs, Part 1 (keepalived + IPVS in a qemu VM).
#   up       builds a lab (variant "correct" for proxy, "rr" for lvs, unless --variant); how to
#            try, grade and take it down go to stderr, the spec's path is the last line (stdout)
#   down     takes down the labs `npm run lab -- up` started, or the one --name/--index names,
#            or --all; both parts unless --part (--index alone means a proxy lab)
#   status   lists the running reference labs, both parts unless --part; with --part lvs and
#            --name/--index, that LVS lab's IPVS table
#   list     the variants of a part (`variants` also works)
#   variant  switches a running LVS lab to --variant NAME by reloading keepalived (no reboot)
set -euo pipefail
cd "$(dirname "$0")/.."
proxy_lab=fixtures/netns/lab.sh
lvs_lab=fixtures/vm/lab.sh

usage="usage: npm run lab -- up|down|status|list|variant [--part proxy|lvs] [--variant NAME] [--name NAME] [--index I] [--all] [--directors 1|2]"
bad() { echo "lab: $*" >&2; exit 2; }

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  up | down | status | list | variant) ;;
  variants) command=list ;;
  -h | --help | help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") bad "which command? $usage" ;;
  *) bad "unknown command '$command'; $usage" ;;
esac

part="" variant="" name="" index="" all=0 directors=""
while [ $# -gt 0 ]; do
  flag=$1
  case "$flag" in
    --*=*) shift; set -- "${flag%%=*}" "${flag#*=}" "$@"; continue ;;
    --part | --variant | --name | --index | --directors)
      { [ $# -ge 2 ] && [ -n "$2" ] && [[ $2 != --* ]]; } || bad "$flag needs a value ($usage)"
      case "$flag" in
        --part) part=$2 ;; --variant) variant=$2 ;; --name) name=$2 ;; --index) index=$2 ;;
        --directors) directors=$2 ;;
      esac
      shift 2 ;;
    --all) all=1; shift ;;
    -*) bad "unknown flag '$flag' for $command; $usage" ;;
    *) bad "unexpected argument '$flag' for $command (a variant is given as --variant $flag)" ;;
  esac
done

case "$part" in
  "" | proxy | lvs) ;;
  *) bad "--part must be proxy or lvs (got '$part')" ;;
esac
[ "$command" = variant ] && part=${part:-lvs}
[ "$command" = variant ] && [ "$part" != lvs ] &&
  bad "variant switches an LVS lab only (--part lvs); for a proxy lab: down, then up --variant NAME"
if [ -n "$variant" ] && [ "$command" != up ] && [ "$command" != variant ]; then
  bad "--variant is for up and variant, not for $command"
fi
[ "$command" = variant ] && [ -z "$variant" ] && bad "variant needs --variant NAME (npm run lab -- list --part lvs lists them)"
[ $all = 1 ] && [ "$command" != down ] && bad "--all is for down, not for $command"
if [ -n "$directors" ]; then
  { [ "$command" = up ] && [ "$part" = lvs ]; } || bad "--directors is for up --part lvs only"
  [[ $directors =~ ^[12]$ ]] || bad "--directors must be 1 or 2 (got '$directors')"
fi
if [ -n "$name" ] && ! [[ $name =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then
  bad "--name must be 1-64 letters, digits, '.', '_' or '-' (got '$name')"
fi
if [ -n "$index" ]; then
  if [ "$part" = lvs ]; then
    [[ $index =~ ^(0|[1-9][0-9]{0,2})$ && $index -le 255 ]] || bad "--index of an LVS lab must be 0..255 (got '$index')"
  else
    [[ $index =~ ^[1-9][0-9]{0,2}$ && $index -ge 1 && $index -le 200 ]] ||
      bad "--index of a proxy lab must be 1..200 (got '$index')"
  fi
fi
if [ "$command" = status ] && { [ -n "$name" ] || [ -n "$index" ]; } && [ "$part" != lvs ]; then
  bad "status --name/--index shows an LVS lab's IPVS table: add --part lvs (plain status lists every lab)"
fi
if [ -n "$variant" ]; then
  script=$proxy_lab
  [ "${part:-proxy}" = lvs ] && script=$lvs_lab
  bash "$script" list | grep -qxF -- "$variant" ||
    bad "unknown --variant '$variant' for --part ${part:-proxy}; variants: $(bash "$script" list | tr '\n' ' ')"
fi

if [ "$command" = list ]; then
  if [ "$part" = lvs ]; then exec bash "$lvs_lab" list; else exec bash "$proxy_lab" list; fi
fi
if [ "$(id -u)" != 0 ]; then
  echo "lab: the reference labs use network namespaces (and a VM for --part lvs): run as root (sudo npm run lab -- $command ...)" >&2
  exit 2
fi

# Only the flags each lab script knows, in its words.
selector=()
[ -n "$name" ] && selector+=(--name "$name")
[ -n "$index" ] && selector+=(--index "$index")

grade_hint() { # SPEC
  if [ -f dist/src/bin.js ]; then
    echo "  npx hagrade run --spec $1 --disruptive"
  else
    echo "  npm run build && npx hagrade run --spec $1 --disruptive"
  fi
}

# Runs a lab script's `up` and prints the spec path (its last line of output). The script's own
# progress lines only matter when it fails: then they are shown.
lab_up() { # SCRIPT ARG...
  local log out
  log=$(mktemp)
  if ! out=$(bash "$@" 2>"$log"); then
    cat "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
  printf '%s\n' "$out" | tail -n 1
}

up_proxy() {
  local spec state i lab_name lab_variant
  bash scripts/ensure-deps.sh --netns
  local args=(up --origin manual "${selector[@]}")
  [ -n "$variant" ] && args+=(--variant "$variant")
  spec=$(lab_up "$proxy_lab" "${args[@]}") || exit 1
  state=$(dirname "$spec")
  i=$(basename "$state"); i=${i#hg}
  lab_name=$(cat "$state/name"); lab_variant=$(cat "$state/variant")
  cat >&2 <<EOF
Part 2 lab $lab_name (variant $lab_variant) is up: VIP http://10.220.$i.10/
----------------------------------------------------------------------
$(cat "$spec")
----------------------------------------------------------------------
Try it:
  curl -si http://10.220.$i.10/     # the VIP (Set-Cookie: ROUTEID=...)
  ssh -F $state/ssh_config balancer     # also webserver1, webserver2 (through the balancer)
  bash $proxy_lab exec --index $i ws1 -- 'service apache2 stop'
Grade it:
$(grade_hint "$spec")
Take it down:
  npm run lab -- down --name $lab_name
Lab spec:
EOF
  echo "$spec"
}

up_lvs() {
  local spec state i lab_name lab_variant down_hint other
  if [ -x node_modules/.bin/tsx ]; then bash scripts/ensure-deps.sh --vm; else bash scripts/ensure-deps.sh --npm --vm; fi
  echo "lab: booting the LVS lab's director VM (20-45 s: the VM runs under software emulation)..." >&2
  local args=(up --origin manual "${selector[@]}")
  [ -n "$variant" ] && args+=(--variant "$variant")
  [ -n "$directors" ] && args+=(--directors "$directors")
  spec=$(lab_up "$lvs_lab" "${args[@]}") || exit 1
  state=$(dirname "$spec")
  i=$(basename "$state"); i=${i#hgvm}
  lab_name=$(cat "$state/name" 2>/dev/null || echo "hgvm$i")
  lab_variant=$(sed -n 's/^lab: lvs-//p' "$spec" | head -n1)
  if [ -n "$name" ]; then down_hint="--name $name"; else down_hint="--index $i"; fi
  other=wrr-3-1
  [ "$lab_variant" = wrr-3-1 ] && other=rr
  cat >&2 <<EOF
Part 1 lab $lab_name (variant $lab_variant) is up: VIP http://10.230.$i.10/
----------------------------------------------------------------------
$(cat "$spec")
----------------------------------------------------------------------
Try it:
  curl -s http://10.230.$i.10/     # IPVS schedules each new connection
  ssh -F $state/ssh_config director     # also webserver1, webserver2 (through the director)
  npm run lab -- status --part lvs $down_hint     # the director's IPVS table
  npm run lab -- variant --part lvs $down_hint --variant $other     # reloads keepalived
Grade it:
$(grade_hint "$spec")
Take it down:
  npm run lab -- down --part lvs $down_hint
Lab spec:
EOF
  echo "$spec"
}

# Which parts have a lab of this name up (a name is unique within a part, not across both).
parts_of_name() { # NAME
  if bash "$proxy_lab" status --json | grep -qF "\"name\":\"$1\","; then echo proxy; fi
  if bash "$lvs_lab" status | awk '{print $2}' | grep -qxF -- "$1"; then echo lvs; fi
}

down_part() { # proxy|lvs
  local script=$proxy_lab
  [ "$1" = lvs ] && script=$lvs_lab
  if [ -n "$name" ]; then
    bash "$script" down --name "$name"
  elif [ -n "$index" ]; then
    bash "$script" down --index "$index"
  elif [ $all = 1 ]; then
    bash "$script" down --all
  else
    bash "$script" down --origin manual
  fi
}

case "$command" in
  up)
    if [ "$part" = lvs ]; then up_lvs; else up_proxy; fi
    ;;
  down)
    if [ -n "$part" ]; then
      down_part "$part"
    elif [ -n "$index" ]; then
      # The two parts number their labs separately: --index alone means a proxy lab.
      down_part proxy
    elif [ -n "$name" ]; then
      found=$(parts_of_name "$name")
      [ -n "$found" ] || { echo "lab: no lab named '$name' is up" >&2; exit 0; }
      for p in $found; do down_part "$p"; done
    else
      down_part proxy
      down_part lvs
    fi
    ;;
  status)
    if [ "$part" = lvs ] && [ ${#selector[@]} -gt 0 ]; then exec bash "$lvs_lab" status "${selector[@]}"; fi
    if [ "$part" != lvs ]; then
      [ -z "$part" ] && echo "Part 2 (proxy) labs:"
      bash "$proxy_lab" status
    fi
    if [ "$part" != proxy ]; then
      [ -z "$part" ] && echo "Part 1 (LVS) labs:"
      bash "$lvs_lab" status
    fi
    ;;
  variant)
    exec bash "$lvs_lab" variant --variant "$variant" "${selector[@]}"
    ;;
esac
