#!/usr/bin/env bash
# `npm run lab -- up|down|status [--variant NAME] [--index I] [--name NAME]`
# Leaves a Part 2 reference lab (Apache reverse proxy in network namespaces) running for people
# who want to try hagrade by hand, and prints the lab spec to grade it with.
#   up      builds a lab (variant "correct" unless --variant; `npm run lab -- variants` lists them)
#   down    takes down the labs `npm run lab -- up` started (or --index I / --name NAME / --all)
#   status  lists every running reference lab
set -euo pipefail
cd "$(dirname "$0")/.."
lab=fixtures/netns/lab.sh

command=${1:-}
[ $# -gt 0 ] && shift
if [ "$(id -u)" != 0 ] && [ "$command" != variants ]; then
  echo "lab: the reference lab uses network namespaces: run as root (sudo npm run lab -- $command)" >&2
  exit 2
fi

case "$command" in
  up)
    bash fixtures/netns/deps.sh
    spec=$(bash "$lab" up --origin manual "$@")
    state=$(dirname "$spec")
    index=$(basename "$state"); index=${index#hg}
    cat <<EOF

Lab spec: $spec
----------------------------------------------------------------------
$(cat "$spec")
----------------------------------------------------------------------
Try it:
  curl -si http://10.220.$index.10/     # the VIP (Set-Cookie: ROUTEID=...)
  ssh -F $state/ssh_config balancer     # also webserver1, webserver2 (through the balancer)
  bash $lab exec --index $index ws1 -- 'service apache2 stop'
Grade it:
  npx tsx src/bin.ts run --spec $spec --disruptive
Take it down:
  npm run lab -- down
EOF
    ;;
  down)
    if [ $# -eq 0 ]; then
      bash "$lab" down --origin manual
    else
      bash "$lab" down "$@"
    fi
    ;;
  status) bash "$lab" status "$@" ;;
  variants) bash "$lab" list ;;
  *)
    echo "usage: npm run lab -- up [--variant NAME] | down [--index I | --name NAME | --all] | status | variants" >&2
    exit 2
    ;;
esac
