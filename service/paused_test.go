package service_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

// A delivery under way when its subscription is paused sends nothing while
// it stays paused: the attempt is no attempt (none logged), the delivery
// is held until the end of HOOKFLOW_PAUSE_HOLD; once resumed, the attempt
// that the wake-up brings goes out.
func TestAttemptsWhilePausedHoldWithoutSpendingAnAttempt(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "h.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := &service.Service{Store: st, Targets: netguard.Policy{AllowPrivate: true}, Now: func() time.Time { return now }}
	acts := &activities.Activities{Store: st, HTTP: http.DefaultClient, Now: func() time.Time { return now },
		Defaults: delivery.Defaults{AttemptTimeout: 10 * time.Second, PauseHold: time.Hour}}
	recv := testenv.NewReceiver(t)
	sub, err := svc.CreateSubscription(ctx, store.DefaultApplication, service.NewSubscription{URL: recv.URL, EventTypes: []string{"*"}})
	require.NoError(t, err)

	_, _, err = st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication, ID: "e1", Type: "a.b", Payload: []byte(`{}`), BodyHash: "h", WorkflowID: "event:e1", CreatedAt: now})
	require.NoError(t, err)
	did := ids.Delivery("e1", sub.ID)
	require.NoError(t, st.AddDeliveries(ctx, []store.Delivery{{ApplicationID: store.DefaultApplication, ID: did, EventID: "e1", SubscriptionID: sub.ID, URL: recv.URL,
		Status: store.DeliveryPending, WorkflowID: ids.DeliveryWorkflow("", did), UpdatedAt: now}}))
	paused := store.SubscriptionPaused
	_, err = svc.UpdateSubscription(ctx, store.DefaultApplication, sub.ID, service.SubscriptionPatch{Status: &paused})
	require.NoError(t, err)

	in := activities.DeliverInput{DeliveryID: did, EventID: "e1", SubscriptionID: sub.ID, Attempt: 1, RoundAttempt: 1, RoundStart: now,
		Policy: delivery.Policy{InitialInterval: time.Minute, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxDuration: 24 * time.Hour}}
	res, err := runDeliver(t, acts, in)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, activities.ErrTypeHeld, appErr.Type())
	require.Contains(t, res.Error, "paused")
	require.Equal(t, now.Add(time.Hour), res.NextAttemptAt, "held until the end of the hold")
	require.Zero(t, recv.Count(), "nothing is sent while paused")
	d, err := st.GetDelivery(ctx, store.DefaultApplication, did)
	require.NoError(t, err)
	require.Equal(t, store.DeliveryHeld, d.Status)
	require.Zero(t, d.Attempts, "no attempt spent")

	// Resumed in the store (the service would also start the wake-up,
	// which needs Temporal: the e2e tests cover it).
	_, err = st.ModifySubscription(ctx, store.DefaultApplication, sub.ID, func(s *store.Subscription) error {
		s.Status = store.SubscriptionActive
		return nil
	})
	require.NoError(t, err)
	in.HeldUntil = res.NextAttemptAt
	res, err = runDeliver(t, acts, in)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, 1, recv.Count(), "resumed, the held attempt goes out")
}

// runDeliver runs one attempt as the worker runs it, with a real activity
// context from the SDK's test environment, and returns the attempt also
// when it failed (from the failure's details).
func runDeliver(t *testing.T, acts *activities.Activities, in activities.DeliverInput) (delivery.Attempt, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	activities.Register(env, acts)
	v, err := env.ExecuteActivity(activities.DeliverName, in)
	var res delivery.Attempt
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		require.NoError(t, v.Get(&res))
	case errors.As(err, &appErr) && appErr.HasDetails():
		require.NoError(t, appErr.Details(&res))
	}
	return res, err
}
