#!/usr/bin/env bash
# Lints api/openapi.yaml with Redocly's recommended rules (errors fail,
# warnings print). The pinned CLI is installed from npm into .hookflow/ the
# first time (a few seconds); npx would ask the registry again on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.77.0
dir=.hookflow/tools/redocly-$version
if [ ! -x "$dir/node_modules/.bin/redocly" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js (sudo apt-get install npm)" >&2; exit 1; }
  echo "installing @redocly/cli@$version into $dir ..." >&2
  npm install --silent --no-audit --no-fund --prefix "$dir" "@redocly/cli@$version" >&2
fi
# No telemetry and no update check: the run must not depend on the network.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$dir/node_modules/.bin/redocly" lint --format=stylish api/openapi.yaml
