#!/usr/bin/env bash
# Runs a real Temporal server (not the dev server) on the local PostgreSQL,
# listening on 127.0.0.1 only, for `make test-cluster`:
#
#   1. installs temporal-server and temporal-sql-tool (pinned, with go
#      install) into .hookflow/cluster/bin/<version>/ when missing;
#   2. creates the cluster's two databases and brings their schema up to
#      date (deploy/temporal-schema.sh, safe to run again);
#   3. starts the server with scripts/cluster/temporal-postgres.yaml;
#   4. registers the namespace and Hookflow's search attributes
#      (deploy/temporal-setup.sh), prints "temporal-cluster: ready ..."
#      and keeps running until SIGINT/SIGTERM, which stop the server.
#
# Environment (defaults in brackets):
#   HOOKFLOW_CLUSTER_PORT           frontend gRPC port; the server also takes the next nine [17233]
#   HOOKFLOW_CLUSTER_PG_HOST        PostgreSQL host [127.0.0.1]
#   HOOKFLOW_CLUSTER_PG_PORT        PostgreSQL port [5432]
#   HOOKFLOW_CLUSTER_PG_USER        PostgreSQL user, allowed to create databases [postgres]
#   HOOKFLOW_CLUSTER_PG_PASSWORD    its password [empty: trust authentication]
#   HOOKFLOW_CLUSTER_DB             Temporal's database [hookflow_temporal]
#   HOOKFLOW_CLUSTER_VISIBILITY_DB  Temporal's visibility database [hookflow_temporal_visibility]
#   HOOKFLOW_CLUSTER_RESET          1 drops both databases first, for a cluster with no history [0]
#   HOOKFLOW_CLUSTER_CACHE          where binaries and the log go [.hookflow/cluster]
#   HOOKFLOW_CLUSTER_LOG_LEVEL      server log level [warn]
#   HOOKFLOW_TEMPORAL_NAMESPACE     namespace to register [default]
#   TEMPORAL_CLI                    temporal CLI to register with [scripts/temporal-cli.sh, else installed here]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

server_version=v1.29.1 # the release whose config and schema are in this folder
cli_version=v1.5.1     # the CLI pinned by the contract

export HOOKFLOW_CLUSTER_PORT=${HOOKFLOW_CLUSTER_PORT:-17233}
export HOOKFLOW_CLUSTER_PG_HOST=${HOOKFLOW_CLUSTER_PG_HOST:-127.0.0.1}
export HOOKFLOW_CLUSTER_PG_PORT=${HOOKFLOW_CLUSTER_PG_PORT:-5432}
export HOOKFLOW_CLUSTER_PG_USER=${HOOKFLOW_CLUSTER_PG_USER:-postgres}
export HOOKFLOW_CLUSTER_PG_PASSWORD=${HOOKFLOW_CLUSTER_PG_PASSWORD:-}
export HOOKFLOW_CLUSTER_DB=${HOOKFLOW_CLUSTER_DB:-hookflow_temporal}
export HOOKFLOW_CLUSTER_VISIBILITY_DB=${HOOKFLOW_CLUSTER_VISIBILITY_DB:-hookflow_temporal_visibility}
export HOOKFLOW_CLUSTER_DYNAMIC_CONFIG="$root/scripts/cluster/dynamicconfig.yaml"

# Temporal stores membership ports in a PostgreSQL smallint: a server on a
# port above 32767 dies at start ("out of range for type smallint").
if [ "$HOOKFLOW_CLUSTER_PORT" -lt 1024 ] || [ "$((HOOKFLOW_CLUSTER_PORT + 9))" -gt 32767 ]; then
	echo "temporal-cluster: HOOKFLOW_CLUSTER_PORT must be between 1024 and 32758, got $HOOKFLOW_CLUSTER_PORT" >&2
	exit 2
fi

cache=${HOOKFLOW_CLUSTER_CACHE:-$root/.hookflow/cluster}
bin="$cache/bin/$server_version"
log="$cache/temporal-$HOOKFLOW_CLUSTER_PORT.log"
mkdir -p "$bin"

say() { echo "temporal-cluster: $*" >&2; }

# 1. Binaries. go install names them after their folders: server, sql.
if [ ! -x "$bin/server" ] || [ ! -x "$bin/sql" ]; then
	say "installing temporal-server and temporal-sql-tool $server_version into $bin (minutes, once)"
	GOBIN="$bin" go install \
		"go.temporal.io/server/cmd/server@$server_version" \
		"go.temporal.io/server/cmd/tools/sql@$server_version"
fi
cli=${TEMPORAL_CLI:-}
if [ -z "$cli" ] && [ -x scripts/temporal-cli.sh ]; then
	cli=$(scripts/temporal-cli.sh)
fi
if [ -z "$cli" ]; then
	if [ ! -x "$bin/temporal" ]; then
		say "installing the temporal CLI $cli_version into $bin"
		GOBIN="$bin" go install "github.com/temporalio/cli/cmd/temporal@$cli_version"
	fi
	cli="$bin/temporal"
fi

# 2. Databases and schema.
export SQL_PLUGIN=postgres12
export SQL_HOST=$HOOKFLOW_CLUSTER_PG_HOST SQL_PORT=$HOOKFLOW_CLUSTER_PG_PORT
export SQL_USER=$HOOKFLOW_CLUSTER_PG_USER SQL_PASSWORD=$HOOKFLOW_CLUSTER_PG_PASSWORD
if [ "${HOOKFLOW_CLUSTER_RESET:-0}" = 1 ]; then
	for db in "$HOOKFLOW_CLUSTER_DB" "$HOOKFLOW_CLUSTER_VISIBILITY_DB"; do
		say "dropping $db"
		# A database that is not there is fine; a server that is not there
		# fails the next step with a clear error.
		"$bin/sql" --database "$db" drop-database --force >>"$log" 2>&1 || true
	done
fi
say "schema of $HOOKFLOW_CLUSTER_DB and $HOOKFLOW_CLUSTER_VISIBILITY_DB (log: $log)"
TEMPORAL_SQL_TOOL="$bin/sql" TEMPORAL_DB="$HOOKFLOW_CLUSTER_DB" \
	TEMPORAL_VISIBILITY_DB="$HOOKFLOW_CLUSTER_VISIBILITY_DB" \
	sh deploy/temporal-schema.sh >>"$log" 2>&1

# 3. The server, stopped with this script.
"$bin/server" --root "$root" --config scripts/cluster --env temporal-postgres start >>"$log" 2>&1 &
server=$!
stop() {
	trap - INT TERM EXIT
	if kill -0 "$server" 2>/dev/null; then
		say "stopping the server"
		kill -TERM "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# 4. Namespace and search attributes; the script waits for the server, and
# this one gives up as soon as the server is gone instead of letting it
# wait out its tries.
address="127.0.0.1:$HOOKFLOW_CLUSTER_PORT"
TEMPORAL_ADDRESS="$address" TEMPORAL_CLI="$cli" TEMPORAL_SETUP_TRIES=60 \
	sh deploy/temporal-setup.sh >>"$log" 2>&1 &
setup=$!
while kill -0 "$setup" 2>/dev/null && kill -0 "$server" 2>/dev/null; do
	sleep 0.5
done
if ! kill -0 "$server" 2>/dev/null; then
	kill "$setup" 2>/dev/null || true
	say "the server exited during setup; the end of $log:"
	tail -n 20 "$log" >&2
	exit 1
fi
wait "$setup" || {
	say "setup failed; the end of $log:"
	tail -n 20 "$log" >&2
	exit 1
}
say "ready at $address, namespace ${HOOKFLOW_TEMPORAL_NAMESPACE:-default}"
echo "temporal-cluster: ready $address"

set +e
wait "$server"
status=$?
trap - INT TERM EXIT
say "the server exited with status $status; the end of $log:"
tail -n 20 "$log" >&2
exit "$status"
