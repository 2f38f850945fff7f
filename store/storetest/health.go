package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

// exerciseHealth checks the shared record of a subscription's failures
// that decides when Hookflow disables it, whichever worker failed.
func exerciseHealth(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("FailingSinceTheFirstFailureUntilASuccess", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_h", "a.*"))
		since, err := s.MarkFailing(t.Context(), store.DefaultApplication, "sub_h", t0)
		require.NoError(t, err)
		require.Equal(t, stored(t0), since)
		since, err = s.MarkFailing(t.Context(), store.DefaultApplication, "sub_h", t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, stored(t0), since, "a later failure keeps the start of the run")
		require.NoError(t, s.MarkHealthy(t.Context(), store.DefaultApplication, "sub_h"))
		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_h")
		require.NoError(t, err)
		require.True(t, got.FailingSince.IsZero())
		since, err = s.MarkFailing(t.Context(), store.DefaultApplication, "sub_h", t0.Add(2*time.Hour))
		require.NoError(t, err)
		require.Equal(t, stored(t0.Add(2*time.Hour)), since, "a new run starts after a success")
		_, err = s.MarkFailing(t.Context(), "acme", "sub_h", t0)
		require.ErrorIs(t, err, store.ErrNotFound, "another application's subscription")
	})

	t.Run("DisableOnceAndOnlyIfStillFailing", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_d", "a.*"), newSubscription("sub_ok", "a.*"))
		_, err := s.MarkFailing(t.Context(), store.DefaultApplication, "sub_d", t0)
		require.NoError(t, err)

		// Failing since t0; a disable that needs failing since before t0 waits.
		_, changed, err := s.DisableSubscription(t.Context(), store.DefaultApplication, "sub_d", "failing", t0.Add(-time.Second), t0.Add(time.Hour))
		require.NoError(t, err)
		require.False(t, changed)
		sub, changed, err := s.DisableSubscription(t.Context(), store.DefaultApplication, "sub_d", "failing for 1h", t0, t0.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, changed)
		require.Equal(t, store.SubscriptionDisabled, sub.Status)
		require.Equal(t, "failing for 1h", sub.DisabledReason)
		require.Equal(t, stored(t0), sub.FailingSince)
		require.Equal(t, stored(t0.Add(time.Hour)), sub.UpdatedAt)
		_, changed, err = s.DisableSubscription(t.Context(), store.DefaultApplication, "sub_d", "again", t0, t0.Add(2*time.Hour))
		require.NoError(t, err)
		require.False(t, changed, "disabled once: a second worker publishes nothing")
		require.Equal(t, []string{"sub_ok"}, matchAll(t, s, "a.b", 10), "a disabled subscription receives no new events")

		// A success since the failure wins over a disable that read it.
		_, err = s.MarkFailing(t.Context(), store.DefaultApplication, "sub_ok", t0)
		require.NoError(t, err)
		require.NoError(t, s.MarkHealthy(t.Context(), store.DefaultApplication, "sub_ok"))
		_, changed, err = s.DisableSubscription(t.Context(), store.DefaultApplication, "sub_ok", "failing", t0, t0.Add(time.Hour))
		require.NoError(t, err)
		require.False(t, changed)

		// A 410 disables at once, failing from then.
		sub, changed, err = s.DisableSubscription(t.Context(), store.DefaultApplication, "sub_ok", "HTTP 410 Gone", time.Time{}, t0.Add(3*time.Hour))
		require.NoError(t, err)
		require.True(t, changed)
		require.Equal(t, stored(t0.Add(3*time.Hour)), sub.FailingSince)

		held, disabled, err := s.HealthStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, 0, held)
		require.Equal(t, 2, disabled)

		// Re-enabled by a write of the whole subscription.
		sub.Status, sub.DisabledReason, sub.FailingSince = store.SubscriptionActive, "", time.Time{}
		require.NoError(t, s.UpdateSubscription(t.Context(), sub))
		require.Equal(t, []string{"sub_ok"}, matchAll(t, s, "a.b", 10))
		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, "sub_ok")
		require.NoError(t, err)
		require.Empty(t, got.DisabledReason)
		require.True(t, got.FailingSince.IsZero())
	})

	t.Run("HeldDeliveriesBySubscription", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_p", "a.*"), newSubscription("sub_q", "a.*"))
		var ds []store.Delivery
		for _, id := range []string{"d1", "d2", "d3"} {
			ds = append(ds, store.Delivery{ID: id + ":sub_p", ApplicationID: store.DefaultApplication, EventID: id, SubscriptionID: "sub_p",
				URL: "https://example.test", WorkflowID: "wf-" + id, UpdatedAt: t0})
		}
		ds = append(ds, store.Delivery{ID: "d1:sub_q", ApplicationID: store.DefaultApplication, EventID: "d1", SubscriptionID: "sub_q",
			URL: "https://example.test", WorkflowID: "wf-q", UpdatedAt: t0})
		require.NoError(t, s.AddDeliveries(t.Context(), ds))
		for _, id := range []string{"d1:sub_p", "d3:sub_p", "d1:sub_q"} {
			require.NoError(t, s.SetDeliveryStatus(t.Context(), id, store.DeliveryHeld, t0.Add(time.Hour)))
		}
		page, err := s.ListSubscriptionDeliveries(t.Context(), store.DefaultApplication, "sub_p", store.DeliveryHeld, "", 1)
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, "d1:sub_p", page[0].ID)
		page, err = s.ListSubscriptionDeliveries(t.Context(), store.DefaultApplication, "sub_p", store.DeliveryHeld, page[0].ID, 10)
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, "d3:sub_p", page[0].ID)
		page, err = s.ListSubscriptionDeliveries(t.Context(), "acme", "sub_p", store.DeliveryHeld, "", 10)
		require.NoError(t, err)
		require.Empty(t, page)
		held, _, err := s.HealthStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, 3, held)
	})
}
