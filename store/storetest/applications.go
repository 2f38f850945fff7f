package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func newApplication(id string) store.Application {
	return store.Application{ID: id, Name: "App " + id, Metadata: map[string]string{"plan": "pro"}, CreatedAt: t0, UpdatedAt: t0}
}

// inApp puts sub into app, its URL and secret unchanged.
func inApp(sub store.Subscription, app string) store.Subscription {
	sub.ApplicationID = app
	return sub
}

func exerciseApplications(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("ReservedExistAndCannotBeDeleted", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, id := range []string{store.DefaultApplication, store.OperationalApplication} {
			a, err := s.GetApplication(t.Context(), id)
			require.NoError(t, err, id)
			require.Equal(t, id, a.ID)
			require.ErrorIs(t, s.DeleteApplication(t.Context(), id), store.ErrReserved, id)
			_, err = s.GetApplication(t.Context(), id)
			require.NoError(t, err, "%s is still there", id)
		}
	})

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		a := newApplication("acme")
		require.NoError(t, s.CreateApplication(t.Context(), a))
		require.ErrorIs(t, s.CreateApplication(t.Context(), newApplication("acme")), store.ErrConflict)

		got, err := s.GetApplication(t.Context(), "acme")
		require.NoError(t, err)
		want := a
		want.CreatedAt, want.UpdatedAt = stored(t0), stored(t0)
		require.Equal(t, want, got)

		got.Name, got.Metadata, got.UpdatedAt = "Acme Inc.", map[string]string{"plan": "free", "region": "eu"}, t0.Add(time.Hour)
		require.NoError(t, s.UpdateApplication(t.Context(), got))
		again, err := s.GetApplication(t.Context(), "acme")
		require.NoError(t, err)
		require.Equal(t, "Acme Inc.", again.Name)
		require.Equal(t, map[string]string{"plan": "free", "region": "eu"}, again.Metadata)
		require.Equal(t, stored(t0), again.CreatedAt, "CreatedAt is kept")
		require.Equal(t, stored(t0.Add(time.Hour)), again.UpdatedAt)

		require.NoError(t, s.DeleteApplication(t.Context(), "acme"))
		_, err = s.GetApplication(t.Context(), "acme")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.DeleteApplication(t.Context(), "acme"), store.ErrNotFound)
		require.ErrorIs(t, s.UpdateApplication(t.Context(), got), store.ErrNotFound)
	})

	t.Run("ListPagesByIdWithCursor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, id := range []string{"b", "a", "c:1", "Z"} {
			require.NoError(t, s.CreateApplication(t.Context(), newApplication(id)))
		}
		var all []string
		after := ""
		for page := 0; ; page++ {
			require.Less(t, page, 100, "pagination does not end")
			got, err := s.ListApplications(t.Context(), store.ListApplicationsParams{After: after, Limit: 2})
			require.NoError(t, err)
			require.LessOrEqual(t, len(got), 2)
			if len(got) == 0 {
				break
			}
			for _, a := range got {
				all = append(all, a.ID)
			}
			after = got[len(got)-1].ID
		}
		// Byte order: upper case before "_", "_" before lower case.
		require.Equal(t, []string{"Z", "_operational", "a", "b", "c:1", "default"}, all)
	})

	t.Run("SubscriptionNeedsItsApplication", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		err := s.CreateSubscription(t.Context(), inApp(newSubscription("sub_1", "*"), "nowhere"))
		require.ErrorIs(t, err, store.ErrApplicationNotFound)
		_, err = s.GetSubscription(t.Context(), "nowhere", "sub_1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("SameEventIDInTwoApplicationsIsTwoRows", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateApplication(t.Context(), newApplication("acme")))
		inDefault := newEvent("evt_same", "h-default")
		inAcme := newEvent("evt_same", "h-acme")
		inAcme.ApplicationID, inAcme.WorkflowID = "acme", "event:acme/evt_same"
		inAcme.Payload = []byte(`{"for":"acme"}`)
		_, created, err := s.CreateEvent(t.Context(), inDefault)
		require.NoError(t, err)
		require.True(t, created)
		_, created, err = s.CreateEvent(t.Context(), inAcme)
		require.NoError(t, err)
		require.True(t, created, "another body under the same id is no conflict in another application")

		require.NoError(t, s.SetEventRun(t.Context(), "acme", "evt_same", "run-acme"))
		require.NoError(t, s.MarkEventDispatched(t.Context(), "acme", "evt_same"))
		d, err := s.GetEvent(t.Context(), store.DefaultApplication, "evt_same")
		require.NoError(t, err)
		require.Equal(t, "h-default", d.BodyHash)
		require.Empty(t, d.RunID, "a change to one application's event leaves the other's")
		require.False(t, d.Dispatched)
		a, err := s.GetEvent(t.Context(), "acme", "evt_same")
		require.NoError(t, err)
		require.Equal(t, "acme", a.ApplicationID)
		require.Equal(t, `{"for":"acme"}`, string(a.Payload))
		require.Equal(t, "run-acme", a.RunID)
		_, err = s.GetEvent(t.Context(), "other", "evt_same")
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, s.DeleteEvent(t.Context(), "acme", "evt_same"))
		_, err = s.GetEvent(t.Context(), store.DefaultApplication, "evt_same")
		require.NoError(t, err, "deleting one application's event keeps the other's")
	})

	t.Run("ListingAndMatchingStayInTheApplication", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateApplication(t.Context(), newApplication("acme")))
		require.NoError(t, s.CreateApplication(t.Context(), newApplication("globex")))
		createSubscriptions(t, s,
			newSubscription("sub_d1", "order.created"),
			inApp(newSubscription("sub_a1", "order.created"), "acme"),
			inApp(newSubscription("sub_a2", "order.*"), "acme"),
			inApp(newSubscription("sub_a3", "invoice.paid"), "acme"),
			inApp(newSubscription("sub_g1", "*"), "globex"),
		)
		list := func(app, eventType string) []string {
			got, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: app, EventType: eventType})
			require.NoError(t, err)
			return ids(got)
		}
		require.Equal(t, []string{"sub_a1", "sub_a2", "sub_a3"}, list("acme", ""))
		require.Equal(t, []string{"sub_d1"}, list(store.DefaultApplication, ""))
		require.Equal(t, []string{"sub_g1"}, list("globex", ""))
		require.Empty(t, list(store.OperationalApplication, ""))
		require.Equal(t, []string{"sub_a1", "sub_a2"}, list("acme", "order.created"))

		match := func(app string) []string {
			got, err := s.MatchSubscriptions(t.Context(), app, "order.created", "", 0)
			require.NoError(t, err)
			for _, sub := range got {
				require.Equal(t, app, sub.ApplicationID)
			}
			return ids(got)
		}
		require.Equal(t, []string{"sub_d1"}, match(store.DefaultApplication))
		require.Equal(t, []string{"sub_a1", "sub_a2"}, match("acme"))
		require.Equal(t, []string{"sub_g1"}, match("globex"))
		require.Empty(t, match(store.OperationalApplication))

		// A subscription is reached only through its own application.
		_, err := s.GetSubscription(t.Context(), "globex", "sub_a1")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = s.ModifySubscription(t.Context(), "globex", "sub_a1", func(*store.Subscription) error { return nil })
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, s.DeleteSubscription(t.Context(), "globex", "sub_a1"), store.ErrNotFound)
		moved := inApp(newSubscription("sub_a1", "order.created"), "globex")
		require.ErrorIs(t, s.UpdateSubscription(t.Context(), moved), store.ErrNotFound)
		got, err := s.GetSubscription(t.Context(), "acme", "sub_a1")
		require.NoError(t, err)
		require.Equal(t, "acme", got.ApplicationID)
	})

	t.Run("DeleteRemovesSubscriptionsKeepsDeliveries", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateApplication(t.Context(), newApplication("acme")))
		createSubscriptions(t, s,
			newSubscription("sub_d1", "*"),
			inApp(newSubscription("sub_a1", "*"), "acme"),
			inApp(newSubscription("sub_a2", "*"), "acme"),
		)
		ev := newEvent("evt_1", "h")
		ev.ApplicationID = "acme"
		_, _, err := s.CreateEvent(t.Context(), ev)
		require.NoError(t, err)
		var ds []store.Delivery
		for i, st := range []string{store.DeliveryPending, store.DeliveryRetrying, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled, store.DeliveryDelivering} {
			d := newDelivery("evt_1:sub_a"+string(rune('0'+i)), "evt_1", "sub_a1")
			d.ApplicationID, d.Status = "acme", st
			ds = append(ds, d)
		}
		other := newDelivery("evt_1:sub_d1", "evt_1", "sub_d1")
		require.NoError(t, s.AddDeliveries(t.Context(), append(ds, other)))

		require.NoError(t, s.DeleteApplication(t.Context(), "acme"))
		got, err := s.ListSubscriptions(t.Context(), store.ListSubscriptionsParams{ApplicationID: "acme"})
		require.NoError(t, err)
		require.Empty(t, got)
		matched, err := s.MatchSubscriptions(t.Context(), "acme", "order.created", "", 0)
		require.NoError(t, err)
		require.Empty(t, matched, "nothing is matched in a deleted application")
		_, err = s.GetSubscription(t.Context(), store.DefaultApplication, "sub_d1")
		require.NoError(t, err, "other applications keep theirs")

		var unfinished []string
		after := ""
		for {
			page, err := s.ListUnfinishedDeliveries(t.Context(), "acme", after, 2)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, d := range page {
				unfinished = append(unfinished, d.ID)
			}
			after = page[len(page)-1].ID
		}
		require.Equal(t, []string{"evt_1:sub_a0", "evt_1:sub_a1", "evt_1:sub_a5"}, unfinished)
		_, err = s.GetDelivery(t.Context(), store.DefaultApplication, "evt_1:sub_a0")
		require.ErrorIs(t, err, store.ErrNotFound, "a delivery is read under its own application only")
		d, err := s.GetDelivery(t.Context(), "acme", "evt_1:sub_a0")
		require.NoError(t, err)
		require.Equal(t, "acme", d.ApplicationID)
		listed, err := s.ListDeliveries(t.Context(), store.DefaultApplication, "evt_1")
		require.NoError(t, err)
		require.Len(t, listed, 1, "an event's deliveries are listed within its application")
	})
}
