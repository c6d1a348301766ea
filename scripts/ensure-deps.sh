#!/usr/bin/env bash
# Installs what hagrade's tests, demo and reference labs need, only when missing:
# npm packages (npm ci) and Debian packages (apt-get). Idempotent and quiet when all is there.
# Usage: scripts/ensure-deps.sh [--npm] [--netns] [--vm] [--report]   (no flag = all)
set -euo pipefail
cd "$(dirname "$0")/.."

want_npm=0 want_netns=0 want_vm=0 want_report=0
if [ $# -eq 0 ]; then want_npm=1 want_netns=1 want_vm=1 want_report=1; fi
for a in "$@"; do
  case "$a" in
    --npm) want_npm=1 ;; --netns) want_netns=1 ;; --vm) want_vm=1 ;; --report) want_report=1 ;;
    *) echo "ensure-deps: unknown flag $a" >&2; exit 2 ;;
  esac
done

say() { printf 'ensure-deps: %s\n' "$*" >&2; }

# Node itself cannot come from npm: without the version package.json's engines names, nothing
# else here can work, so say which one and how to get it before doing anything.
node_needed=$(sed -n 's/^ *"node": *">= *\([0-9][0-9.]*\)".*/\1/p' package.json | head -n 1)
node_needed=${node_needed:-20.18.1}
version_at_least() { # HAVE NEED (dotted numbers)
  local IFS=. have need k
  read -r -a have <<<"$1"
  read -r -a need <<<"$2"
  for k in 0 1 2; do
    if [ "${have[$k]:-0}" -gt "${need[$k]:-0}" ]; then return 0; fi
    if [ "${have[$k]:-0}" -lt "${need[$k]:-0}" ]; then return 1; fi
  done
  return 0
}
node_have=$(node --version 2>/dev/null | sed -n 's/^v\([0-9][0-9.]*\).*/\1/p' || true)
if [ -z "$node_have" ] || ! version_at_least "$node_have" "$node_needed"; then
  say "hagrade needs Node.js >= $node_needed (found: ${node_have:-none}); install Node 20 LTS or newer from https://nodejs.org/en/download or with 'nvm install 20', then run this again"
  exit 2
fi

apt_updated=0
apt_install() {
  # $@: Debian package names
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages ($*) and not root: run 'sudo apt-get install $*' first"; exit 1
  fi
  if [ $apt_updated = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2; apt_updated=1
  fi
  say "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# need CMD PACKAGE: the package that provides CMD when CMD is missing
missing=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing+=("$2"); }

if [ $want_netns = 1 ] || [ $want_vm = 1 ]; then
  need ip iproute2; need nft nftables; need apache2 apache2; need sshd openssh-server
  need ssh openssh-client; need ssh-keygen openssh-client; need keepalived keepalived
  need tini tini; need pgrep procps; need killall psmisc; need unshare util-linux; need curl curl
  need iptables iptables; need python3 python3; need sudo sudo; need socat socat
fi
if [ $want_report = 1 ]; then
  need xmllint libxml2-utils; need chromium chromium
fi
if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck disable=SC2207
  uniq=($(printf '%s\n' "${missing[@]}" | sort -u))
  apt_install "${uniq[@]}"
fi

if [ $want_vm = 1 ] && [ -f fixtures/vm/deps.sh ]; then
  bash fixtures/vm/deps.sh
fi

if [ $want_npm = 1 ]; then
  # npm ci when node_modules is missing or older than the lockfile.
  npm_stale() { [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }
  if npm_stale; then
    # One npm at a time on this machine (tests that install a packed tarball share the cache);
    # whoever waited re-checks, as the one before may have installed the same.
    exec 9>/tmp/hagrade-npm.lock
    command -v flock >/dev/null 2>&1 && flock 9
    if npm_stale; then
      say "installing npm packages (npm ci)"
      npm ci --no-audit --no-fund >&2
    fi
    exec 9>&-
  fi
fi
