#!/usr/bin/env bash
# The programs the test suites start (real HAProxy, nginx, Alertmanager, Redis, Chromium): checks
# for them and installs the missing ones when it can (root, or passwordless sudo, with apt-get),
# printing what it installs. Otherwise it stops at once with one message naming what is missing and
# the command that installs it. Used by `npm test` (pretest) and by .ci/run, so both install alike.
#
#   scripts/test-deps.sh             check, install what is missing, start a Redis if none answers
#   scripts/test-deps.sh --dry-run   check and print what would be installed; change nothing
#
# Chromium is only for the browser test: when it cannot be installed that test is skipped (with the
# reason), so a missing Chromium alone never stops the run.
set -uo pipefail

dry_run=0
[ "${1:-}" = "--dry-run" ] && dry_run=1

# command on PATH | Debian/Ubuntu package | Fedora/RHEL package | Homebrew formula
deps=(
  "haproxy|haproxy|haproxy|haproxy"
  "nginx|nginx-light|nginx|nginx"
  "prometheus-alertmanager|prometheus-alertmanager|golang-github-prometheus-alertmanager|alertmanager"
  "redis-server|redis-server|redis|redis"
  "redis-cli|redis-tools|redis|redis"
)
optional=("chromium|chromium|chromium|--cask chromium")

# Space-separated lists (plain strings, so bash 3.2 on macOS can print the message too).
missing=""
apt_pkgs=""
dnf_pkgs=""
brew_pkgs=""
add() { case " $1 " in *" $2 "*) echo "$1" ;; *) echo "${1:+$1 }$2" ;; esac; }
for d in "${deps[@]}"; do
  IFS='|' read -r cmd apt dnf brew <<<"$d"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing=$(add "$missing" "$cmd")
    apt_pkgs=$(add "$apt_pkgs" "$apt")
    dnf_pkgs=$(add "$dnf_pkgs" "$dnf")
    brew_pkgs=$(add "$brew_pkgs" "$brew")
  fi
done
opt_missing=""
opt_apt=""
for d in "${optional[@]}"; do
  IFS='|' read -r cmd apt _dnf _brew <<<"$d"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    opt_missing=$(add "$opt_missing" "$cmd")
    opt_apt=$(add "$opt_apt" "$apt")
  fi
done

# How we may install: as root, or with sudo that asks for no password; and only with apt-get.
SUDO=""
can_install=0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$EUID" -eq 0 ]; then
    can_install=1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    SUDO="sudo -n"
    can_install=1
  fi
fi

to_install="$apt_pkgs${apt_pkgs:+${opt_apt:+ }}$opt_apt"
if [ -n "$to_install" ] && [ "$can_install" -eq 1 ]; then
  if [ "$dry_run" -eq 1 ]; then
    echo "test-deps: would install with apt-get: $to_install"
    exit 0
  fi
  echo "test-deps: installing with apt-get: $to_install"
  $SUDO apt-get update -q || true
  # Debian 13 and newer Ubuntu ship nginx without the -light flavour.
  if [[ " $apt_pkgs " == *" nginx-light "* ]] && ! apt-cache show nginx-light >/dev/null 2>&1; then
    apt_pkgs=${apt_pkgs/nginx-light/nginx}
  fi
  if [ -n "$apt_pkgs" ]; then
    # shellcheck disable=SC2086 # word splitting of the package list is wanted
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $apt_pkgs || exit 1
  fi
  if [ -n "$opt_apt" ]; then
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $opt_apt ||
      echo "test-deps: could not install $opt_apt; the browser test will be skipped"
  fi
  # Debian's packages start services on install on some machines; the tests start their own on loopback.
  for s in haproxy nginx prometheus-alertmanager; do $SUDO service "$s" stop >/dev/null 2>&1 || true; done
elif [ -n "$missing" ]; then
  why="you are not root and sudo asks for a password"
  command -v apt-get >/dev/null 2>&1 || why="this machine has no apt-get"
  {
    echo "npm test needs $missing, not found on PATH ($why, so nothing was installed). Install them:"
    echo "  Debian/Ubuntu: sudo apt-get install -y $apt_pkgs"
    echo "  Fedora/RHEL:   sudo dnf install -y $dnf_pkgs"
    echo "  macOS:         brew install $brew_pkgs"
    echo "then run npm test again (or run bash .ci/run as root)."
  } >&2
  exit 1
elif [ -n "$opt_missing" ]; then
  echo "test-deps: $opt_missing not found and cannot be installed here; the browser test will be skipped (sudo apt-get install -y $opt_apt)"
fi

[ "$dry_run" -eq 1 ] && exit 0

# The tests need a Redis at REDIS_URL (default 127.0.0.1:6379); start a throwaway one if none answers.
if ! redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" ping >/dev/null 2>&1; then
  if [ -n "${REDIS_URL:-}" ]; then
    echo "npm test: REDIS_URL=$REDIS_URL does not answer PING; start that Redis or unset REDIS_URL" >&2
    exit 1
  fi
  echo "test-deps: no Redis on 127.0.0.1:6379; starting a throwaway redis-server there (persistence off)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
exit 0
