package activities_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
)

// startLog is a Starter that remembers what it was asked to start and, like
// workflows.StartResend, takes a second start of one id as done.
type startLog struct {
	mu      sync.Mutex
	started map[string]int
	fail    bool
}

func (l *startLog) start(_ context.Context, _ client.Client, taskQueue string, r activities.Resend) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return context.DeadlineExceeded
	}
	l.started[r.DeliveryID]++
	return nil
}

// A page that runs again (its worker died after it had started some
// resends) records and starts nothing twice; the undelivered phase finds
// only the events of the subscription's types.
func TestRecoverPageRunTwiceResendsEachOnce(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "h.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now().UTC()
	sub := store.Subscription{ApplicationID: store.DefaultApplication, ID: ids.NewSubscription(), URL: "https://example.com/h",
		EventTypes: []string{"order.*"}, Secret: "whsec_x", Status: store.SubscriptionActive, CreatedAt: now.Add(-time.Hour), UpdatedAt: now}
	require.NoError(t, st.CreateSubscription(ctx, sub))
	for i, typ := range []string{"order.paid", "order.paid", "order.paid", "user.created", "order.sent"} {
		id := "e" + string(rune('1'+i))
		_, _, err := st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication, ID: id, Type: typ, Payload: []byte(`{}`),
			BodyHash: "h", WorkflowID: "event:" + id, RunID: "r", CreatedAt: now.Add(-time.Minute + time.Duration(i)*time.Second)})
		require.NoError(t, err)
		require.NoError(t, st.MarkEventDispatched(ctx, store.DefaultApplication, id))
		if i < 3 {
			did := ids.Delivery(id, sub.ID)
			require.NoError(t, st.AddDeliveries(ctx, []store.Delivery{{ID: did, ApplicationID: store.DefaultApplication, EventID: id,
				SubscriptionID: sub.ID, URL: sub.URL, Status: store.DeliveryFailed, WorkflowID: "delivery:" + did, UpdatedAt: now}}))
		}
	}
	rec, _, err := st.CreateRecovery(ctx, store.Recovery{ID: "rcv_1", ApplicationID: store.DefaultApplication, SubscriptionID: sub.ID,
		WorkflowID: "recover:x", Since: now.Add(-time.Hour), Until: now, CreatedAt: now, UpdatedAt: now})
	require.NoError(t, err)

	log := &startLog{started: map[string]int{}}
	env := newActivityEnv(&activities.Activities{Store: st, StartResend: log.start})
	in := activities.RecoverPageInput{RecoveryID: rec.ID, ApplicationID: store.DefaultApplication, SubscriptionID: sub.ID,
		Since: rec.Since, Until: rec.Until, Phase: activities.PhaseFailed, Limit: 2, TaskQueue: "q"}
	page := func(in activities.RecoverPageInput) activities.RecoverPageResult {
		t.Helper()
		v, err := env.ExecuteActivity(activities.RecoverPageName, in)
		require.NoError(t, err)
		var res activities.RecoverPageResult
		require.NoError(t, v.Get(&res))
		return res
	}

	first := page(in)
	require.Equal(t, activities.RecoverPageResult{Matched: 2, Resent: 2, AfterID: ids.Delivery("e2", sub.ID)}, first)
	require.Equal(t, first, page(in), "the same page again finds the same deliveries")
	for _, e := range []string{"e1", "e2"} {
		id := ids.Resend(ids.Delivery(e, sub.ID), rec.ID)
		require.Equal(t, 2, log.started[id], "started twice, which the real Starter takes as one")
		ds, err := st.ListDeliveries(ctx, store.DefaultApplication, e)
		require.NoError(t, err)
		require.Len(t, ds, 2, "one resend recorded, not two")
		require.Equal(t, id, ds[1].ID)
		require.Equal(t, store.DeliveryPending, ds[1].Status)
	}
	got, err := st.GetRecovery(ctx, store.DefaultApplication, rec.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Resent, "the row has the counts after the page")

	in.AfterID, in.Matched, in.Resent = first.AfterID, 2, 2
	last := page(in)
	require.True(t, last.Done)
	require.Equal(t, 1, last.Resent)

	// e4 is a user.created event, not the subscription's; e5 never got a
	// delivery (it was published while the subscription was paused).
	und := page(activities.RecoverPageInput{RecoveryID: rec.ID, ApplicationID: store.DefaultApplication, SubscriptionID: sub.ID,
		Since: rec.Since, Until: rec.Until, Phase: activities.PhaseUndelivered, Limit: 10, TaskQueue: "q", Matched: 3, Resent: 3})
	require.True(t, und.Done)
	require.Equal(t, 1, und.Resent)
	require.Equal(t, 1, log.started[ids.Delivery("e5", sub.ID)])
	require.Equal(t, "e5", und.AfterID)

	// A start that fails fails the page, to be run again.
	log.fail = true
	_, err = env.ExecuteActivity(activities.RecoverPageName, activities.RecoverPageInput{RecoveryID: "rcv_2", ApplicationID: store.DefaultApplication,
		SubscriptionID: sub.ID, Since: rec.Since, Until: rec.Until, Phase: activities.PhaseFailed, Limit: 10, TaskQueue: "q"})
	require.Error(t, err)

	// A deleted subscription ends the recovery.
	require.NoError(t, st.DeleteSubscription(ctx, store.DefaultApplication, sub.ID))
	log.fail = false
	gone := page(in)
	require.True(t, gone.Gone)
}
