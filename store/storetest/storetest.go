// Package storetest is the conformance suite of store.Store. Every
// implementation (today SQLite and PostgreSQL through store.SQL) runs the
// same Exercise, so that the API and the activities can rely on one
// behaviour whatever the database.
package storetest

import (
	"fmt"
	"strings"
	"sync"
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
	t.Run("Outbox", func(t *testing.T) { t.Parallel(); exerciseOutbox(t, newStore) })
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

// newSubscription is a minimal valid subscription; tests change what they need.
func newSubscription(id string, eventTypes ...string) store.Subscription {
	return store.Subscription{
		ID:         id,
		URL:        "https://example.test/hooks/" + id,
		EventTypes: eventTypes,
		Secret:     "whsec_c2VjcmV0LW9mLQ==" + id,
		Status:     store.SubscriptionActive,
		CreatedAt:  t0,
		UpdatedAt:  t0,
	}
}

func createSubscriptions(t *testing.T, s store.Store, subs ...store.Subscription) {
	t.Helper()
	for _, sub := range subs {
		require.NoError(t, s.CreateSubscription(t.Context(), sub), "create %s", sub.ID)
	}
}

func ids(subs []store.Subscription) []string {
	out := make([]string, 0, len(subs))
	for _, s := range subs {
		out = append(out, s.ID)
	}
	return out
}

// listAll pages through ListSubscriptions with the given page size.
func listAll(t *testing.T, s store.Store, eventType string, pageSize int) []string {
	t.Helper()
	var all []string
	after := ""
	for page := 0; ; page++ {
		require.Less(t, page, 1000, "pagination does not end")
		got, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{EventType: eventType, After: after, Limit: pageSize})
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), pageSize)
		if len(got) == 0 {
			return all
		}
		all = append(all, ids(got)...)
		after = got[len(got)-1].ID
	}
}

// matchAll pages through MatchSubscriptions with the given page size.
func matchAll(t *testing.T, s store.Store, eventType string, pageSize int) []string {
	t.Helper()
	var all []string
	after := ""
	for page := 0; ; page++ {
		require.Less(t, page, 1000, "pagination does not end")
		got, err := s.MatchSubscriptions(t.Context(), eventType, after, pageSize)
		require.NoError(t, err)
		require.LessOrEqual(t, len(got), pageSize)
		if len(got) == 0 {
			return all
		}
		all = append(all, ids(got)...)
		after = got[len(got)-1].ID
	}
}

func exerciseSubscriptions(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateThenGetRoundTripsEveryField", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := store.Subscription{
			ID:  "sub_full",
			URL: "https://example.test/hooks?x=1",
			// Duplicates are dropped and the types come back sorted.
			EventTypes:              []string{"order.*", "invoice.paid", "order.*", "*"},
			Description:             "billing — production ✓",
			Secret:                  "whsec_bmV3LXNlY3JldA==",
			PreviousSecret:          "whsec_b2xkLXNlY3JldA==",
			PreviousSecretExpiresAt: t0.Add(24 * time.Hour),
			Headers:                 map[string]string{"X-Team": "billing", "Authorization": "Bearer abc"},
			Retry: &store.RetryOverride{
				InitialIntervalSeconds: ptr(0.5),
				BackoffCoefficient:     ptr(1.5),
				MaxIntervalSeconds:     ptr(3600.25),
				MaxAttempts:            ptr(0),
				MaxDurationSeconds:     ptr(86400.0),
			},
			Timeout:   2500 * time.Millisecond,
			Status:    store.SubscriptionPaused,
			CreatedAt: t0,
			UpdatedAt: t0.Add(time.Second),
		}
		require.NoError(t, s.CreateSubscription(t.Context(), sub))

		got, err := s.GetSubscription(t.Context(), sub.ID)
		require.NoError(t, err)
		want := sub
		want.EventTypes = []string{"*", "invoice.paid", "order.*"}
		want.PreviousSecretExpiresAt = stored(sub.PreviousSecretExpiresAt)
		want.CreatedAt, want.UpdatedAt = stored(sub.CreatedAt), stored(sub.UpdatedAt)
		require.Equal(t, want, got)
	})

	t.Run("OptionalFieldsStayEmpty", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_min", "order.created")
		sub.Retry = &store.RetryOverride{MaxAttempts: ptr(5)}
		require.NoError(t, s.CreateSubscription(t.Context(), sub))

		got, err := s.GetSubscription(t.Context(), sub.ID)
		require.NoError(t, err)
		require.Empty(t, got.Headers)
		require.Empty(t, got.Description)
		require.Empty(t, got.PreviousSecret)
		require.True(t, got.PreviousSecretExpiresAt.IsZero())
		require.Zero(t, got.Timeout)
		// A partial override keeps its unset fields unset, so that they fall
		// back to the global policy instead of to zero.
		require.Equal(t, &store.RetryOverride{MaxAttempts: ptr(5)}, got.Retry)

		sub2 := newSubscription("sub_noretry", "order.created")
		require.NoError(t, s.CreateSubscription(t.Context(), sub2))
		got2, err := s.GetSubscription(t.Context(), sub2.ID)
		require.NoError(t, err)
		require.Nil(t, got2.Retry)
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.GetSubscription(t.Context(), "sub_missing")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("CreateDuplicateIDIsConflict", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		first := newSubscription("sub_dup", "order.created")
		require.NoError(t, s.CreateSubscription(t.Context(), first))
		second := newSubscription("sub_dup", "invoice.paid")
		second.URL = "https://example.test/other"
		require.ErrorIs(t, s.CreateSubscription(t.Context(), second), store.ErrConflict)

		got, err := s.GetSubscription(t.Context(), "sub_dup")
		require.NoError(t, err)
		require.Equal(t, first.URL, got.URL)
		require.Equal(t, []string{"order.created"}, got.EventTypes, "the failed create must leave no event type behind")
	})

	t.Run("ListPagesByIDInByteOrder", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Upper case sorts before lower case and "-" before letters in byte
		// order; a linguistic collation would order these differently.
		created := []string{"sub_b", "sub_B", "sub_a-c", "sub_ab", "sub_A", "sub_9", "sub_a", "sub_c"}
		for _, id := range created {
			createSubscriptions(t, s, newSubscription(id, "order.created"))
		}
		want := []string{"sub_9", "sub_A", "sub_B", "sub_a", "sub_a-c", "sub_ab", "sub_b", "sub_c"}
		for _, size := range []int{1, 3, len(created), 100} {
			require.Equal(t, want, listAll(t, s, "", size), "page size %d", size)
		}

		page, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{After: "sub_a", Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{"sub_a-c", "sub_ab"}, ids(page))
		require.Equal(t, []string{"order.created"}, page[0].EventTypes, "a page carries each subscription's event types")

		page, err = s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{After: "sub_c"})
		require.NoError(t, err)
		require.Empty(t, page)
	})

	t.Run("ListWithoutLimitReturnsEverything", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for i := range 5 {
			createSubscriptions(t, s, newSubscription(fmt.Sprintf("sub_%d", i), "order.created"))
		}
		for _, limit := range []int{0, -1} {
			got, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{Limit: limit})
			require.NoError(t, err)
			require.Equal(t, []string{"sub_0", "sub_1", "sub_2", "sub_3", "sub_4"}, ids(got), "limit %d", limit)
		}
	})

	t.Run("ListFiltersByEventTypeWithWildcards", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		paused := newSubscription("sub_paused", "order.created")
		paused.Status = store.SubscriptionPaused
		createSubscriptions(t, s,
			newSubscription("sub_exact", "order.created"),
			newSubscription("sub_prefix", "order.*"),
			newSubscription("sub_all", "*"),
			newSubscription("sub_other", "order.updated"),
			newSubscription("sub_invoice", "invoice.*"),
			newSubscription("sub_two", "invoice.paid", "order.created"),
			newSubscription("sub_deeper", "order.created.*"),
			paused,
		)
		// Listing shows what would receive the type whatever the status.
		want := []string{"sub_all", "sub_exact", "sub_paused", "sub_prefix", "sub_two"}
		for _, size := range []int{1, 2, 50} {
			require.Equal(t, want, listAll(t, s, "order.created", size), "page size %d", size)
		}
		require.Equal(t, []string{"sub_all", "sub_invoice", "sub_two"}, listAll(t, s, "invoice.paid", 10))
		require.Equal(t, []string{"sub_all", "sub_deeper", "sub_prefix"},
			listAll(t, s, "order.created.v2", 10), "order.* and order.created.* receive order.created.v2, order.created does not")
		require.Equal(t, []string{"sub_all"}, listAll(t, s, "customer.deleted", 10))
	})

	t.Run("UpdateReplacesFieldsAndEventTypes", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_upd", "order.created", "order.updated")
		sub.Headers = map[string]string{"X-Old": "1"}
		sub.Retry = &store.RetryOverride{MaxAttempts: ptr(3)}
		createSubscriptions(t, s, sub, newSubscription("sub_bystander", "order.created"))

		changed := sub
		changed.URL = "https://example.test/new"
		changed.EventTypes = []string{"invoice.*"}
		changed.Description = "moved"
		changed.Headers = map[string]string{"X-New": "2"}
		changed.Retry = nil
		changed.Timeout = time.Second
		changed.Status = store.SubscriptionPaused
		changed.Secret = "whsec_cm90YXRlZA=="
		changed.PreviousSecret = sub.Secret
		changed.PreviousSecretExpiresAt = t0.Add(24 * time.Hour)
		changed.CreatedAt = t0.Add(time.Hour) // ignored: creation time is fixed
		changed.UpdatedAt = t0.Add(time.Minute)
		require.NoError(t, s.UpdateSubscription(t.Context(), changed))

		got, err := s.GetSubscription(t.Context(), sub.ID)
		require.NoError(t, err)
		want := changed
		want.CreatedAt = stored(sub.CreatedAt)
		want.UpdatedAt = stored(changed.UpdatedAt)
		want.PreviousSecretExpiresAt = stored(changed.PreviousSecretExpiresAt)
		require.Equal(t, want, got)

		require.Equal(t, []string{"sub_bystander"}, listAll(t, s, "order.created", 10), "old event types are gone")
		require.Equal(t, []string{"sub_upd"}, listAll(t, s, "invoice.paid", 10))

		other, err := s.GetSubscription(t.Context(), "sub_bystander")
		require.NoError(t, err)
		require.Equal(t, []string{"order.created"}, other.EventTypes, "another subscription's types are untouched")
	})

	t.Run("UpdateUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		err := s.UpdateSubscription(t.Context(), newSubscription("sub_missing", "order.created"))
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetSubscription(t.Context(), "sub_missing")
		require.ErrorIs(t, err, store.ErrNotFound, "an update must not create")
		require.Empty(t, listAll(t, s, "order.created", 10))
	})

	t.Run("DeleteRemovesEverywhere", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_del", "order.*"), newSubscription("sub_keep", "order.*"))
		require.NoError(t, s.DeleteSubscription(t.Context(), "sub_del"))

		_, err := s.GetSubscription(t.Context(), "sub_del")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Equal(t, []string{"sub_keep"}, listAll(t, s, "", 10))
		require.Equal(t, []string{"sub_keep"}, listAll(t, s, "order.created", 10))
		require.Equal(t, []string{"sub_keep"}, matchAll(t, s, "order.created", 10))
		require.ErrorIs(t, s.DeleteSubscription(t.Context(), "sub_del"), store.ErrNotFound)

		// The id is free again, with nothing of the old subscription left.
		createSubscriptions(t, s, newSubscription("sub_del", "invoice.paid"))
		got, err := s.GetSubscription(t.Context(), "sub_del")
		require.NoError(t, err)
		require.Equal(t, []string{"invoice.paid"}, got.EventTypes)
	})

	t.Run("SigningSecretsFollowRotation", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_rot", "order.created")
		createSubscriptions(t, s, sub)

		got, err := s.GetSubscription(t.Context(), sub.ID)
		require.NoError(t, err)
		require.Equal(t, []string{sub.Secret}, got.SigningSecrets(t0))

		rotatedAt := t0.Add(time.Hour)
		expires := rotatedAt.Add(24 * time.Hour)
		got.PreviousSecret, got.Secret = got.Secret, "whsec_bmV4dA=="
		got.PreviousSecretExpiresAt = expires
		got.UpdatedAt = rotatedAt
		require.NoError(t, s.UpdateSubscription(t.Context(), got))

		rotated, err := s.GetSubscription(t.Context(), sub.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"whsec_bmV4dA==", sub.Secret}, rotated.SigningSecrets(rotatedAt))
		require.Equal(t, []string{"whsec_bmV4dA==", sub.Secret}, rotated.SigningSecrets(expires.Add(-time.Microsecond)))
		require.Equal(t, []string{"whsec_bmV4dA=="}, rotated.SigningSecrets(expires), "the old secret ends at its expiry")
		require.Equal(t, []string{"whsec_bmV4dA=="}, rotated.SigningSecrets(expires.Add(time.Hour)))
	})
}

func exerciseMatch(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("OnlyActiveExactAndWildcard", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		paused := newSubscription("sub_paused", "*")
		paused.Status = store.SubscriptionPaused
		createSubscriptions(t, s,
			newSubscription("sub_exact", "order.created"),
			newSubscription("sub_prefix", "order.*"),
			newSubscription("sub_all", "*"),
			newSubscription("sub_other", "order.updated"),
			newSubscription("sub_orders", "orders.*"),
			newSubscription("sub_two", "invoice.paid", "order.created", "order.*"),
			paused,
		)
		cases := map[string][]string{
			"order.created":      {"sub_all", "sub_exact", "sub_prefix", "sub_two"},
			"order.updated":      {"sub_all", "sub_other", "sub_prefix", "sub_two"},
			"order.line.shipped": {"sub_all", "sub_prefix", "sub_two"},
			// "order.*" means "order." and more: not "order" itself.
			"order":          {"sub_all"},
			"orders.created": {"sub_all", "sub_orders"},
			"invoice.paid":   {"sub_all", "sub_two"},
		}
		for eventType, want := range cases {
			got, err := s.MatchSubscriptions(t.Context(), eventType, "", 100)
			require.NoError(t, err)
			require.Equal(t, want, ids(got), "event type %q", eventType)
			for _, sub := range got {
				require.Equal(t, store.SubscriptionActive, sub.Status)
				require.NotEmpty(t, sub.Secret, "a match carries what a delivery needs")
				require.NotEmpty(t, sub.URL)
			}
		}
	})

	t.Run("PagesWithAfter", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var want []string
		for i := range 25 {
			id := fmt.Sprintf("sub_%02d", i)
			switch i % 5 {
			case 0:
				createSubscriptions(t, s, newSubscription(id, "*"))
			case 1:
				createSubscriptions(t, s, newSubscription(id, "user.*"))
			case 2:
				createSubscriptions(t, s, newSubscription(id, "user.signed_up"))
			case 3:
				createSubscriptions(t, s, newSubscription(id, "user.deleted"))
				continue
			case 4:
				sub := newSubscription(id, "user.signed_up")
				sub.Status = store.SubscriptionPaused
				createSubscriptions(t, s, sub)
				continue
			}
			want = append(want, id)
		}
		for _, size := range []int{1, 4, 15, 100} {
			require.Equal(t, want, matchAll(t, s, "user.signed_up", size), "page size %d", size)
		}
		got, err := s.MatchSubscriptions(t.Context(), "user.signed_up", "sub_10", 2)
		require.NoError(t, err)
		require.Equal(t, []string{"sub_11", "sub_12"}, ids(got))
	})

	t.Run("PausedDoNotShortenPages", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Callers stop paging at a short page: paused subscriptions before
		// an active one must not take the page's places.
		created := newSubscription("sub_a", "order.created")
		created.Status = store.SubscriptionPaused
		updated := newSubscription("sub_b", "order.created")
		createSubscriptions(t, s, created, updated, newSubscription("sub_c", "order.created"))
		updated.Status = store.SubscriptionPaused
		require.NoError(t, s.UpdateSubscription(t.Context(), updated))

		got, err := s.MatchSubscriptions(t.Context(), "order.created", "", 1)
		require.NoError(t, err)
		require.Equal(t, []string{"sub_c"}, ids(got))
	})

	t.Run("PausedThenResumed", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_toggle", "order.created")
		createSubscriptions(t, s, sub)
		sub.Status = store.SubscriptionPaused
		require.NoError(t, s.UpdateSubscription(t.Context(), sub))
		require.Empty(t, matchAll(t, s, "order.created", 10))
		sub.Status = store.SubscriptionActive
		require.NoError(t, s.UpdateSubscription(t.Context(), sub))
		require.Equal(t, []string{"sub_toggle"}, matchAll(t, s, "order.created", 10))
	})
}

func newEvent(id, hash string) store.Event {
	return store.Event{
		ID:         id,
		Type:       "order.created",
		Payload:    []byte(`{"id":"` + id + `","type":"order.created","data":{"n":1}}`),
		BodyHash:   hash,
		WorkflowID: "event:" + id,
		CreatedAt:  t0,
	}
}

func exerciseEvents(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("CreateThenGet", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		e := newEvent("evt_1", "h1")
		e.Payload = []byte("{\"bytes\":\"\xff\x00 kept exactly\"}")
		e.RunID = "run-1"
		got, created, err := s.CreateEvent(t.Context(), e)
		require.NoError(t, err)
		require.True(t, created)

		read, err := s.GetEvent(t.Context(), e.ID)
		require.NoError(t, err)
		want := e
		want.CreatedAt = stored(e.CreatedAt)
		require.Equal(t, want, read)
		require.Equal(t, read, got, "CreateEvent returns the event as stored")
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.GetEvent(t.Context(), "evt_missing")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("SameHashReturnsExisting", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		first := newEvent("evt_idem", "same")
		_, created, err := s.CreateEvent(t.Context(), first)
		require.NoError(t, err)
		require.True(t, created)
		require.NoError(t, s.SetEventRun(t.Context(), first.ID, "run-first"))

		again := newEvent("evt_idem", "same")
		again.WorkflowID = "event:other"
		again.CreatedAt = t0.Add(time.Hour)
		got, created, err := s.CreateEvent(t.Context(), again)
		require.NoError(t, err)
		require.False(t, created)
		require.Equal(t, "run-first", got.RunID, "the first result is returned")
		require.Equal(t, first.WorkflowID, got.WorkflowID)
		require.Equal(t, stored(first.CreatedAt), got.CreatedAt)
	})

	t.Run("DifferentHashIsConflict", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		first := newEvent("evt_conf", "one")
		_, _, err := s.CreateEvent(t.Context(), first)
		require.NoError(t, err)

		other := newEvent("evt_conf", "two")
		other.Payload = []byte(`{"other":true}`)
		_, created, err := s.CreateEvent(t.Context(), other)
		require.ErrorIs(t, err, store.ErrConflict)
		require.False(t, created)

		got, err := s.GetEvent(t.Context(), first.ID)
		require.NoError(t, err)
		require.Equal(t, first.Payload, got.Payload)
		require.Equal(t, "one", got.BodyHash)
	})

	t.Run("SetRunAndDispatched", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		e := newEvent("evt_run", "h")
		_, _, err := s.CreateEvent(t.Context(), e)
		require.NoError(t, err)

		require.NoError(t, s.SetEventRun(t.Context(), e.ID, "run-a"))
		require.NoError(t, s.SetEventRun(t.Context(), e.ID, "run-b"))
		got, err := s.GetEvent(t.Context(), e.ID)
		require.NoError(t, err)
		require.Equal(t, "run-b", got.RunID)
		require.False(t, got.Dispatched)

		require.NoError(t, s.MarkEventDispatched(t.Context(), e.ID))
		require.NoError(t, s.MarkEventDispatched(t.Context(), e.ID), "marking twice is fine")
		got, err = s.GetEvent(t.Context(), e.ID)
		require.NoError(t, err)
		require.True(t, got.Dispatched)
		require.Equal(t, "run-b", got.RunID)

		require.ErrorIs(t, s.SetEventRun(t.Context(), "evt_missing", "run"), store.ErrNotFound)
		require.ErrorIs(t, s.MarkEventDispatched(t.Context(), "evt_missing"), store.ErrNotFound)
	})

	t.Run("DeleteForgetsEventAndItsDeliveries", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		e := newEvent("evt_del", "old")
		_, _, err := s.CreateEvent(t.Context(), e)
		require.NoError(t, err)
		keep := newEvent("evt_keep", "k")
		_, _, err = s.CreateEvent(t.Context(), keep)
		require.NoError(t, err)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{
			newDelivery("dlv_del", e.ID, "sub_1"), newDelivery("dlv_keep", keep.ID, "sub_1"),
		}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_del", 1), store.DeliveryRetrying, t0))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_keep", 1), store.DeliveryRetrying, t0))

		require.NoError(t, s.DeleteEvent(t.Context(), e.ID))
		_, err = s.GetEvent(t.Context(), e.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetDelivery(t.Context(), "dlv_del")
		require.ErrorIs(t, err, store.ErrNotFound)
		attempts, err := s.ListAttempts(t.Context(), "dlv_del")
		require.NoError(t, err)
		require.Empty(t, attempts)
		require.ErrorIs(t, s.DeleteEvent(t.Context(), e.ID), store.ErrNotFound)

		// Another event keeps its deliveries and attempts.
		_, err = s.GetDelivery(t.Context(), "dlv_keep")
		require.NoError(t, err)
		attempts, err = s.ListAttempts(t.Context(), "dlv_keep")
		require.NoError(t, err)
		require.Len(t, attempts, 1)

		// The id can be used again, even with another body.
		_, created, err := s.CreateEvent(t.Context(), newEvent("evt_del", "new"))
		require.NoError(t, err)
		require.True(t, created)
	})
}

func newDelivery(id, eventID, subscriptionID string) store.Delivery {
	return store.Delivery{
		ID:             id,
		EventID:        eventID,
		SubscriptionID: subscriptionID,
		URL:            "https://example.test/hooks/" + subscriptionID,
		Status:         store.DeliveryPending,
		WorkflowID:     "delivery:" + eventID + ":" + subscriptionID,
		UpdatedAt:      t0,
	}
}

func newAttempt(deliveryID string, n int) store.Attempt {
	return store.Attempt{
		DeliveryID:      deliveryID,
		Attempt:         n,
		StartedAt:       t0.Add(time.Duration(n) * time.Minute),
		DurationMs:      int64(10 * n),
		StatusCode:      500,
		Error:           fmt.Sprintf("attempt %d: status 500", n),
		ResponseExcerpt: "internal error",
	}
}

func exerciseDeliveries(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("AddGetList", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ds := []store.Delivery{
			newDelivery("dlv_b", "evt_1", "sub_b"),
			newDelivery("dlv_a", "evt_1", "sub_a"),
			newDelivery("dlv_c", "evt_2", "sub_a"),
		}
		require.NoError(t, s.AddDeliveries(t.Context(), ds))

		got, err := s.GetDelivery(t.Context(), "dlv_a")
		require.NoError(t, err)
		want := ds[1]
		want.UpdatedAt = stored(want.UpdatedAt)
		require.Equal(t, want, got)
		require.Zero(t, got.Attempts)
		require.True(t, got.NextAttemptAt.IsZero())

		list, err := s.ListDeliveries(t.Context(), "evt_1")
		require.NoError(t, err)
		require.Equal(t, []string{"dlv_a", "dlv_b"}, deliveryIDs(list), "ordered by id")
		require.Equal(t, "sub_b", list[1].SubscriptionID)

		list, err = s.ListDeliveries(t.Context(), "evt_none")
		require.NoError(t, err)
		require.Empty(t, list)

		_, err = s.GetDelivery(t.Context(), "dlv_missing")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.AddDeliveries(t.Context(), nil), "nothing to add is fine")
	})

	t.Run("AddKeepsExisting", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		first := newDelivery("dlv_1", "evt_1", "sub_1")
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{first}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 1), store.DeliveryRetrying, t0.Add(time.Hour)))

		// A retried dispatch adds the same deliveries again, with one more.
		again := newDelivery("dlv_1", "evt_1", "sub_1")
		again.URL = "https://example.test/changed"
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{again, newDelivery("dlv_2", "evt_1", "sub_2")}))

		got, err := s.GetDelivery(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, first.URL, got.URL)
		require.Equal(t, store.DeliveryRetrying, got.Status, "progress is not reset")
		require.Equal(t, 1, got.Attempts)

		list, err := s.ListDeliveries(t.Context(), "evt_1")
		require.NoError(t, err)
		require.Equal(t, []string{"dlv_1", "dlv_2"}, deliveryIDs(list))
	})

	t.Run("AddWithoutStatusIsPending", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		d := newDelivery("dlv_nostatus", "evt_1", "sub_1")
		d.Status = ""
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{d}))
		got, err := s.GetDelivery(t.Context(), d.ID)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryPending, got.Status)
	})

	t.Run("SetDeliveryStatus", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_s", "evt_1", "sub_1")}))

		next := t0.Add(90 * time.Second)
		require.NoError(t, s.SetDeliveryStatus(t.Context(), "dlv_s", store.DeliveryRetrying, next))
		got, err := s.GetDelivery(t.Context(), "dlv_s")
		require.NoError(t, err)
		require.Equal(t, store.DeliveryRetrying, got.Status)
		require.Equal(t, stored(next), got.NextAttemptAt)
		require.True(t, got.UpdatedAt.After(stored(t0)), "the change is stamped")

		require.NoError(t, s.SetDeliveryStatus(t.Context(), "dlv_s", store.DeliveryCancelled, time.Time{}))
		got, err = s.GetDelivery(t.Context(), "dlv_s")
		require.NoError(t, err)
		require.Equal(t, store.DeliveryCancelled, got.Status)
		require.True(t, got.NextAttemptAt.IsZero())
		require.Zero(t, got.Attempts)

		require.ErrorIs(t, s.SetDeliveryStatus(t.Context(), "dlv_missing", store.DeliveryFailed, time.Time{}), store.ErrNotFound)
	})
}

func deliveryIDs(ds []store.Delivery) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func attemptNumbers(as []store.Attempt) []int {
	out := make([]int, 0, len(as))
	for _, a := range as {
		out = append(out, a.Attempt)
	}
	return out
}

func exerciseAttempts(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("RecordMovesDeliveryAndLogs", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))

		first := newAttempt("dlv_1", 1)
		next := t0.Add(5 * time.Second)
		require.NoError(t, s.RecordAttempt(t.Context(), first, store.DeliveryRetrying, next))
		d, err := s.GetDelivery(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, store.DeliveryRetrying, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, stored(next), d.NextAttemptAt)

		second := store.Attempt{DeliveryID: "dlv_1", Attempt: 2, StartedAt: t0.Add(6 * time.Second), DurationMs: 42, StatusCode: 204}
		require.NoError(t, s.RecordAttempt(t.Context(), second, store.DeliverySucceeded, time.Time{}))
		d, err = s.GetDelivery(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, store.DeliverySucceeded, d.Status)
		require.Equal(t, 2, d.Attempts)
		require.True(t, d.NextAttemptAt.IsZero())

		log, err := s.ListAttempts(t.Context(), "dlv_1")
		require.NoError(t, err)
		first.StartedAt, second.StartedAt = stored(first.StartedAt), stored(second.StartedAt)
		require.Equal(t, []store.Attempt{first, second}, log)
	})

	t.Run("ConnectionErrorHasNoStatusCode", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))
		a := store.Attempt{DeliveryID: "dlv_1", Attempt: 1, StartedAt: t0, DurationMs: 15000, Error: "dial tcp: connection refused"}
		require.NoError(t, s.RecordAttempt(t.Context(), a, store.DeliveryRetrying, t0.Add(time.Minute)))
		log, err := s.ListAttempts(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Len(t, log, 1)
		require.Zero(t, log[0].StatusCode)
		require.Equal(t, a.Error, log[0].Error)
		require.Empty(t, log[0].ResponseExcerpt)
	})

	t.Run("DuplicateAttemptKeepsFirst", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))
		first := newAttempt("dlv_1", 1)
		require.NoError(t, s.RecordAttempt(t.Context(), first, store.DeliveryRetrying, t0))

		// The activity ran again after a crash and records attempt 1 anew.
		dup := newAttempt("dlv_1", 1)
		dup.StatusCode, dup.Error, dup.StartedAt = 502, "second write", t0.Add(time.Hour)
		require.NoError(t, s.RecordAttempt(t.Context(), dup, store.DeliveryRetrying, t0))

		log, err := s.ListAttempts(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Len(t, log, 1)
		require.Equal(t, 500, log[0].StatusCode)
		require.Equal(t, first.Error, log[0].Error)
		require.Equal(t, stored(first.StartedAt), log[0].StartedAt)
		d, err := s.GetDelivery(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, 1, d.Attempts)
	})

	t.Run("LateOlderAttemptDoesNotMoveStatusBack", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 3), store.DeliverySucceeded, time.Time{}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 2), store.DeliveryRetrying, t0.Add(time.Hour)))

		d, err := s.GetDelivery(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, 3, d.Attempts)
		require.Equal(t, store.DeliverySucceeded, d.Status)
		require.True(t, d.NextAttemptAt.IsZero())
		log, err := s.ListAttempts(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, []int{2, 3}, attemptNumbers(log), "the late attempt is still logged")
	})

	t.Run("CancelledStaysCancelled", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 1), store.DeliveryRetrying, t0.Add(time.Minute)))
		require.NoError(t, s.SetDeliveryStatus(t.Context(), "dlv_1", store.DeliveryCancelled, time.Time{}))

		// An attempt that was still running when the cancel came reports,
		// and so does a workflow that gave up on it: neither undoes it.
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 2), store.DeliveryRetrying, t0.Add(time.Hour)))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 3), store.DeliverySucceeded, time.Time{}))
		require.NoError(t, s.SetDeliveryStatus(t.Context(), "dlv_1", store.DeliveryFailed, t0.Add(time.Hour)))

		d, err := s.GetDelivery(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, store.DeliveryCancelled, d.Status)
		require.True(t, d.NextAttemptAt.IsZero())
		require.Equal(t, 3, d.Attempts)
		log, err := s.ListAttempts(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Equal(t, []int{1, 2, 3}, attemptNumbers(log), "the late attempts are still logged")
	})

	t.Run("LogIsBounded", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{
			newDelivery("dlv_long", "evt_1", "sub_1"), newDelivery("dlv_short", "evt_1", "sub_2"),
		}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_short", 1), store.DeliveryRetrying, t0))
		total := store.MaxAttemptsKept + 7
		for n := 1; n <= total; n++ {
			require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_long", n), store.DeliveryRetrying, t0))
		}

		log, err := s.ListAttempts(t.Context(), "dlv_long")
		require.NoError(t, err)
		require.Len(t, log, store.MaxAttemptsKept)
		require.Equal(t, total-store.MaxAttemptsKept+1, log[0].Attempt, "the oldest are dropped")
		require.Equal(t, total, log[len(log)-1].Attempt)
		d, err := s.GetDelivery(t.Context(), "dlv_long")
		require.NoError(t, err)
		require.Equal(t, total, d.Attempts, "the counter counts every attempt, not the kept ones")

		other, err := s.ListAttempts(t.Context(), "dlv_short")
		require.NoError(t, err)
		require.Len(t, other, 1, "another delivery's log is untouched")
	})

	t.Run("TextIsStoredAsValidUTF8", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))
		// A response cut at a byte limit, or a binary one, is not UTF-8 text;
		// PostgreSQL refuses such text and NUL outright.
		a := newAttempt("dlv_1", 1)
		a.ResponseExcerpt = "ok\xff\x00end é\xc3"
		a.Error = "bad \xfe header\x00"
		require.NoError(t, s.RecordAttempt(t.Context(), a, store.DeliveryRetrying, t0))
		log, err := s.ListAttempts(t.Context(), "dlv_1")
		require.NoError(t, err)
		require.Len(t, log, 1)
		require.Equal(t, "ok\uFFFD\uFFFDend é\uFFFD", log[0].ResponseExcerpt)
		require.Equal(t, "bad \uFFFD header\uFFFD", log[0].Error)
	})

	t.Run("UnknownDeliveryIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		err := s.RecordAttempt(t.Context(), newAttempt("dlv_missing", 1), store.DeliveryRetrying, t0)
		require.ErrorIs(t, err, store.ErrNotFound)
		log, err := s.ListAttempts(t.Context(), "dlv_missing")
		require.NoError(t, err)
		require.Empty(t, log, "no orphan attempt is left behind")
	})
}

func exerciseConcurrency(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("WritersOnDifferentDeliveries", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const (
			writers  = 20
			attempts = 5
		)
		ds := make([]store.Delivery, writers)
		for i := range ds {
			ds[i] = newDelivery(fmt.Sprintf("dlv_%02d", i), "evt_1", fmt.Sprintf("sub_%02d", i))
		}
		require.NoError(t, s.AddDeliveries(t.Context(), ds))

		errs := make(chan error, writers*(attempts+2))
		var wg sync.WaitGroup
		for i := range writers {
			id := ds[i].ID
			wg.Go(func() {
				ctx := t.Context()
				for n := 1; n <= attempts; n++ {
					if err := s.RecordAttempt(ctx, newAttempt(id, n), store.DeliveryRetrying, t0); err != nil {
						errs <- fmt.Errorf("%s attempt %d: %w", id, n, err)
					}
					// Readers run beside the writers, as the API does.
					if _, err := s.GetDelivery(ctx, id); err != nil {
						errs <- fmt.Errorf("%s read: %w", id, err)
					}
				}
				if err := s.SetDeliveryStatus(ctx, id, store.DeliveryFailed, time.Time{}); err != nil {
					errs <- fmt.Errorf("%s status: %w", id, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		var all []string
		for err := range errs {
			all = append(all, err.Error())
		}
		require.Empty(t, all, "concurrent writers failed:\n%s", strings.Join(all, "\n"))

		for _, d := range ds {
			got, err := s.GetDelivery(t.Context(), d.ID)
			require.NoError(t, err)
			require.Equal(t, attempts, got.Attempts)
			require.Equal(t, store.DeliveryFailed, got.Status)
			log, err := s.ListAttempts(t.Context(), d.ID)
			require.NoError(t, err)
			require.Equal(t, []int{1, 2, 3, 4, 5}, attemptNumbers(log))
		}
	})

	t.Run("SameEventCreatedOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const callers = 10
		type result struct {
			created bool
			err     error
		}
		results := make(chan result, callers)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				_, created, err := s.CreateEvent(t.Context(), newEvent("evt_race", "h"))
				results <- result{created, err}
			})
		}
		wg.Wait()
		close(results)
		createdCount := 0
		for r := range results {
			require.NoError(t, r.err)
			if r.created {
				createdCount++
			}
		}
		require.Equal(t, 1, createdCount, "exactly one caller creates the event")
	})

	t.Run("SubscriptionWritersAndMatchers", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const writers = 10
		errs := make(chan error, writers*2)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				ctx := t.Context()
				sub := newSubscription(fmt.Sprintf("sub_%02d", i), "order.*")
				if err := s.CreateSubscription(ctx, sub); err != nil {
					errs <- err
					return
				}
				sub.EventTypes = []string{"order.created", "invoice.paid"}
				if err := s.UpdateSubscription(ctx, sub); err != nil {
					errs <- err
				}
				if _, err := s.MatchSubscriptions(ctx, "order.created", "", 100); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, matchAll(t, s, "invoice.paid", 3), writers)
	})
}
