#!/usr/bin/env bash
# `npm test`: installs what the tests need (npm and Debian packages), runs the whole suite
# against real labs, then proves the suite left no lab behind.
#   scripts/test.sh [--chaos] [vitest args]   the suite, then the leftover check
#   scripts/test.sh --leftovers                only the leftover check (exit 1 when a lab is left)
set -euo pipefail
cd "$(dirname "$0")/.."

lab_root=${HAGRADE_LAB_ROOT:-/tmp/hagrade-lab}
vm_root=${HAGRADE_VM_STATE:-${TMPDIR:-/tmp}/hagrade-vm}

# Prints one line per thing a lab left on this machine; nothing when it is clean. Only what the
# reference labs create is looked at (hg<i>-/hgvm<i>- names, their state folders, their
# addresses), never the machine's own Apache, sshd or mounts.
leftovers() {
  local ns p comm cmd mounts cwd line
  # A mount's root inside its filesystem: /tmp/hagrade-lab/hg1/... on a disk, /hagrade-lab/hg1/...
  # when /tmp is a tmpfs.
  local lab_mark vm_mark
  lab_mark="/$(basename "$lab_root")/hg"
  vm_mark="/$(basename "$vm_root")/hgvm"

  while read -r ns; do
    [ -n "$ns" ] || continue
    echo "namespace $ns"
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      echo "  process $p ($(cat "/proc/$p/comm" 2>/dev/null || echo gone)) in namespace $ns"
    done
  done < <(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^hg(vm)?[0-9]+-' || true)

  while read -r line; do
    [ -n "$line" ] && echo "mount $line"
  done < <(awk -v a="$lab_mark" -v b="$vm_mark" \
    'index($4, a) || index($4, b) || index($5, a) || index($5, b) || $5 ~ /^\/run\/netns\/hg(vm)?[0-9]+-/ { print $5 " (" $4 ")" }' \
    /proc/self/mountinfo)

  # A lab host's processes (tini, Apache, sshd, keepalived) live in their own PID and mount
  # namespaces: they show up by the lab's bind mounts in their mount table, or by the state
  # folder in their command line or working directory. Read with builtins, so no helper of this
  # scan carries the pattern in its own command line.
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = "$$" ] || [ "$p" = "${BASHPID:-$$}" ] && continue
    cmd=""
    [ -r "/proc/$p/cmdline" ] && cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)
    mounts=""
    if [ -r "/proc/$p/mountinfo" ]; then mounts=$(<"/proc/$p/mountinfo") 2>/dev/null || true; fi
    cwd=$(readlink "/proc/$p/cwd" 2>/dev/null || true)
    if [[ $cmd == *"$lab_root/hg"* || $cmd == *"$vm_root/hgvm"* || $cmd == *qemu-system*hgvm* ||
      $cwd == "$lab_root/hg"* || $cwd == "$vm_root/hgvm"* ||
      $mounts == *"$lab_mark"[0-9]* || $mounts == *"$vm_mark"[0-9]* ]]; then
      comm=$(cat "/proc/$p/comm" 2>/dev/null || echo gone)
      cmd=${cmd%"${cmd##*[! ]}"}
      echo "process $p ($comm): ${cmd:0:160}"
    fi
  done

  for d in "$lab_root"/hg[0-9]* "$vm_root"/hgvm[0-9]*; do
    [ -e "$d" ] && echo "state folder $d (keys, specs, logs)"
  done

  while read -r line; do
    [ -n "$line" ] && echo "/etc/hosts line: $line"
  done < <(grep -nE 'hg(vm)?[0-9]+-|(^|[^0-9])10\.2(2[01]|3[01])\.[0-9]+\.[0-9]+' /etc/hosts 2>/dev/null || true)
  return 0
}

report_leftovers() {
  local left
  left=$(leftovers)
  [ -z "$left" ] && return 0
  echo "test: labs left behind after the suite:" >&2
  printf '  %s\n' "${left//$'\n'/$'\n'  }" >&2
  return 1
}

if [ "${1:-}" = "--leftovers" ]; then
  report_leftovers
  exit $?
fi

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
# Nothing may be left behind: namespaces, processes, mounts, state folders, /etc/hosts lines.
if ! report_leftovers; then
  status=1
  # Clean up after saying what was left, so the next run starts from a clean machine.
  if [ -f fixtures/netns/lab.sh ]; then bash fixtures/netns/lab.sh down --all >&2 || true; fi
  if [ -f fixtures/vm/lab.sh ]; then bash fixtures/vm/lab.sh down --all >&2 || true; fi
fi
exit $status
