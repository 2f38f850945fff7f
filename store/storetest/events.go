package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func newEvent(id, hash string) store.Event {
	return store.Event{ApplicationID: store.DefaultApplication,
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
		e.TargetSubscriptionID = "sub_target" // a test event's one subscription
		got, created, err := s.CreateEvent(t.Context(), e)
		require.NoError(t, err)
		require.True(t, created)

		read, err := s.GetEvent(t.Context(), store.DefaultApplication, e.ID)
		require.NoError(t, err)
		want := e
		want.CreatedAt = stored(e.CreatedAt)
		require.Equal(t, want, read)
		require.Equal(t, read, got, "CreateEvent returns the event as stored")
	})

	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_, err := s.GetEvent(t.Context(), store.DefaultApplication, "evt_missing")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("SameHashReturnsExisting", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		first := newEvent("evt_idem", "same")
		_, created, err := s.CreateEvent(t.Context(), first)
		require.NoError(t, err)
		require.True(t, created)
		require.NoError(t, s.SetEventRun(t.Context(), store.DefaultApplication, first.ID, "run-first"))

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

		got, err := s.GetEvent(t.Context(), store.DefaultApplication, first.ID)
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

		require.NoError(t, s.SetEventRun(t.Context(), store.DefaultApplication, e.ID, "run-a"))
		require.NoError(t, s.SetEventRun(t.Context(), store.DefaultApplication, e.ID, "run-b"))
		got, err := s.GetEvent(t.Context(), store.DefaultApplication, e.ID)
		require.NoError(t, err)
		require.Equal(t, "run-b", got.RunID)
		require.False(t, got.Dispatched)

		require.NoError(t, s.MarkEventDispatched(t.Context(), store.DefaultApplication, e.ID))
		require.NoError(t, s.MarkEventDispatched(t.Context(), store.DefaultApplication, e.ID), "marking twice is fine")
		got, err = s.GetEvent(t.Context(), store.DefaultApplication, e.ID)
		require.NoError(t, err)
		require.True(t, got.Dispatched)
		require.Equal(t, "run-b", got.RunID)

		require.ErrorIs(t, s.SetEventRun(t.Context(), store.DefaultApplication, "evt_missing", "run"), store.ErrNotFound)
		require.ErrorIs(t, s.MarkEventDispatched(t.Context(), store.DefaultApplication, "evt_missing"), store.ErrNotFound)
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

		require.NoError(t, s.DeleteEvent(t.Context(), store.DefaultApplication, e.ID))
		_, err = s.GetEvent(t.Context(), store.DefaultApplication, e.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_del")
		require.ErrorIs(t, err, store.ErrNotFound)
		attempts, err := s.ListAttempts(t.Context(), "dlv_del")
		require.NoError(t, err)
		require.Empty(t, attempts)
		require.ErrorIs(t, s.DeleteEvent(t.Context(), store.DefaultApplication, e.ID), store.ErrNotFound)

		// Another event keeps its deliveries and attempts.
		_, err = s.GetDelivery(t.Context(), store.DefaultApplication, "dlv_keep")
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
