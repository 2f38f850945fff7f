#!/usr/bin/env bash
# make run: the Temporal dev server (state in .hookflow/, Web UI on
# 127.0.0.1:8233) and Hookflow's API and worker in one process on
# 127.0.0.1:8080. Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
temporal=$(scripts/temporal-cli.sh)
mkdir -p .hookflow bin

# With payload encryption on, the Web UI decodes histories through
# Hookflow's codec endpoint (see SECURITY.md).
codec_args=()
if [ -n "${HOOKFLOW_CODEC_KEYS:-}" ]; then
  codec_args=(--ui-codec-endpoint "http://${HOOKFLOW_HTTP_ADDR:-127.0.0.1:8080}/v1/codec")
fi

# The same settings the tests and `make bench` use (internal/testenv.DevServerArgs,
# which says why each matters): SQLite in WAL mode without fsync per commit,
# eager start and eager activities, search attributes from the cache, a
# larger events cache, one partition per task queue, task queue fairness
# between applications.
"$temporal" server start-dev \
  --ip 127.0.0.1 --port 7233 --ui-port 8233 \
  --db-filename .hookflow/temporal.db \
  --log-level warn \
  --search-attribute HookflowEventType=Keyword \
  --search-attribute HookflowEventID=Keyword \
  --search-attribute HookflowSubscriptionID=Keyword \
  --search-attribute HookflowStatus=Keyword \
  --search-attribute HookflowApplicationID=Keyword \
  --sqlite-pragma journal_mode=wal \
  --sqlite-pragma synchronous=normal \
  --dynamic-config-value system.enableActivityEagerExecution=true \
  --dynamic-config-value system.enableEagerWorkflowStart=true \
  --dynamic-config-value system.forceSearchAttributesCacheRefreshOnRead=false \
  --dynamic-config-value history.eventsCacheMaxSizeBytes=33554432 \
  --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
  --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
  --dynamic-config-value matching.useNewMatcher=true \
  --dynamic-config-value matching.enableFairness=true \
  ${codec_args[@]+"${codec_args[@]}"} \
  >.hookflow/temporal.log 2>&1 &
temporal_pid=$!
trap 'kill "$temporal_pid" 2>/dev/null; wait "$temporal_pid" 2>/dev/null || true' EXIT

echo "waiting for the Temporal dev server (log: .hookflow/temporal.log) ..."
for _ in $(seq 1 120); do
  if "$temporal" operator cluster health --address 127.0.0.1:7233 >/dev/null 2>&1; then break; fi
  if ! kill -0 "$temporal_pid" 2>/dev/null; then
    echo "the Temporal dev server exited:" >&2; tail -20 .hookflow/temporal.log >&2; exit 1
  fi
  sleep 0.5
done
echo "Temporal Web UI: http://127.0.0.1:8233"

go build -o bin/hookflow ./cmd/hookflow
# Local receivers live on loopback, so development allows private targets.
export HOOKFLOW_ALLOW_PRIVATE_TARGETS=${HOOKFLOW_ALLOW_PRIVATE_TARGETS:-true}
bin/hookflow serve &
hookflow_pid=$!
trap 'kill -INT "$hookflow_pid" 2>/dev/null; wait "$hookflow_pid" 2>/dev/null; kill "$temporal_pid" 2>/dev/null; wait "$temporal_pid" 2>/dev/null || true' EXIT
trap 'exit 0' INT TERM
echo "Hookflow API: http://${HOOKFLOW_HTTP_ADDR:-127.0.0.1:8080} (Ctrl-C stops everything)"
wait "$hookflow_pid"
