// Package storetest is the conformance suite of store.Store. Every
// implementation (today SQLite and PostgreSQL through store.SQL) runs the
// same Exercise, so that the API and the activities can rely on one
// behaviour whatever the database.
package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

// Exercise runs the whole suite against the stores that newStore returns.
// Every leaf test calls newStore once and runs in parallel with the others,
// so newStore must give each call its own empty store (a temporary SQLite
// file, a fresh PostgreSQL schema) and close it in t.Cleanup.
func Exercise(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()

	t.Run("Subscriptions", func(t *testing.T) {
		t.Parallel()
		exerciseSubscriptions(t, newStore)
	})
	t.Run("MatchSubscriptions", func(t *testing.T) {
		t.Parallel()
		exerciseMatch(t, newStore)
	})
	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		exerciseEvents(t, newStore)
	})
	t.Run("Deliveries", func(t *testing.T) {
		t.Parallel()
		exerciseDeliveries(t, newStore)
	})
	t.Run("Attempts", func(t *testing.T) {
		t.Parallel()
		exerciseAttempts(t, newStore)
	})
	t.Run("Concurrency", func(t *testing.T) {
		t.Parallel()
		exerciseConcurrency(t, newStore)
	})
	t.Run("EventTypes", func(t *testing.T) {
		t.Parallel()
		exerciseEventTypes(t, newStore)
	})
	t.Run("ModifySubscription", func(t *testing.T) {
		t.Parallel()
		exerciseModifySubscription(t, newStore)
	})
	t.Run("Applications", func(t *testing.T) {
		t.Parallel()
		exerciseApplications(t, newStore)
	})
	t.Run("AppTokens", func(t *testing.T) {
		t.Parallel()
		exerciseAppTokens(t, newStore)
	})
	t.Run("Outbox", func(t *testing.T) {
		t.Parallel()
		exerciseOutbox(t, newStore)
	})
	t.Run("Log", func(t *testing.T) {
		t.Parallel()
		exerciseLog(t, newStore)
	})
	t.Run("Retention", func(t *testing.T) {
		t.Parallel()
		exerciseRetention(t, newStore)
	})
	t.Run("Recoveries", func(t *testing.T) {
		t.Parallel()
		exerciseRecoveries(t, newStore)
	})
	t.Run("Health", func(t *testing.T) {
		t.Parallel()
		exerciseHealth(t, newStore)
	})
	t.Run("FlowControl", func(t *testing.T) {
		t.Parallel()
		exerciseFlowControl(t, newStore)
	})
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, newStore(t).Ping(t.Context()))
	})
}

// t0 has nanoseconds and a zone on purpose: stores keep microseconds and
// give times back in UTC.
var t0 = time.Date(2026, time.March, 1, 12, 30, 15, 123456789, time.FixedZone("CET", 3600))

// stored is what a store gives back for a time it was handed.
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

func ptr[T any](v T) *T { return &v }
