#!/usr/bin/env bash
# Installs what `make test` needs beyond Go: Debian's docker-compose, which
# the deploy tests use to check docker-compose.yml (no Docker engine needed),
# Debian's chromium, which the portal's browser tests drive headless
# (portal/browser_test.go), and the pinned Temporal CLI that the
# integration tests run. Each is installed only when missing.
set -euo pipefail
apt_updated=
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's $1 ..." >&2
    if [ -z "$apt_updated" ]; then
      apt-get update -qq >&2
      apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    echo "$1 is missing: install it (sudo apt-get install $1)" >&2
    exit 1
  fi
}
if ! command -v docker-compose >/dev/null 2>&1; then
  apt_install docker-compose
fi
if ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi
"$(dirname "$0")/temporal-cli.sh" >/dev/null
