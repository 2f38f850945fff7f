#!/usr/bin/env bash
# build-at.sh COMMIT OUT: builds cmd/hookflow as it was at COMMIT into OUT,
# from a throwaway export of that commit, so that `make bench BASE=COMMIT`
# can run the commit before a change beside the change itself.
set -euo pipefail
commit=$1
out=$(realpath -m "$2")
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git archive "$commit" | tar -x -C "$src"
mkdir -p "$(dirname "$out")"
(cd "$src" && go build -o "$out" ./cmd/hookflow)
echo "built $(git rev-parse --short "$commit") into $2" >&2
