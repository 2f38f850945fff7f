#!/bin/sh
# Writes the secrets docker-compose.yml reads, with fresh random keys:
#   DIR/hookflow.env      HOOKFLOW_API_KEYS, HOOKFLOW_UI_CODEC_KEY, HOOKFLOW_SECRET_KEY, HOOKFLOW_CODEC_KEYS
#   DIR/codec-proxy.env   HOOKFLOW_UI_CODEC_KEY only
#   DIR/grafana.env       Grafana's admin password
# DIR is deploy/ by default. A file that exists is kept, never overwritten:
# new keys would lock out what was sealed and encrypted with the old ones.
set -eu
dir=${1:-$(dirname "$0")}
umask 077

rand_b64() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
rand_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

written=""
write() {
  if [ -e "$1" ]; then
    echo "keeping $1 (it exists)" >&2
    return 0
  fi
  cat >"$1"
  written="$written $1"
}

operator_key=$(rand_hex)
ui_key=$(rand_hex)
write "$dir/hookflow.env" <<ENV
# Written by deploy/gen-env.sh; see deploy/hookflow.env.example.
HOOKFLOW_API_KEYS=$operator_key,$ui_key
HOOKFLOW_UI_CODEC_KEY=$ui_key
HOOKFLOW_SECRET_KEY=s1:$(rand_b64)
HOOKFLOW_CODEC_KEYS=c1:$(rand_b64)
ENV
# The proxy's key must be the one in hookflow.env, kept or new.
ui_key=$(sed -n 's/^HOOKFLOW_UI_CODEC_KEY=//p' "$dir/hookflow.env")
write "$dir/codec-proxy.env" <<ENV
HOOKFLOW_UI_CODEC_KEY=$ui_key
ENV
write "$dir/grafana.env" <<ENV
GF_SECURITY_ADMIN_USER=admin
GF_SECURITY_ADMIN_PASSWORD=$(rand_hex)
ENV
if [ -n "$written" ]; then
  echo "wrote$written" >&2
  echo "the operators' API key (HOOKFLOW_API_KEY for the CLI) is the first of HOOKFLOW_API_KEYS in $dir/hookflow.env" >&2
fi
