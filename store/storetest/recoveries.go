package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseRecoveries(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("OneRunningPerWorkflow", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		r := store.Recovery{ID: "rcv_1", ApplicationID: store.DefaultApplication, SubscriptionID: "sub_a", WorkflowID: "recover:w",
			Since: t0, Until: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
		got, created, err := s.CreateRecovery(t.Context(), r)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, store.RecoveryRunning, got.Status)
		require.Equal(t, stored(t0), got.Since)

		second := r
		second.ID = "rcv_2"
		got, created, err = s.CreateRecovery(t.Context(), second)
		require.NoError(t, err)
		require.False(t, created, "a recovery of the same window runs already")
		require.Equal(t, "rcv_1", got.ID)

		require.NoError(t, s.UpdateRecovery(t.Context(), "rcv_1", store.RecoveryRunning, 5, 2))
		require.NoError(t, s.UpdateRecovery(t.Context(), "rcv_1", store.RecoveryCompleted, 5, 5))
		require.NoError(t, s.UpdateRecovery(t.Context(), "rcv_1", store.RecoveryRunning, 9, 9))
		got, err = s.GetRecovery(t.Context(), store.DefaultApplication, "rcv_1")
		require.NoError(t, err)
		require.Equal(t, store.RecoveryCompleted, got.Status, "a finished recovery stays finished")
		require.Equal(t, 5, got.Matched)
		require.Equal(t, 5, got.Resent)
		_, err = s.GetRecovery(t.Context(), "other", "rcv_1")
		require.ErrorIs(t, err, store.ErrNotFound)

		got, created, err = s.CreateRecovery(t.Context(), second)
		require.NoError(t, err)
		require.True(t, created, "once the first finished, the window may be recovered again")
		require.Equal(t, "rcv_2", got.ID)
		require.ErrorIs(t, s.UpdateRecovery(t.Context(), "rcv_none", store.RecoveryCompleted, 0, 0), store.ErrNotFound)
	})

	t.Run("ResendableAndUndelivered", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		ctx := t.Context()
		// Five events a minute apart; e4 is outside the window, e5 is not
		// dispatched yet (its fan-out is still to come).
		for i, id := range []string{"e1", "e2", "e3", "e4", "e5"} {
			e := newEvent(id, "h")
			e.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			if id == "e4" {
				e.CreatedAt = t0.Add(time.Hour)
			}
			_, _, err := s.CreateEvent(ctx, e)
			require.NoError(t, err)
			if id != "e5" {
				require.NoError(t, s.MarkEventDispatched(ctx, store.DefaultApplication, id))
			}
		}
		failed := func(id, eventID, sub string) store.Delivery {
			d := newDelivery(id, eventID, sub)
			d.Status = store.DeliveryFailed
			return d
		}
		ok := newDelivery("e2:sub_a", "e2", "sub_a")
		ok.Status = store.DeliverySucceeded
		require.NoError(t, s.AddDeliveries(ctx, []store.Delivery{
			failed("e1:sub_a", "e1", "sub_a"), ok, failed("e3:sub_a", "e3", "sub_a"),
			failed("e4:sub_a", "e4", "sub_a"), failed("e1:sub_b", "e1", "sub_b"),
		}))
		p := store.RecoverParams{ApplicationID: store.DefaultApplication, SubscriptionID: "sub_a", Since: t0, Until: t0.Add(30 * time.Minute), Limit: 1}
		page, err := s.ListResendable(ctx, p)
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.Equal(t, "e1:sub_a", page[0].Delivery.ID)
		require.Equal(t, "order.created", page[0].EventType)
		p.AfterID, p.Limit = page[0].Delivery.ID, 10
		page, err = s.ListResendable(ctx, p)
		require.NoError(t, err)
		require.Len(t, page, 1, "succeeded, out of the window and other subscriptions' deliveries are left out")
		require.Equal(t, "e3:sub_a", page[0].Delivery.ID)

		// Resending e1 supersedes its failed delivery.
		rs := newDelivery("e1:sub_a.rs_1", "e1", "sub_a")
		rs.ResentFrom = "e1:sub_a"
		require.NoError(t, s.AddResends(ctx, []store.Delivery{rs}))
		require.NoError(t, s.AddResends(ctx, []store.Delivery{rs}), "adding a resend again changes nothing")
		got, err := s.GetDelivery(ctx, store.DefaultApplication, "e1:sub_a")
		require.NoError(t, err)
		require.Equal(t, "e1:sub_a.rs_1", got.SupersededBy)
		got, err = s.GetDelivery(ctx, store.DefaultApplication, "e1:sub_a.rs_1")
		require.NoError(t, err)
		require.Equal(t, "e1:sub_a", got.ResentFrom)
		require.Equal(t, store.DeliveryPending, got.Status)
		p.AfterID = ""
		page, err = s.ListResendable(ctx, p)
		require.NoError(t, err)
		require.Len(t, page, 2, "a superseded delivery is still listed, so that a page read again is the same page")
		require.Equal(t, "e1:sub_a", page[0].Delivery.ID)
		require.Equal(t, "e1:sub_a.rs_1", page[0].Delivery.SupersededBy)
		// The resend fails too: it is listed as well, superseded by nothing.
		require.NoError(t, s.SetDeliveryStatus(ctx, "e1:sub_a.rs_1", store.DeliveryFailed, time.Time{}))
		page, err = s.ListResendable(ctx, p)
		require.NoError(t, err)
		require.Len(t, page, 3)
		require.Equal(t, "e1:sub_a.rs_1", page[1].Delivery.ID)
		require.Empty(t, page[1].Delivery.SupersededBy)

		// sub_b has a delivery of e1 only: e2 and e3 never reached it, e4 is
		// outside the window and e5 not dispatched.
		u := store.RecoverParams{ApplicationID: store.DefaultApplication, SubscriptionID: "sub_b", Since: t0, Until: t0.Add(30 * time.Minute), Limit: 1}
		evs, err := s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, "e2", evs[0].ID)
		require.Empty(t, evs[0].Payload)
		u.AfterTime, u.AfterID, u.Limit = evs[0].CreatedAt, evs[0].ID, 10
		evs, err = s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, "e3", evs[0].ID)
		require.Equal(t, stored(t0.Add(2*time.Minute)), evs[0].CreatedAt)

		// A cancelled event is not delivered by a recovery, nor one whose
		// deliveries were cancelled (an event cancelled mid-fan-out).
		require.NoError(t, s.MarkEventCancelled(ctx, store.DefaultApplication, "e3"))
		evs, err = s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Empty(t, evs)
		c := newDelivery("e2:sub_c", "e2", "sub_c")
		c.Status = store.DeliveryCancelled
		require.NoError(t, s.AddDeliveries(ctx, []store.Delivery{c}))
		u.AfterTime, u.AfterID = time.Time{}, ""
		evs, err = s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Empty(t, evs, "e2 had a delivery cancelled, e3 is cancelled")
		_, _, err = s.CreateEvent(ctx, func() store.Event { e := newEvent("e6", "h"); e.CreatedAt = t0.Add(5 * time.Minute); return e }())
		require.NoError(t, err)
		require.NoError(t, s.MarkEventDispatched(ctx, store.DefaultApplication, "e6"))
		evs, err = s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, "e6", evs[0].ID)
		u.AfterTime, u.AfterID = evs[0].CreatedAt, evs[0].ID

		// A delivery made by a recovery leaves its event in that
		// recovery's pages (read again after a crash), not in another's.
		_, _, err = s.CreateEvent(ctx, func() store.Event { e := newEvent("e7", "h"); e.CreatedAt = t0.Add(6 * time.Minute); return e }())
		require.NoError(t, err)
		require.NoError(t, s.MarkEventDispatched(ctx, store.DefaultApplication, "e7"))
		mine := newDelivery("e7:sub_b", "e7", "sub_b")
		mine.RecoveryID = "rcv_1"
		require.NoError(t, s.AddResends(ctx, []store.Delivery{mine}))
		u.RecoveryID = "rcv_1"
		evs, err = s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		require.Equal(t, "e7", evs[0].ID)
		u.RecoveryID = "rcv_2"
		evs, err = s.ListUndelivered(ctx, u)
		require.NoError(t, err)
		require.Empty(t, evs)
		got, err = s.GetDelivery(ctx, store.DefaultApplication, "e7:sub_b")
		require.NoError(t, err)
		require.Equal(t, "rcv_1", got.RecoveryID)
	})
}
