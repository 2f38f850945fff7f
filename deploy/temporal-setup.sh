#!/bin/sh
# Registers in a running Temporal service what Hookflow needs: its namespace
# and the custom search attributes its workflows set, then waits until the
# frontend accepts queries on them. Safe to run again.
#
# Used by docker-compose.yml (temporal-setup, in temporalio/admin-tools) and
# by scripts/cluster/start-temporal.sh.
#
#   TEMPORAL_ADDRESS             frontend [temporal:7233]
#   HOOKFLOW_TEMPORAL_NAMESPACE  namespace [default]
#   TEMPORAL_CLI                 the temporal CLI [temporal]
#   TEMPORAL_SETUP_TRIES         checks, 2 s apart, before giving up [90]
set -eu

cli=${TEMPORAL_CLI:-temporal}
address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${HOOKFLOW_TEMPORAL_NAMESPACE:-default}
tries=${TEMPORAL_SETUP_TRIES:-90}

t() { "$cli" --address "$address" "$@"; }

# retry DESCRIPTION COMMAND...: runs COMMAND until it succeeds, at most $tries times.
retry() {
	what=$1
	shift
	n=1
	until "$@" >/dev/null 2>&1; do
		if [ "$n" -ge "$tries" ]; then
			echo "temporal-setup: gave up waiting for $what" >&2
			"$@" # once more, with its error shown
			return 1
		fi
		n=$((n + 1))
		sleep 2
	done
}

retry "the cluster at $address" t operator cluster health

if ! t operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
	echo "temporal-setup: creating namespace $namespace"
	t operator namespace create --namespace "$namespace" --retention 168h
fi

# A new namespace reaches the frontend's namespace cache a moment after it
# is created (2 s by default): until then creating attributes fails.
echo "temporal-setup: search attributes in $namespace"
retry "search attributes in $namespace" t operator search-attribute create --namespace "$namespace" \
	--name HookflowEventType --type Keyword \
	--name HookflowEventID --type Keyword \
	--name HookflowSubscriptionID --type Keyword \
	--name HookflowStatus --type Keyword \
	--name HookflowApplicationID --type Keyword

# The frontend caches search attributes: wait until a query naming all five
# is accepted, so that the first workflow Hookflow starts may set them.
retry "the search attributes to be queryable" t workflow list --namespace "$namespace" --limit 1 \
	--query 'HookflowEventType = "x" AND HookflowEventID = "x" AND HookflowSubscriptionID = "x" AND HookflowStatus = "x" AND HookflowApplicationID = "x"'
echo "temporal-setup: done"
