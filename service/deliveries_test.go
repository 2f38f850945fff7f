package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// fixture is a service over a fresh SQLite store and a mocked Temporal
// client: any Temporal call a test did not expect fails it.
type fixture struct {
	svc      *service.Service
	store    *store.SQL
	temporal *mocks.Client
	sub      store.Subscription
	now      time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hookflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	tc := mocks.NewClient(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	sub := store.Subscription{ApplicationID: store.DefaultApplication,
		ID: "sub_01TEST", URL: "https://example.com/hooks", EventTypes: []string{"order.*"}, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
		Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
	}
	require.NoError(t, st.CreateSubscription(ctx, sub))
	_, _, err = st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication,
		ID: "evt_1", Type: "order.created", Payload: []byte(`{}`), BodyHash: "h", WorkflowID: "event:evt_1", RunID: "run-1", CreatedAt: now,
	})
	require.NoError(t, err)
	return &fixture{
		svc: &service.Service{
			Store: st, Temporal: tc, TaskQueue: "hookflow",
			Defaults: delivery.Defaults{
				Retry:          delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: 4 * time.Hour, MaxDuration: 72 * time.Hour},
				AttemptTimeout: 15 * time.Second, FailedRetention: 168 * time.Hour,
			},
			Now: func() time.Time { return now },
		},
		store: st, temporal: tc, sub: sub, now: now,
	}
}

// delivery records a delivery of evt_1 in status after the given number
// of attempts that each answered 500.
func (f *fixture) delivery(t *testing.T, subID, status string, attempts int) store.Delivery {
	t.Helper()
	ctx := context.Background()
	id := ids.Delivery("evt_1", subID)
	d := store.Delivery{ApplicationID: store.DefaultApplication, ID: id, EventID: "evt_1", SubscriptionID: subID, URL: f.sub.URL, Status: store.DeliveryPending, WorkflowID: ids.DeliveryWorkflow("", id), UpdatedAt: f.now}
	require.NoError(t, f.store.AddDeliveries(ctx, []store.Delivery{d}))
	for i := 1; i <= attempts; i++ {
		require.NoError(t, f.store.RecordAttempt(ctx, store.Attempt{DeliveryID: id, Attempt: i, StartedAt: f.now, StatusCode: 500}, store.DeliveryRetrying, time.Time{}))
	}
	if status != store.DeliveryPending {
		require.NoError(t, f.store.SetDeliveryStatus(ctx, id, status, time.Time{}))
	}
	d.Status, d.Attempts = status, attempts
	return d
}

func run(id string) client.WorkflowRun {
	r := &mocks.WorkflowRun{}
	r.On("GetRunID").Return(id).Maybe()
	return r
}

func TestFinishedDeliveriesRefuseRetryWithoutAskingTemporal(t *testing.T) {
	for _, status := range []string{store.DeliverySucceeded, store.DeliveryCancelled} {
		t.Run(status, func(t *testing.T) {
			f := newFixture(t)
			d := f.delivery(t, f.sub.ID, status, 1)
			_, err := f.svc.RetryDelivery(context.Background(), store.DefaultApplication, d.ID)
			require.ErrorIs(t, err, service.ErrConflict)
		})
	}
}

func TestCancelOfASucceededDeliveryIsAConflictAndOfACancelledOneANoOp(t *testing.T) {
	f := newFixture(t)
	ok := f.delivery(t, f.sub.ID, store.DeliverySucceeded, 1)
	_, err := f.svc.CancelDelivery(context.Background(), store.DefaultApplication, ok.ID)
	require.ErrorIs(t, err, service.ErrConflict)

	gone := f.delivery(t, "sub_01OTHER", store.DeliveryCancelled, 1)
	st, err := f.svc.CancelDelivery(context.Background(), store.DefaultApplication, gone.ID)
	require.NoError(t, err)
	require.Equal(t, gone.WorkflowID, st.WorkflowID)
}

func TestUnknownDeliveryIsNotFound(t *testing.T) {
	f := newFixture(t)
	for _, call := range []func(context.Context, string, string) (service.Steered, error){f.svc.CancelDelivery, f.svc.RetryDelivery} {
		_, err := call(context.Background(), store.DefaultApplication, "evt_1:sub_01NOPE")
		require.ErrorIs(t, err, service.ErrNotFound)
		// A delivery is reached only under its own application.
		_, err = call(context.Background(), "other", f.delivery(t, "sub_01SCOPE", store.DeliveryRetrying, 1).ID)
		require.ErrorIs(t, err, service.ErrNotFound)
	}
	_, err := f.svc.GetDelivery(context.Background(), store.DefaultApplication, "nope")
	require.ErrorIs(t, err, service.ErrNotFound)
	_, err = f.svc.CancelEvent(context.Background(), store.DefaultApplication, "nope")
	require.ErrorIs(t, err, service.ErrNotFound)
}

// A retry of a backing-off delivery signals its open run; it never starts a
// new one over a closed run.
func TestRetryWhileBackingOffSignalsTheOpenRun(t *testing.T) {
	f := newFixture(t)
	d := f.delivery(t, f.sub.ID, store.DeliveryRetrying, 1)
	f.temporal.On("SignalWithStartWorkflow", mock.Anything, d.WorkflowID, workflows.SignalRetry, nil,
		mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
			return o.ID == d.WorkflowID && o.TaskQueue == workflows.DeliveryTaskQueue("hookflow") &&
				o.WorkflowIDReusePolicy == enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE &&
				o.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
		}), workflows.DeliveryWorkflowName,
		mock.MatchedBy(func(in workflows.DeliveryInput) bool { return in.State == nil && in.DeliveryID == d.ID }),
	).Return(run("run-2"), nil).Once()
	st, err := f.svc.RetryDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.NoError(t, err)
	require.Equal(t, service.Steered{ID: d.ID, WorkflowID: d.WorkflowID, RunID: "run-2", Signal: workflows.SignalRetry}, st)
}

// A delivery that gave up may have a closed workflow: the retry starts a
// new run that goes on from the attempt log, with the subscription as it is
// now.
func TestRetryOfAFailedDeliveryMayReviveItsWorkflow(t *testing.T) {
	f := newFixture(t)
	d := f.delivery(t, f.sub.ID, store.DeliveryFailed, 12)
	var got workflows.DeliveryInput
	f.temporal.On("SignalWithStartWorkflow", mock.Anything, d.WorkflowID, workflows.SignalRetry, nil,
		mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
			status, _ := o.TypedSearchAttributes.GetKeyword(workflows.AttrStatus)
			subID, _ := o.TypedSearchAttributes.GetKeyword(workflows.AttrSubscriptionID)
			app, _ := o.TypedSearchAttributes.GetKeyword(workflows.AttrApplicationID)
			// The id recorded with the delivery (here one from before
			// applications existed) is the id the revival starts under.
			return o.ID == d.WorkflowID && app == store.DefaultApplication && o.WorkflowIDReusePolicy == enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE &&
				o.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING &&
				status == workflows.StatusFailed && subID == f.sub.ID &&
				o.StaticSummary == "deliver order.created evt_1 to https://example.com/hooks for app default"
		}), workflows.DeliveryWorkflowName, mock.Anything,
	).Run(func(args mock.Arguments) { got = args.Get(6).(workflows.DeliveryInput) }).Return(run("run-new"), nil).Once()

	st, err := f.svc.RetryDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.NoError(t, err)
	require.Equal(t, "run-new", st.RunID)
	require.Equal(t, "order.created", got.EventType)
	require.Equal(t, f.sub.URL, got.URL)
	require.Equal(t, 15*time.Second, got.AttemptTimeout)
	require.Equal(t, 168*time.Hour, got.FailedRetention)
	require.NotNil(t, got.State)
	require.Equal(t, workflows.StatusFailed, got.State.Status)
	require.Equal(t, 12, got.State.Attempts, "attempt numbers go on from the log")
	require.Len(t, got.State.Recent, workflows.RecentAttempts)
	require.Equal(t, 12, got.State.Recent[workflows.RecentAttempts-1].Attempt)
}

func TestRetryIsRefusedWhenTheSubscriptionCannotReceive(t *testing.T) {
	f := newFixture(t)
	d := f.delivery(t, f.sub.ID, store.DeliveryFailed, 1)
	_, _, err := f.store.DisableSubscription(context.Background(), store.DefaultApplication, f.sub.ID, "the receiver answered 410 Gone", time.Time{}, time.Now())
	require.NoError(t, err)
	_, err = f.svc.RetryDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.ErrorIs(t, err, service.ErrConflict)
	require.ErrorContains(t, err, "disabled (the receiver answered 410 Gone)")

	require.NoError(t, f.store.DeleteSubscription(context.Background(), store.DefaultApplication, f.sub.ID))
	_, err = f.svc.RetryDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.ErrorIs(t, err, service.ErrConflict)
	require.ErrorContains(t, err, "deleted")
}

func TestCancelOfAFailedDeliveryWhoseWorkflowClosedIsAConflict(t *testing.T) {
	f := newFixture(t)
	d := f.delivery(t, f.sub.ID, store.DeliveryFailed, 3)
	f.temporal.On("SignalWithStartWorkflow", mock.Anything, d.WorkflowID, workflows.SignalCancel, nil,
		mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
			return o.WorkflowIDReusePolicy == enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
		}), workflows.DeliveryWorkflowName, mock.Anything,
	).Return(nil, serviceerror.NewWorkflowExecutionAlreadyStarted("closed", "", "run-1")).Once()
	_, err := f.svc.CancelDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.ErrorIs(t, err, service.ErrConflict)
}

func TestTemporalDownIsUnavailableNotBadInput(t *testing.T) {
	f := newFixture(t)
	d := f.delivery(t, f.sub.ID, store.DeliveryRetrying, 1)
	f.temporal.On("SignalWithStartWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewUnavailable("connection refused")).Twice()
	_, err := f.svc.RetryDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.ErrorIs(t, err, service.ErrUnavailable)
	_, err = f.svc.CancelDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.ErrorIs(t, err, service.ErrUnavailable)
}

// Once the fan-out has closed, the service signals each unfinished
// delivery itself; one whose workflow never started is marked cancelled,
// finished ones are left alone.
func TestCancelEventSignalsEveryUnfinishedDelivery(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	retrying := f.delivery(t, "sub_01A", store.DeliveryRetrying, 2)
	neverStarted := f.delivery(t, "sub_01B", store.DeliveryPending, 0)
	succeeded := f.delivery(t, "sub_01C", store.DeliverySucceeded, 1)
	failed := f.delivery(t, "sub_01D", store.DeliveryFailed, 3)

	f.temporal.On("SignalWorkflow", mock.Anything, "event:evt_1", "", workflows.SignalCancel, nil).
		Return(serviceerror.NewNotFound("workflow execution already completed")).Once()
	f.temporal.On("SignalWorkflow", mock.Anything, retrying.WorkflowID, "", workflows.SignalCancel, nil).Return(nil).Once()
	f.temporal.On("SignalWorkflow", mock.Anything, neverStarted.WorkflowID, "", workflows.SignalCancel, nil).
		Return(serviceerror.NewNotFound("not found")).Once()

	res, err := f.svc.CancelEvent(ctx, store.DefaultApplication, "evt_1")
	require.NoError(t, err)
	require.False(t, res.FanOutRunning)
	require.Equal(t, 2, res.Cancelled)
	for d, want := range map[string]string{
		retrying.ID: store.DeliveryRetrying, neverStarted.ID: store.DeliveryCancelled,
		succeeded.ID: store.DeliverySucceeded, failed.ID: store.DeliveryFailed,
	} {
		got, err := f.store.GetDelivery(ctx, store.DefaultApplication, d)
		require.NoError(t, err)
		require.Equal(t, want, got.Status, d)
	}
}

// While the fan-out runs, it gets the signal and does the rest itself, so
// that no delivery it is about to start is missed.
func TestCancelEventWhileFanningOutSignalsTheEventWorkflowOnly(t *testing.T) {
	f := newFixture(t)
	f.delivery(t, "sub_01A", store.DeliveryRetrying, 1)
	f.temporal.On("SignalWorkflow", mock.Anything, "event:evt_1", "", workflows.SignalCancel, nil).Return(nil).Once()
	res, err := f.svc.CancelEvent(context.Background(), store.DefaultApplication, "evt_1")
	require.NoError(t, err)
	require.True(t, res.FanOutRunning)
}

func TestGetDeliveryReadsTheLogAndTheLatestRun(t *testing.T) {
	f := newFixture(t)
	d := f.delivery(t, f.sub.ID, store.DeliveryRetrying, 3)
	f.temporal.On("DescribeWorkflow", mock.Anything, d.WorkflowID, "").
		Return(nil, fmt.Errorf("temporal is slow: %w", context.DeadlineExceeded)).Once()
	view, err := f.svc.GetDelivery(context.Background(), store.DefaultApplication, d.ID)
	require.NoError(t, err, "the store answers even when Temporal does not")
	require.Empty(t, view.RunID)
	require.Len(t, view.Attempts, 3)
	require.Equal(t, 500, view.Attempts[2].StatusCode)
}

// Resuming a paused subscription starts one wake-up of its held
// deliveries, named by the change; a PATCH to active of an active one
// starts one only while deliveries are still held; disabled is Hookflow's
// alone to set, and setting a disabled one active re-enables it.
func TestResumeWakesTheHeldDeliveries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	paused, active := store.SubscriptionPaused, store.SubscriptionActive
	_, err := f.svc.UpdateSubscription(ctx, store.DefaultApplication, f.sub.ID, service.SubscriptionPatch{Status: &paused})
	require.NoError(t, err)

	f.temporal.On("ExecuteWorkflow", mock.Anything, mock.MatchedBy(func(o client.StartWorkflowOptions) bool {
		return o.ID == ids.WakeWorkflow(store.DefaultApplication, f.sub.ID, activities.WakeResume, f.now.UnixMicro()) && o.TaskQueue == "hookflow"
	}), workflows.WakeWorkflowName, mock.MatchedBy(func(in workflows.WakeInput) bool {
		return in.Why == activities.WakeResume && in.SubscriptionID == f.sub.ID
	})).Return(run("run-wake"), nil).Once()
	sub, err := f.svc.UpdateSubscription(ctx, store.DefaultApplication, f.sub.ID, service.SubscriptionPatch{Status: &active})
	require.NoError(t, err)
	require.Equal(t, store.SubscriptionActive, sub.Status)

	// Active again, nothing held: no wake-up (the mock allows one call).
	_, err = f.svc.UpdateSubscription(ctx, store.DefaultApplication, f.sub.ID, service.SubscriptionPatch{Status: &active})
	require.NoError(t, err)

	disabled := store.SubscriptionDisabled
	_, err = f.svc.UpdateSubscription(ctx, store.DefaultApplication, f.sub.ID, service.SubscriptionPatch{Status: &disabled})
	var problems *service.InvalidError
	require.ErrorAs(t, err, &problems)
	require.Contains(t, problems.Fields[0].Message, "only Hookflow disables")

	_, _, err = f.store.DisableSubscription(ctx, store.DefaultApplication, f.sub.ID, "the receiver answered 410 Gone", time.Time{}, f.now)
	require.NoError(t, err)
	sub, err = f.svc.UpdateSubscription(ctx, store.DefaultApplication, f.sub.ID, service.SubscriptionPatch{Status: &active})
	require.NoError(t, err)
	require.Equal(t, store.SubscriptionActive, sub.Status)
	require.Empty(t, sub.DisabledReason)
	require.True(t, sub.FailingSince.IsZero())
}
