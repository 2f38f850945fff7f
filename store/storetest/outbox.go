package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseOutbox(t *testing.T, newStore func(t *testing.T) store.Store) {
	lease := time.Minute

	t.Run("StoredEventIsPendingUntilItsRunIsSet", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		st, err := s.OutboxStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, store.OutboxStats{}, st, "an empty outbox")

		e := newEvent("evt_out", "h")
		_, _, err = s.CreateEvent(t.Context(), e)
		require.NoError(t, err)
		st, err = s.OutboxStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, store.OutboxStats{Pending: 1, Oldest: stored(t0)}, st)

		now := t0.Add(time.Second)
		got, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 10)
		require.NoError(t, err)
		require.Equal(t, []store.Event{{ApplicationID: store.DefaultApplication, ID: e.ID, Type: e.Type, WorkflowID: e.WorkflowID, CreatedAt: stored(t0)}}, got)

		again, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 10)
		require.NoError(t, err)
		require.Empty(t, again, "a leased event is not claimed again while the lease lasts")
		st, err = s.OutboxStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, st.Pending, "a leased event is still pending")

		later := now.Add(lease)
		again, err = s.ClaimPendingEvents(t.Context(), later, later.Add(lease), 10)
		require.NoError(t, err)
		require.Len(t, again, 1, "once its lease ended (its dispatcher crashed, say) it comes back")

		require.NoError(t, s.SetEventRun(t.Context(), store.DefaultApplication, e.ID, "run-1"))
		muchLater := later.Add(time.Hour)
		again, err = s.ClaimPendingEvents(t.Context(), muchLater, muchLater.Add(lease), 10)
		require.NoError(t, err)
		require.Empty(t, again, "a started event is never claimed")
		st, err = s.OutboxStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, store.OutboxStats{}, st)
	})

	t.Run("EventStoredWithARunIsNotPending", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		e := newEvent("evt_started", "h")
		e.RunID = "run-1"
		_, _, err := s.CreateEvent(t.Context(), e)
		require.NoError(t, err)
		got, err := s.ClaimPendingEvents(t.Context(), t0, t0.Add(lease), 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("OldestFirstAndBounded", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Stored newest first, so that insertion order cannot pass for age.
		for i := 4; i >= 0; i-- {
			e := newEvent(fmt.Sprintf("evt_%d", i), "h")
			e.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
		}
		st, err := s.OutboxStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, store.OutboxStats{Pending: 5, Oldest: stored(t0)}, st)

		now := t0.Add(time.Minute)
		first, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 2)
		require.NoError(t, err)
		require.Equal(t, []string{"evt_0", "evt_1"}, eventIDs(first))
		rest, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"evt_2", "evt_3", "evt_4"}, eventIDs(rest))
		none, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 0)
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("ReleasedEventIsClaimedAgainAtOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, id := range []string{"evt_a", "evt_b"} {
			_, _, err := s.CreateEvent(t.Context(), newEvent(id, "h"))
			require.NoError(t, err)
		}
		now := t0
		got, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 10)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.NoError(t, s.SetEventRun(t.Context(), store.DefaultApplication, "evt_b", "run-b"))
		require.NoError(t, s.ReleaseEvents(t.Context(), []store.EventKey{key("evt_a"), key("evt_b"), key("evt_missing")}))
		require.NoError(t, s.ReleaseEvents(t.Context(), nil))

		got, err = s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"evt_a"}, eventIDs(got), "released, it is claimable before its lease would end; a started one stays out")
	})

	t.Run("RecordEventRunsTakesThemOut", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, id := range []string{"evt_a", "evt_b", "evt_c"} {
			_, _, err := s.CreateEvent(t.Context(), newEvent(id, "h"))
			require.NoError(t, err)
		}
		require.NoError(t, s.RecordEventRuns(t.Context(), map[store.EventKey]string{key("evt_a"): "run-a", key("evt_c"): "run-c", key("evt_missing"): "run-x"}))
		require.NoError(t, s.RecordEventRuns(t.Context(), nil))
		for id, want := range map[string]string{"evt_a": "run-a", "evt_b": "", "evt_c": "run-c"} {
			got, err := s.GetEvent(t.Context(), store.DefaultApplication, id)
			require.NoError(t, err)
			require.Equal(t, want, got.RunID, id)
		}
		st, err := s.OutboxStats(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, st.Pending)
		claimed, err := s.ClaimPendingEvents(t.Context(), t0, t0.Add(lease), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"evt_b"}, eventIDs(claimed))
	})

	t.Run("SameIDInTwoApplicationsIsTwoPendingEvents", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateApplication(t.Context(), store.Application{ID: "acme", Name: "Acme", CreatedAt: t0, UpdatedAt: t0}))
		for _, app := range []string{store.DefaultApplication, "acme"} {
			e := newEvent("evt_same", "h")
			e.ApplicationID, e.WorkflowID = app, "event:"+app+"/evt_same"
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
		}
		got, err := s.ClaimPendingEvents(t.Context(), t0, t0.Add(lease), 10)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.NoError(t, s.RecordEventRuns(t.Context(), map[store.EventKey]string{{ApplicationID: "acme", ID: "evt_same"}: "run-acme"}))
		acme, err := s.GetEvent(t.Context(), "acme", "evt_same")
		require.NoError(t, err)
		require.Equal(t, "run-acme", acme.RunID)
		def, err := s.GetEvent(t.Context(), store.DefaultApplication, "evt_same")
		require.NoError(t, err)
		require.Empty(t, def.RunID, "recording one application's run leaves the other's event pending")
	})

	// One application's burst must not queue another's event behind it:
	// claims take each application's oldest before anyone's second.
	t.Run("ClaimsTakeTurnsBetweenApplications", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, app := range []string{"busy", "quiet"} {
			require.NoError(t, s.CreateApplication(t.Context(), store.Application{ID: app, Name: app, CreatedAt: t0, UpdatedAt: t0}))
		}
		add := func(app, id string, at time.Duration) {
			e := newEvent(id, "h")
			e.ApplicationID, e.WorkflowID, e.CreatedAt = app, "event:"+app+"/"+id, t0.Add(at)
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
		}
		for i := range 6 {
			add("busy", fmt.Sprintf("busy_%d", i), time.Duration(i)*time.Second)
		}
		add("quiet", "quiet_0", 10*time.Second)
		add("quiet", "quiet_1", 11*time.Second)

		now := t0.Add(time.Minute)
		first, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 3)
		require.NoError(t, err)
		require.Equal(t, []string{"busy_0", "busy_1", "quiet_0"}, eventIDs(first),
			"the quiet application's oldest comes in the first claim, before the busy one's third")
		second, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 2)
		require.NoError(t, err)
		require.Equal(t, []string{"busy_2", "quiet_1"}, eventIDs(second))
		rest, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 10)
		require.NoError(t, err)
		require.Equal(t, []string{"busy_3", "busy_4", "busy_5"}, eventIDs(rest), "one application alone: oldest first")
	})

	// Dispatchers in several API processes claim from one database at
	// once. Each claimer here runs on connections of its own from the
	// store's pool, which is what another process looks like to the
	// database: PostgreSQL sees separate sessions and transactions, SQLite
	// separate connections to one file.
	t.Run("ConcurrentClaimersNeverShareAnEvent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const events = 120
		for i := range events {
			e := newEvent(fmt.Sprintf("evt_%03d", i), "h")
			e.CreatedAt = t0.Add(time.Duration(i%7) * time.Millisecond) // ties on created_at too
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
		}
		const claimers = 4
		var (
			mu    sync.Mutex
			owner = map[string]int{}
			dup   []string
			errs  []error
			wg    sync.WaitGroup
		)
		now := t0.Add(time.Second)
		for c := range claimers {
			wg.Go(func() {
				for {
					got, err := s.ClaimPendingEvents(t.Context(), now, now.Add(lease), 7)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					for _, e := range got {
						if prev, ok := owner[e.ID]; ok {
							dup = append(dup, fmt.Sprintf("%s to claimers %d and %d", e.ID, prev, c))
						}
						owner[e.ID] = c
					}
					mu.Unlock()
					if len(got) == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Empty(t, dup, "no event is handed to two claimers")
		require.Len(t, owner, events, "every event is claimed")
	})
}

func key(id string) store.EventKey {
	return store.EventKey{ApplicationID: store.DefaultApplication, ID: id}
}

func eventIDs(events []store.Event) []string {
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}
