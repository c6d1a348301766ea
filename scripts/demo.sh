#!/usr/bin/env bash
# `npm run demo [-- --variant NAME] [-- --part lvs] [-- any hagrade run flag]`
# Installs what it needs, brings the built-in reference lab up, grades it with `hagrade run`
# (disruptive checks included: it is our own lab), writes the reports, and takes the lab
# down again — also on failure and Ctrl-C. Flags given after the demo's own come later on the
# `hagrade run` line, so they win: `--out DIR` puts the reports in DIR instead of reports/.
set -euo pipefail
cd "$(dirname "$0")/.."

variant=""
part="proxy"
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant="${2:?--variant needs a name}"; shift 2 ;;
    --variant=*) variant="${1#--variant=}"; shift ;;
    --part) part="${2:?--part needs lvs or proxy}"; pass+=("--part" "$2"); shift 2 ;;
    --part=*) part="${1#--part=}"; pass+=("$1"); shift ;;
    *) pass+=("$1"); shift ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "demo: the reference lab uses network namespaces: run as root (sudo npm run demo)" >&2
  exit 2
fi

if [ "$part" = "lvs" ]; then
  bash scripts/ensure-deps.sh --npm --vm
  lab_script=fixtures/vm/lab.sh
else
  bash scripts/ensure-deps.sh --npm --netns
  lab_script=fixtures/netns/lab.sh
fi
# Build when the sources are newer than the build.
if [ ! -f dist/src/bin.js ] || [ -n "$(find src checks package.json -newer dist/src/bin.js -print -quit)" ]; then
  npm run --silent build
fi

name="demo-$$"
down() { bash "$lab_script" down --name "$name" >/dev/null 2>&1 || true; }
trap down EXIT
trap 'down; exit 130' INT
trap 'down; exit 143' TERM

echo "demo: bringing up the reference lab${variant:+ (variant $variant)}…" >&2
up_args=(up --name "$name" --origin demo)
[ -n "$variant" ] && up_args+=(--variant "$variant")
spec=$(bash "$lab_script" "${up_args[@]}" | tail -n 1)
if [ ! -f "$spec" ]; then
  echo "demo: the lab did not come up (no spec at '$spec')" >&2
  exit 3
fi
echo "demo: lab spec $spec" >&2
status=0
node dist/src/bin.js run --spec "$spec" --disruptive --out "reports/${variant:-reference}-${part}" "${pass[@]}" || status=$?
exit $status
