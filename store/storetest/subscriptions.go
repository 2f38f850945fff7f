package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

// newSubscription is a minimal valid subscription; tests change what they need.
func newSubscription(id string, eventTypes ...string) store.Subscription {
	return store.Subscription{ApplicationID: store.DefaultApplication,
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
		got, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: store.DefaultApplication, EventType: eventType, After: after, Limit: pageSize})
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
		got, err := s.MatchSubscriptions(t.Context(), store.DefaultApplication, eventType, after, pageSize)
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
		sub := store.Subscription{ApplicationID: store.DefaultApplication,
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

		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
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

		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
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
		got2, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub2.ID)
		require.NoError(t, err)
		require.Nil(t, got2.Retry)
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_missing")
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

		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_dup")
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

		page, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: store.DefaultApplication, After: "sub_a", Limit: 2})
		require.NoError(t, err)
		require.Equal(t, []string{"sub_a-c", "sub_ab"}, ids(page))
		require.Equal(t, []string{"order.created"}, page[0].EventTypes, "a page carries each subscription's event types")

		page, err = s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: store.DefaultApplication, After: "sub_c"})
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
			got, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: store.DefaultApplication, Limit: limit})
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

		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
		require.NoError(t, err)
		want := changed
		want.CreatedAt = stored(sub.CreatedAt)
		want.UpdatedAt = stored(changed.UpdatedAt)
		want.PreviousSecretExpiresAt = stored(changed.PreviousSecretExpiresAt)
		require.Equal(t, want, got)

		require.Equal(t, []string{"sub_bystander"}, listAll(t, s, "order.created", 10), "old event types are gone")
		require.Equal(t, []string{"sub_upd"}, listAll(t, s, "invoice.paid", 10))

		other, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_bystander")
		require.NoError(t, err)
		require.Equal(t, []string{"order.created"}, other.EventTypes, "another subscription's types are untouched")
	})

	t.Run("UpdateUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		err := s.UpdateSubscription(t.Context(), newSubscription("sub_missing", "order.created"))
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetSubscription(t.Context(), store.DefaultApplication, "sub_missing")
		require.ErrorIs(t, err, store.ErrNotFound, "an update must not create")
		require.Empty(t, listAll(t, s, "order.created", 10))
	})

	t.Run("DeleteRemovesEverywhere", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_del", "order.*"), newSubscription("sub_keep", "order.*"))
		require.NoError(t, s.DeleteSubscription(t.Context(), store.DefaultApplication, "sub_del"))

		_, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_del")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Equal(t, []string{"sub_keep"}, listAll(t, s, "", 10))
		require.Equal(t, []string{"sub_keep"}, listAll(t, s, "order.created", 10))
		require.Equal(t, []string{"sub_keep"}, matchAll(t, s, "order.created", 10))
		require.ErrorIs(t, s.DeleteSubscription(t.Context(), store.DefaultApplication, "sub_del"), store.ErrNotFound)

		// The id is free again, with nothing of the old subscription left.
		createSubscriptions(t, s, newSubscription("sub_del", "invoice.paid"))
		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_del")
		require.NoError(t, err)
		require.Equal(t, []string{"invoice.paid"}, got.EventTypes)
	})

	t.Run("SigningSecretsFollowRotation", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_rot", "order.created")
		createSubscriptions(t, s, sub)

		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
		require.NoError(t, err)
		require.Equal(t, []string{sub.Secret}, got.SigningSecrets(t0))

		rotatedAt := t0.Add(time.Hour)
		expires := rotatedAt.Add(24 * time.Hour)
		got.PreviousSecret, got.Secret = got.Secret, "whsec_bmV4dA=="
		got.PreviousSecretExpiresAt = expires
		got.UpdatedAt = rotatedAt
		require.NoError(t, s.UpdateSubscription(t.Context(), got))

		rotated, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"whsec_bmV4dA==", sub.Secret}, rotated.SigningSecrets(rotatedAt))
		require.Equal(t, []string{"whsec_bmV4dA==", sub.Secret}, rotated.SigningSecrets(expires.Add(-time.Microsecond)))
		require.Equal(t, []string{"whsec_bmV4dA=="}, rotated.SigningSecrets(expires), "the old secret ends at its expiry")
		require.Equal(t, []string{"whsec_bmV4dA=="}, rotated.SigningSecrets(expires.Add(time.Hour)))
	})
}

func exerciseMatch(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("ReceivingExactAndWildcard", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		disabled := newSubscription("sub_disabled", "*")
		disabled.Status = store.SubscriptionDisabled
		paused := newSubscription("sub_paused", "order.*")
		paused.Status = store.SubscriptionPaused
		createSubscriptions(t, s,
			newSubscription("sub_exact", "order.created"),
			newSubscription("sub_prefix", "order.*"),
			newSubscription("sub_all", "*"),
			newSubscription("sub_other", "order.updated"),
			newSubscription("sub_orders", "orders.*"),
			newSubscription("sub_two", "invoice.paid", "order.created", "order.*"),
			disabled, paused,
		)
		// A paused subscription receives (its deliveries are held), a
		// disabled one does not.
		cases := map[string][]string{
			"order.created":      {"sub_all", "sub_exact", "sub_paused", "sub_prefix", "sub_two"},
			"order.updated":      {"sub_all", "sub_other", "sub_paused", "sub_prefix", "sub_two"},
			"order.line.shipped": {"sub_all", "sub_paused", "sub_prefix", "sub_two"},
			// "order.*" means "order." and more: not "order" itself.
			"order":          {"sub_all"},
			"orders.created": {"sub_all", "sub_orders"},
			"invoice.paid":   {"sub_all", "sub_two"},
		}
		for eventType, want := range cases {
			got, err := s.MatchSubscriptions(t.Context(), store.DefaultApplication, eventType, "", 100)
			require.NoError(t, err)
			require.Equal(t, want, ids(got), "event type %q", eventType)
			for _, sub := range got {
				require.NotEqual(t, store.SubscriptionDisabled, sub.Status)
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
				sub.Status = store.SubscriptionDisabled
				createSubscriptions(t, s, sub)
				continue
			}
			want = append(want, id)
		}
		for _, size := range []int{1, 4, 15, 100} {
			require.Equal(t, want, matchAll(t, s, "user.signed_up", size), "page size %d", size)
		}
		got, err := s.MatchSubscriptions(t.Context(), store.DefaultApplication, "user.signed_up", "sub_10", 2)
		require.NoError(t, err)
		require.Equal(t, []string{"sub_11", "sub_12"}, ids(got))
	})

	t.Run("DisabledDoNotShortenPages", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Callers stop paging at a short page: disabled subscriptions
		// before an active one must not take the page's places.
		created := newSubscription("sub_a", "order.created")
		created.Status = store.SubscriptionDisabled
		updated := newSubscription("sub_b", "order.created")
		createSubscriptions(t, s, created, updated, newSubscription("sub_c", "order.created"))
		_, changed, err := s.DisableSubscription(t.Context(), store.DefaultApplication, updated.ID, "HTTP 410", time.Time{}, t0)
		require.NoError(t, err)
		require.True(t, changed)

		got, err := s.MatchSubscriptions(t.Context(), store.DefaultApplication, "order.created", "", 1)
		require.NoError(t, err)
		require.Equal(t, []string{"sub_c"}, ids(got))
	})

	t.Run("DisabledThenReenabled", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_toggle", "order.created")
		createSubscriptions(t, s, sub)
		sub.Status = store.SubscriptionDisabled
		require.NoError(t, s.UpdateSubscription(t.Context(), sub))
		require.Empty(t, matchAll(t, s, "order.created", 10))
		sub.Status = store.SubscriptionActive
		require.NoError(t, s.UpdateSubscription(t.Context(), sub))
		require.Equal(t, []string{"sub_toggle"}, matchAll(t, s, "order.created", 10))
	})
}

// exerciseModifySubscription checks that concurrent read-modify-writes of
// one subscription (a PATCH and a secret rotation) never undo each other.
func exerciseModifySubscription(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	require.NoError(t, s.CreateSubscription(ctx, store.Subscription{ApplicationID: store.DefaultApplication,
		ID: "sub_1", URL: "http://example.com/a", EventTypes: []string{"a.*"}, Secret: "s0",
		Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
	}))
	// Each modification appends to the description; a lost update
	// would drop a letter.
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ModifySubscription(ctx, store.DefaultApplication, "sub_1", func(sub *store.Subscription) error {
				sub.Description += string(rune('a' + i))
				return nil
			})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	got, err := s.GetSubscription(ctx, store.DefaultApplication, "sub_1")
	require.NoError(t, err)
	require.Len(t, got.Description, n)

	out, err := s.ModifySubscription(ctx, store.DefaultApplication, "sub_1", func(sub *store.Subscription) error {
		sub.EventTypes = []string{"b.created", "c.*"}
		sub.Status = store.SubscriptionPaused
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, store.SubscriptionPaused, out.Status)
	got, err = s.GetSubscription(ctx, store.DefaultApplication, "sub_1")
	require.NoError(t, err)
	require.Equal(t, []string{"b.created", "c.*"}, got.EventTypes)
	require.Equal(t, store.SubscriptionPaused, got.Status)

	boom := errors.New("boom")
	_, err = s.ModifySubscription(ctx, store.DefaultApplication, "sub_1", func(sub *store.Subscription) error {
		sub.URL = "http://changed.example.com"
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = s.GetSubscription(ctx, store.DefaultApplication, "sub_1")
	require.NoError(t, err)
	require.Equal(t, "http://example.com/a", got.URL, "a failed modification changes nothing")

	_, err = s.ModifySubscription(ctx, store.DefaultApplication, "sub_missing", func(*store.Subscription) error { return nil })
	require.ErrorIs(t, err, store.ErrNotFound)
}
