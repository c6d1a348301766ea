#!/usr/bin/env bash
# `npm test`: installs what the tests need (npm and Debian packages), runs the whole suite
# against real labs, then proves the suite left no lab behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
status=0
if [ "${1:-}" = "--chaos" ]; then
  # The kill loops run the built CLI, as a user's shell would.
  shift
  npm run --silent build
  npx vitest run --config vitest.chaos.config.ts "$@" || status=$?
else
  npx vitest run "$@" || status=$?
fi
# Nothing may be left behind: namespaces, qemu processes, lab state.
left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^hg(vm)?[0-9]+-' || true)
if [ -n "$left" ]; then
  echo "test: labs left behind after the suite: $left" >&2
  [ -x fixtures/netns/lab.sh ] && bash fixtures/netns/lab.sh down --all >&2 || true
  status=1
fi
if pgrep -f 'qemu-system-x86_64.*hgvm' >/dev/null 2>&1; then
  echo "test: qemu left running after the suite" >&2
  status=1
fi
exit $status
