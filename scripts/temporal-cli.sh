#!/usr/bin/env bash
# Prints the path of the pinned Temporal CLI, installing it first when it is
# missing (about 2.5 minutes, once per machine).
set -euo pipefail
version=v1.5.1
bin=$(go env GOBIN)
[ -n "$bin" ] || bin="$(go env GOPATH | cut -d: -f1)/bin"
if [ ! -x "$bin/temporal" ]; then
  echo "installing Temporal CLI $version into $bin ..." >&2
  go install "github.com/temporalio/cli/cmd/temporal@$version" >&2
fi
echo "$bin/temporal"
