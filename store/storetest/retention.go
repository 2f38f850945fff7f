package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseRetention(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("PurgesFinishedKeepsTheRest", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		// RecordAttempt stamps updated_at with the wall clock, so the cutoff
		// lies ahead of it; old events are from t0, months before.
		cutoff := time.Now().Add(time.Hour)
		type dlv struct {
			sub, status string
			updated     time.Time // zero: recorded with an attempt, now
		}
		add := func(id string, created time.Time, dispatched bool, deliveries ...dlv) {
			t.Helper()
			e := newEvent(id, "h")
			e.CreatedAt = created
			_, _, err := s.CreateEvent(ctx, e)
			require.NoError(t, err)
			if dispatched {
				require.NoError(t, s.MarkEventDispatched(ctx, store.DefaultApplication, id))
			}
			for _, x := range deliveries {
				d := newDelivery("dlv_"+id+"_"+x.sub, id, x.sub)
				d.CreatedAt, d.Status, d.UpdatedAt = created, x.status, x.updated
				require.NoError(t, s.AddDeliveries(ctx, []store.Delivery{d}))
				if x.updated.IsZero() {
					require.NoError(t, s.RecordAttempt(ctx, newAttempt(d.ID, 1), x.status, time.Time{}))
				}
			}
		}
		add("evt_done", t0, true, dlv{sub: "sub_1", status: store.DeliverySucceeded}, dlv{sub: "sub_2", status: store.DeliveryFailed})
		add("evt_nobody", t0, true)
		add("evt_cancelled", t0.Add(time.Second), false)
		require.NoError(t, s.MarkEventCancelled(ctx, store.DefaultApplication, "evt_cancelled"))
		add("evt_retrying", t0, true, dlv{sub: "sub_1", status: store.DeliverySucceeded}, dlv{sub: "sub_2", status: store.DeliveryRetrying})
		add("evt_undispatched", t0, false)
		add("evt_recent", cutoff.Add(time.Minute), true, dlv{sub: "sub_1", status: store.DeliverySucceeded, updated: cutoff.Add(time.Minute)})
		add("evt_touched", t0, true, dlv{sub: "sub_1", status: store.DeliverySucceeded, updated: cutoff.Add(time.Minute)})

		p, err := s.PurgeFinished(ctx, cutoff, 2)
		require.NoError(t, err)
		require.Equal(t, 2, p.Events, "a batch is bounded")
		rest, err := s.PurgeFinished(ctx, cutoff, 10)
		require.NoError(t, err)
		require.Equal(t, 1, rest.Events)
		none, err := s.PurgeFinished(ctx, cutoff, 10)
		require.NoError(t, err)
		require.Equal(t, store.Purged{}, none, "nothing unfinished is ever purged")
		require.Equal(t, 2, p.Deliveries+rest.Deliveries)
		require.Equal(t, 2, p.Attempts+rest.Attempts)

		for _, id := range []string{"evt_done", "evt_nobody", "evt_cancelled"} {
			_, err := s.GetEvent(ctx, store.DefaultApplication, id)
			require.ErrorIs(t, err, store.ErrNotFound, id)
		}
		for _, id := range []string{"evt_retrying", "evt_undispatched", "evt_recent", "evt_touched"} {
			_, err := s.GetEvent(ctx, store.DefaultApplication, id)
			require.NoError(t, err, id)
		}
		_, err = s.GetDelivery(ctx, store.DefaultApplication, "dlv_evt_done_sub_1")
		require.ErrorIs(t, err, store.ErrNotFound)
		as, err := s.ListAttempts(ctx, "dlv_evt_done_sub_1")
		require.NoError(t, err)
		require.Empty(t, as)
		ds, err := s.ListDeliveries(ctx, store.DefaultApplication, "evt_retrying")
		require.NoError(t, err)
		require.Len(t, ds, 2, "a finished delivery of an unfinished event stays")
		as, err = s.ListAttempts(ctx, "dlv_evt_retrying_sub_1")
		require.NoError(t, err)
		require.Len(t, as, 1)
	})
}
