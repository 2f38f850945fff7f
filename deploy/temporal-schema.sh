#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schema to the
# version of the Temporal release that runs this script's temporal-sql-tool.
# Every step is safe to run again: an existing database is kept, the
# versioning tables are created only if missing, and update-schema applies
# only the versions not yet applied.
#
# temporal-sql-tool reads the connection from the environment:
#   SQL_PLUGIN (postgres12), SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD.
# Used by docker-compose.yml (temporal-schema, in temporalio/admin-tools)
# and by scripts/cluster/start-temporal.sh (with a tool built by go install).
#
#   TEMPORAL_SQL_TOOL       the tool [temporal-sql-tool]
#   TEMPORAL_DB             main database [temporal]
#   TEMPORAL_VISIBILITY_DB  visibility database [temporal_visibility]
set -eu

tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
export SQL_PLUGIN="${SQL_PLUGIN:-postgres12}"

migrate() { # database, embedded schema name
	echo "temporal-schema: $1 <- $2"
	"$tool" --database "$1" create-database
	"$tool" --database "$1" setup-schema --version 0.0
	"$tool" --database "$1" update-schema --schema-name "$2"
}

migrate "${TEMPORAL_DB:-temporal}" postgresql/v12/temporal
migrate "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" postgresql/v12/visibility
echo "temporal-schema: done"
