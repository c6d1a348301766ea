#!/usr/bin/env bash
# `npm run bench [-- --quick] [-- --runs N] [-- --part proxy|lvs|all] [-- --out DIR]`
# Installs what the reference labs need, then measures hagrade on them (scripts/bench/index.ts),
# which takes down every lab it started, also on failure and Ctrl-C, and checks none is left.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "bench: the reference labs use network namespaces (and a VM): run as root (sudo npm run bench)" >&2
  exit 2
fi

part=all quick=0
prev=""
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --part=*) part="${a#--part=}" ;;
  esac
  [ "$prev" = "--part" ] && part="$a"
  prev="$a"
done
[ $quick = 1 ] && [ "$part" = all ] && part=proxy

case "$part" in
  proxy) bash scripts/ensure-deps.sh --npm --netns ;;
  *) bash scripts/ensure-deps.sh --npm --netns --vm ;;
esac

# Forwarded so Ctrl-C reaches the bench, which takes its labs down (and checks they are gone) before it exits.
exec npx tsx scripts/bench/index.ts "$@"
