package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func newDelivery(id, eventID, subscriptionID string) store.Delivery {
	return store.Delivery{ApplicationID: store.DefaultApplication,
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

		got, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_a")
		require.NoError(t, err)
		want := ds[1]
		want.UpdatedAt = stored(want.UpdatedAt)
		want.CreatedAt = want.UpdatedAt // added without one: created when added
		require.Equal(t, want, got)
		require.Zero(t, got.Attempts)
		require.True(t, got.NextAttemptAt.IsZero())

		list, err := s.ListDeliveries(t.Context(), store.DefaultApplication, "evt_1")
		require.NoError(t, err)
		require.Equal(t, []string{"dlv_a", "dlv_b"}, deliveryIDs(list), "ordered by id")
		require.Equal(t, "sub_b", list[1].SubscriptionID)

		list, err = s.ListDeliveries(t.Context(), store.DefaultApplication, "evt_none")
		require.NoError(t, err)
		require.Empty(t, list)

		_, err = s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_missing")
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

		got, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_1")
		require.NoError(t, err)
		require.Equal(t, first.URL, got.URL)
		require.Equal(t, store.DeliveryRetrying, got.Status, "progress is not reset")
		require.Equal(t, 1, got.Attempts)

		list, err := s.ListDeliveries(t.Context(), store.DefaultApplication, "evt_1")
		require.NoError(t, err)
		require.Equal(t, []string{"dlv_1", "dlv_2"}, deliveryIDs(list))
	})

	t.Run("AddWithoutStatusIsPending", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		d := newDelivery("dlv_nostatus", "evt_1", "sub_1")
		d.Status = ""
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{d}))
		got, err := s.GetDelivery(t.Context(), store.DefaultApplication, d.ID)
		require.NoError(t, err)
		require.Equal(t, store.DeliveryPending, got.Status)
	})

	t.Run("SetDeliveryStatus", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_s", "evt_1", "sub_1")}))

		next := t0.Add(90 * time.Second)
		require.NoError(t, s.SetDeliveryStatus(t.Context(), "dlv_s", store.DeliveryRetrying, next))
		got, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_s")
		require.NoError(t, err)
		require.Equal(t, store.DeliveryRetrying, got.Status)
		require.Equal(t, stored(next), got.NextAttemptAt)
		require.True(t, got.UpdatedAt.After(stored(t0)), "the change is stamped")

		require.NoError(t, s.SetDeliveryStatus(t.Context(), "dlv_s", store.DeliveryCancelled, time.Time{}))
		got, err = s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_s")
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
		d, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_1")
		require.NoError(t, err)
		require.Equal(t, store.DeliveryRetrying, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, stored(next), d.NextAttemptAt)

		second := store.Attempt{DeliveryID: "dlv_1", Attempt: 2, StartedAt: t0.Add(6 * time.Second), DurationMs: 42, StatusCode: 204}
		require.NoError(t, s.RecordAttempt(t.Context(), second, store.DeliverySucceeded, time.Time{}))
		d, err = s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_1")
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
		d, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_1")
		require.NoError(t, err)
		require.Equal(t, 1, d.Attempts)
	})

	t.Run("LateOlderAttemptDoesNotMoveStatusBack", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{newDelivery("dlv_1", "evt_1", "sub_1")}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 3), store.DeliverySucceeded, time.Time{}))
		require.NoError(t, s.RecordAttempt(t.Context(), newAttempt("dlv_1", 2), store.DeliveryRetrying, t0.Add(time.Hour)))

		d, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_1")
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

		d, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_1")
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
		d, err := s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_long")
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
