#!/usr/bin/env bash
# Installs what `make test` needs beyond Go: Debian's docker-compose, which
# the deploy tests use to check docker-compose.yml (no Docker engine needed),
# and the pinned Temporal CLI that the integration tests run.
set -euo pipefail
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's docker-compose ..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >&2
  else
    echo "docker-compose is missing: install it (sudo apt-get install docker-compose)" >&2
    exit 1
  fi
fi
"$(dirname "$0")/temporal-cli.sh" >/dev/null
