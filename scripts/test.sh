#!/usr/bin/env bash
# `npm test`: installs what the tests need (npm and Debian packages), runs the whole suite
# against real labs, then proves the suite left no lab behind.
#   scripts/test.sh [--chaos|--quick] [vitest args]   the suite, then the leftover check
#   scripts/test.sh --leftovers                only the leftover check (exit 1 when a lab is left)
set -euo pipefail
cd "$(dirname "$0")/.."

lab_root=${HAGRADE_LAB_ROOT:-/tmp/hagrade-lab}
vm_root=${HAGRADE_VM_STATE:-${TMPDIR:-/tmp}/hagrade-vm}
# The labs up before the suite (set below): not the suite's to report or take down.
before=""

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
    { cmd=$(tr '\0' ' ' <"/proc/$p/cmdline"); } 2>/dev/null || cmd=""
    mounts=""
    # A process that is exiting has no mount table to read (EINVAL): it is skipped quietly.
    if [ -r "/proc/$p/mountinfo" ]; then { mounts=$(<"/proc/$p/mountinfo"); } 2>/dev/null || true; fi
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
    [ -e "$d" ] || continue
    echo "state folder $d (keys, specs, logs)"
    # Who started it: a lab a test started has its owner (process, command, test file).
    [ -f "$d/owner" ] && sed 's/^/  started by: /' "$d/owner"
  done

  while read -r line; do
    [ -n "$line" ] && echo "/etc/hosts line: $line"
  done < <(grep -nE 'hg(vm)?[0-9]+-|(^|[^0-9])10\.2(2[01]|3[01])\.[0-9]+\.[0-9]+' /etc/hosts 2>/dev/null || true)
  return 0
}

# The `lab.sh down` processes still running: a teardown the suite started but that had not
# finished when vitest exited.
teardowns_in_flight() {
  local p cmd
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    { cmd=$(tr '\0' ' ' <"/proc/$p/cmdline"); } 2>/dev/null || cmd=""
    [[ $cmd == *"fixtures/"*"/lab.sh down"* ]] && echo "$p ${cmd:0:160}"
  done
  return 0
}

# The labs up right now, one `hg<I>` or `hgvm<I>` a line: by namespace or state folder.
labs_up() {
  {
    ip netns list 2>/dev/null | awk '{print $1}' | sed -nE 's/^(hg(vm)?[0-9]+)-.*/\1/p'
    for d in "$lab_root"/hg[0-9]* "$vm_root"/hgvm[0-9]*; do [ -e "$d" ] && basename "$d"; done
  } | sort -u
  return 0
}

# Keeps the leftover lines that are not about a lab in $before (labs a person had up before the
# suite: they are theirs, not the suite's).
without_labs_before() {
  local lab n pattern=""
  for lab in $before; do
    n=${lab##*[a-z]}
    if [[ $lab == hgvm* ]]; then
      pattern+="|hgvm$n([^0-9]|\$)|(^|[^0-9])10\.23[01]\.$n\."
    else
      pattern+="|hg$n([^0-9]|\$)|(^|[^0-9])10\.22[01]\.$n\."
    fi
  done
  if [ -z "$pattern" ]; then cat; return 0; fi
  grep -vE "${pattern#|}" || true
}

report_leftovers() {
  local left waiting first
  # A teardown still in flight when vitest exits is named, and given 60 s to finish.
  first=$(teardowns_in_flight)
  if [ -n "$first" ]; then
    echo "test: lab teardowns still running after the suite (waiting for them):" >&2
    printf '  %s\n' "${first//$'\n'/$'\n'  }" >&2
    for _ in $(seq 120); do
      waiting=$(teardowns_in_flight)
      [ -z "$waiting" ] && break
      sleep 0.5
    done
  fi
  left=$(leftovers | without_labs_before)
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
# Labs already up (`npm run lab -- up`) are left alone: tests take free indices beside them,
# and the leftover check and its cleanup only look at what the suite started.
before=$(labs_up | tr '\n' ' ')
if [ -n "${before// /}" ]; then
  echo "test: labs up before the suite, left alone: $before" >&2
fi
status=0
if [ "${1:-}" = "--chaos" ]; then
  # The kill loops run the built CLI, as a user's shell would.
  shift
  npm run --silent build
  npx vitest run --config vitest.chaos.config.ts "$@" || status=$?
elif [ "${1:-}" = "--quick" ]; then
  # The edit-test loop: no-lab tests and one netns lab (vitest.quick.config.ts).
  shift
  npx vitest run --config vitest.quick.config.ts "$@" || status=$?
else
  # The command line's tests run the program the package ships (test/cli/hagrade.ts): built here
  # (incremental, seconds when nothing changed). HAGRADE_CLI=tsx runs the source instead.
  npm run --silent build
  export HAGRADE_CLI=${HAGRADE_CLI:-dist}
  npx vitest run "$@" || status=$?
fi
# Nothing may be left behind: namespaces, processes, mounts, state folders, /etc/hosts lines.
if ! report_leftovers; then
  status=1
  # HAGRADE_TEST_KEEP_LEFTOVERS=1 leaves them up for a person to look at (and a suite nested in
  # another, whose labs come and go meanwhile, must not take those down).
  if [ "${HAGRADE_TEST_KEEP_LEFTOVERS:-0}" = 1 ]; then
    echo "test: HAGRADE_TEST_KEEP_LEFTOVERS=1: left up; take them down with: npm run lab -- down --all" >&2
    exit $status
  fi
  # Clean up after saying what was left, so the next run starts from a clean machine; labs that
  # were up before the suite stay up.
  for lab in $(labs_up); do
    [[ " $before " == *" $lab "* ]] && continue
    if [[ $lab == hgvm* ]]; then
      bash fixtures/vm/lab.sh down --index "${lab#hgvm}" >&2 || true
    else
      bash fixtures/netns/lab.sh down --index "${lab#hg}" >&2 || true
    fi
  done
  # Pieces no index names any more (a stray mount or process) need the full sweep.
  if [ -z "${before// /}" ] && [ -n "$(leftovers)" ]; then
    bash fixtures/netns/lab.sh down --all >&2 || true
    bash fixtures/vm/lab.sh down --all >&2 || true
  fi
fi
exit $status
