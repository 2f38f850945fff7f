package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/workflows"
)

func deliveryInput() workflows.DeliveryInput {
	return workflows.DeliveryInput{
		DeliveryID: "evt_1:sub_1", EventID: "evt_1", EventType: "order.created", SubscriptionID: "sub_1",
		URL:             "https://example.com/hook",
		Policy:          delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxDuration: 72 * time.Hour},
		AttemptTimeout:  15 * time.Second,
		FailedRetention: 24 * time.Hour,
	}
}

// failAttempt is what the activity returns when the receiver answers 500.
func failAttempt(in activities.DeliverInput, now time.Time, wait time.Duration, gaveUp bool) error {
	res := delivery.Attempt{Attempt: in.Attempt, StatusCode: 500, GaveUp: gaveUp}
	if !gaveUp {
		res.NextAttemptAt = now.Add(wait)
	}
	return temporal.NewApplicationErrorWithOptions("HTTP 500", activities.ErrTypeAttemptFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}})
}

func TestDeliveryRetriesOnTheBackoffScheduleUntilSuccess(t *testing.T) {
	env := newEnv(t)
	var attemptTimes []time.Time
	env.OnActivity(activities.DeliverName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeliverInput) (delivery.Attempt, error) {
			now := env.Now()
			attemptTimes = append(attemptTimes, now)
			if in.Attempt < 3 {
				return delivery.Attempt{}, failAttempt(in, now, in.Policy.Interval(in.RoundAttempt), false)
			}
			return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
		})
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.NoError(t, env.GetWorkflowError())
	var res workflows.DeliveryResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 3}, res)
	require.Len(t, attemptTimes, 3)
	require.InDelta(t, 5*time.Second, attemptTimes[1].Sub(attemptTimes[0]), float64(time.Second))
	require.InDelta(t, 10*time.Second, attemptTimes[2].Sub(attemptTimes[1]), float64(time.Second))
}

func TestDeliveryEndsFailedWhenTheReceiverIsGone(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.DeliverName, mock.Anything, mock.Anything).Return(delivery.Attempt{},
		temporal.NewApplicationErrorWithOptions("HTTP 410", activities.ErrTypeSubscriptionGone,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{delivery.Attempt{Attempt: 1, StatusCode: 410}}})).Once()
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())
	var res workflows.DeliveryResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StatusFailed, res.Status)
	require.Equal(t, 1, res.Attempts)
}

// --- signals in every state: attempting, backing off, exhausted, succeeded ---

// deliveryEnv is a test environment for one delivery: it records every
// attempt the workflow makes, every status it writes through
// SetDeliveryStatus and every HookflowStatus it upserts.
type deliveryEnv struct {
	*testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	attempts []activities.DeliverInput
	at       []time.Time
	recorded []string
	statuses []string
	// cancelRequested is closed when the workflow cancels an activity.
	cancelRequested chan struct{}
}

type deliverFunc func(ctx context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error)

func newDeliveryEnv(t *testing.T, deliver deliverFunc) *deliveryEnv {
	return mockDelivery(t, newEnv(t), deliver)
}

// mockDelivery mocks the activities of env; workflows registered for the
// test must come before it.
func mockDelivery(t *testing.T, env *testsuite.TestWorkflowEnvironment, deliver deliverFunc) *deliveryEnv {
	e := &deliveryEnv{TestWorkflowEnvironment: env, cancelRequested: make(chan struct{})}
	var once sync.Once
	e.SetOnActivityCanceledListener(func(*activity.Info) { once.Do(func() { close(e.cancelRequested) }) })
	e.OnActivity(activities.DeliverName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.DeliverInput) (delivery.Attempt, error) {
			now := e.Now()
			e.mu.Lock()
			e.attempts = append(e.attempts, in)
			e.at = append(e.at, now)
			e.mu.Unlock()
			return deliver(ctx, in, now)
		})
	e.OnActivity(activities.SetDeliveryStatusName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SetDeliveryStatusInput) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.recorded = append(e.recorded, in.Status)
			return nil
		})
	e.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa, ok := args.Get(0).(temporal.SearchAttributes)
		require.True(t, ok)
		status, ok := sa.GetKeyword(workflows.AttrStatus)
		require.True(t, ok)
		e.mu.Lock()
		defer e.mu.Unlock()
		e.statuses = append(e.statuses, status)
	}).Return(nil)
	return e
}

func (e *deliveryEnv) result(t *testing.T) workflows.DeliveryResult {
	t.Helper()
	require.True(t, e.IsWorkflowCompleted())
	require.NoError(t, e.GetWorkflowError())
	var res workflows.DeliveryResult
	require.NoError(t, e.GetWorkflowResult(&res))
	return res
}

func (e *deliveryEnv) query(t *testing.T) workflows.DeliveryState {
	t.Helper()
	v, err := e.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.DeliveryState
	require.NoError(t, v.Get(&st))
	return st
}

// hang is a receiver that never answers. A regular attempt heartbeats,
// as the real one does, until its context ends; its first heartbeat waits
// for the workflow's cancel request, since the SDK holds back heartbeats
// sent within 80% of the heartbeat timeout of the one before (the worker's
// shorter throttle is not applied by the test environment). It reports
// when its context ended.
func (e *deliveryEnv) hang(aborted chan<- struct{}) deliverFunc {
	return func(ctx context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		if !activity.GetInfo(ctx).IsLocalActivity {
			select {
			case <-e.cancelRequested:
			case <-ctx.Done():
			}
		}
		for ctx.Err() == nil {
			if !activity.GetInfo(ctx).IsLocalActivity {
				activity.RecordHeartbeat(ctx)
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
		close(aborted)
		res := delivery.Attempt{Attempt: in.Attempt, StartedAt: now, Error: "cancelled while sending"}
		return res, temporal.NewCanceledError(res)
	}
}

// waitClosed fails the test unless ch is closed within a generous bound;
// the bound only stops a broken test from hanging.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal(what)
	}
}

func TestCancelDuringTheFirstAttemptAbortsItsRequest(t *testing.T) {
	aborted := make(chan struct{})
	var env *deliveryEnv
	env = newDeliveryEnv(t, func(ctx context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		return env.hang(aborted)(ctx, in, now)
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalCancel, nil) }, 100*time.Millisecond)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 1}, env.result(t))
	waitClosed(t, aborted, "the local attempt's context was never cancelled")
	require.Len(t, env.attempts, 1, "no request after the cancel")
	require.Equal(t, []string{workflows.StatusCancelled}, env.recorded)
	require.Equal(t, []string{workflows.StatusCancelled}, env.statuses)
}

func TestCancelDuringALaterAttemptAbortsItsRequest(t *testing.T) {
	aborted := make(chan struct{})
	var env *deliveryEnv
	env = newDeliveryEnv(t, func(ctx context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		if in.Attempt == 1 {
			return delivery.Attempt{}, failAttempt(in, now, 5*time.Second, false)
		}
		return env.hang(aborted)(ctx, in, now)
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalCancel, nil) }, 5*time.Second+100*time.Millisecond)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 2}, env.result(t))
	waitClosed(t, aborted, "the running attempt never learned of the cancel through its heartbeat")
	require.Len(t, env.attempts, 2)
	require.Equal(t, []string{workflows.StatusCancelled}, env.recorded)
	require.Equal(t, []string{workflows.StatusRetrying, workflows.StatusCancelled}, env.statuses)
}

func TestCancelWhileBackingOffEndsTheDeliveryAtOnce(t *testing.T) {
	var start time.Time
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		start = now
		return delivery.Attempt{}, failAttempt(in, now, time.Hour, false)
	})
	var cancelledAt time.Time
	env.RegisterDelayedCallback(func() {
		st := env.query(t)
		require.Equal(t, workflows.StatusRetrying, st.Status)
		require.Equal(t, 1, st.Attempts)
		require.WithinDuration(t, start.Add(time.Hour), st.NextAttemptAt, 0)
		require.Len(t, st.Recent, 1)
		require.Equal(t, 500, st.Recent[0].StatusCode)
		cancelledAt = env.Now()
		env.SignalWorkflow(workflows.SignalCancel, nil)
	}, 10*time.Minute)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 1}, env.result(t))
	require.Len(t, env.attempts, 1, "the backoff timer never fires an attempt after the cancel")
	require.Less(t, env.Now().Sub(cancelledAt), time.Minute, "the workflow ends with the cancel, not when the backoff would have")
	require.Equal(t, []string{workflows.StatusCancelled}, env.recorded)
	require.Equal(t, workflows.StatusCancelled, env.query(t).Status)
}

func exhaustingInput() workflows.DeliveryInput {
	in := deliveryInput()
	in.Policy.MaxAttempts = 2
	return in
}

// failTwiceThenSucceed fails every attempt of the first round (the second
// one exhausts a two-attempt policy) and succeeds afterwards.
func failTwiceThenSucceed(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
	if in.Attempt > 2 {
		return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
	}
	return delivery.Attempt{}, failAttempt(in, now, in.Policy.Interval(in.RoundAttempt), in.RoundAttempt >= 2)
}

func TestCancelAfterThePolicyIsExhaustedEndsCancelled(t *testing.T) {
	env := newDeliveryEnv(t, failTwiceThenSucceed)
	env.RegisterDelayedCallback(func() {
		require.Equal(t, workflows.StatusFailed, env.query(t).Status, "a failed delivery waits in its dead-letter window")
		env.SignalWorkflow(workflows.SignalCancel, nil)
	}, 2*time.Hour)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, exhaustingInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 2}, env.result(t))
	require.Len(t, env.attempts, 2)
	// The failing attempt wrote "failed" itself; only the cancel is written by the workflow.
	require.Equal(t, []string{workflows.StatusCancelled}, env.recorded)
	require.Equal(t, []string{workflows.StatusRetrying, workflows.StatusFailed, workflows.StatusCancelled}, env.statuses)
}

func TestFailedDeliveryClosesAfterItsDeadLetterWindow(t *testing.T) {
	env := newDeliveryEnv(t, failTwiceThenSucceed)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, exhaustingInput())
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusFailed, Attempts: 2}, env.result(t))
	require.Empty(t, env.recorded)
	require.GreaterOrEqual(t, env.Now().Sub(env.at[1]), deliveryInput().FailedRetention)
}

// A retry signal while an attempt is in flight is answered by that attempt:
// if it fails, the next one still waits for its backoff.
func TestRetryDuringAnAttemptIsAnsweredByThatAttempt(t *testing.T) {
	release := make(chan struct{})
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		switch in.Attempt {
		case 1:
			return delivery.Attempt{}, failAttempt(in, now, 5*time.Second, false)
		case 2:
			waitClosed(t, release, "the test never released attempt 2")
			return delivery.Attempt{}, failAttempt(in, now, 10*time.Second, false)
		default:
			return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
		}
	})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalRetry, nil)
		close(release)
	}, 5*time.Second+100*time.Millisecond)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 3}, env.result(t))
	require.Len(t, env.at, 3)
	require.GreaterOrEqual(t, env.at[2].Sub(env.at[1]), 10*time.Second, "attempt 3 waited for its backoff")
}

func TestRetryWhileBackingOffAttemptsNow(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		if in.Attempt == 1 {
			return delivery.Attempt{}, failAttempt(in, now, time.Hour, false)
		}
		return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalRetry, nil) }, time.Minute)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 2}, env.result(t))
	require.Len(t, env.at, 2)
	require.Equal(t, time.Minute, env.at[1].Sub(env.at[0]), "attempt 2 came with the signal, not after the hour")
	require.Equal(t, 2, env.attempts[1].RoundAttempt, "a retry during backoff stays in the same round")
	require.Equal(t, []string{workflows.StatusRetrying, workflows.StatusSucceeded}, env.statuses)
}

func TestRetryAfterThePolicyIsExhaustedStartsANewRound(t *testing.T) {
	env := newDeliveryEnv(t, failTwiceThenSucceed)
	var retriedAt time.Time
	env.RegisterDelayedCallback(func() {
		retriedAt = env.Now()
		env.SignalWorkflow(workflows.SignalRetry, nil)
	}, 3*time.Hour)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, exhaustingInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 3}, env.result(t))
	require.Len(t, env.attempts, 3)
	third := env.attempts[2]
	require.Equal(t, 3, third.Attempt, "attempt numbers go on across rounds")
	require.Equal(t, 1, third.RoundAttempt, "the retry started a new round")
	require.WithinDuration(t, retriedAt, third.RoundStart, 0)
	require.WithinDuration(t, retriedAt, env.at[2], 0)
	require.Equal(t, []string{workflows.StatusRetrying, workflows.StatusFailed, workflows.StatusRetrying, workflows.StatusSucceeded}, env.statuses)
}

// A delivery whose workflow closed after its dead-letter window is revived
// by the API with signal-with-start: a new run that starts failed, with
// the retry signal waiting.
func TestARevivedRunStartsANewRoundWhereTheLogStopped(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, _ time.Time) (delivery.Attempt, error) {
		return delivery.Attempt{Attempt: in.Attempt, StatusCode: 204}, nil
	})
	in := exhaustingInput()
	in.State = &workflows.DeliveryState{
		DeliveryID: in.DeliveryID, Status: workflows.StatusFailed, Attempts: 4,
		Recent: []delivery.Attempt{{Attempt: 4, StatusCode: 500}},
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalRetry, nil) }, 0)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 5}, env.result(t))
	require.Len(t, env.attempts, 1)
	require.Equal(t, 5, env.attempts[0].Attempt)
	require.Equal(t, 1, env.attempts[0].RoundAttempt)
	require.Empty(t, env.recorded, "the log already says failed; nothing is written again")
	st := env.query(t)
	require.Len(t, st.Recent, 2)
	require.Equal(t, 204, st.Recent[1].StatusCode)
}

// Once a delivery has succeeded its workflow is closed: a later cancel or
// retry signal is refused (the API answers 409 before it gets that far),
// and the outcome stays succeeded.
func TestSignalsAfterSuccessAreRefused(t *testing.T) {
	for _, signal := range []string{workflows.SignalCancel, workflows.SignalRetry} {
		t.Run(signal, func(t *testing.T) {
			base := newEnv(t)
			const id = "delivery:evt_1:sub_1"
			base.RegisterWorkflowWithOptions(func(ctx workflow.Context) (string, error) {
				cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: id})
				var res workflows.DeliveryResult
				if err := workflow.ExecuteChildWorkflow(cctx, workflows.DeliveryWorkflowName, deliveryInput()).Get(ctx, &res); err != nil {
					return "", err
				}
				if err := workflow.SignalExternalWorkflow(ctx, id, "", signal, nil).Get(ctx, nil); err == nil {
					return "", errors.New("a closed delivery took a signal")
				}
				return res.Status, nil
			}, workflow.RegisterOptions{Name: "test.SignalAfterSuccess"})
			env := mockDelivery(t, base, func(_ context.Context, in activities.DeliverInput, _ time.Time) (delivery.Attempt, error) {
				return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
			})
			env.ExecuteWorkflow("test.SignalAfterSuccess")
			require.NoError(t, env.GetWorkflowError())
			var status string
			require.NoError(t, env.GetWorkflowResult(&status))
			require.Equal(t, workflows.StatusSucceeded, status)
			require.Len(t, env.attempts, 1)
			require.Empty(t, env.recorded)
		})
	}
}

// With no dead-letter window a failed delivery closes at once, and the API
// revives it with signal-with-start: the new run must see the retry that
// came with it.
func TestARevivedRunWithNoDeadLetterWindowStillTakesItsRetry(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, _ time.Time) (delivery.Attempt, error) {
		return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
	})
	in := exhaustingInput()
	in.FailedRetention = 0
	in.State = &workflows.DeliveryState{DeliveryID: in.DeliveryID, Status: workflows.StatusFailed, Attempts: 2}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalRetry, nil) }, 0)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, in)
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 3}, env.result(t))
}

// The Temporal UI's Cancel button requests cancellation of the workflow
// itself; the delivery ends as a cancel signal would end it.
func TestCancellingTheWorkflowEndsTheDeliveryCancelled(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		return delivery.Attempt{}, failAttempt(in, now, time.Hour, false)
	})
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 1}, env.result(t))
	require.Len(t, env.attempts, 1)
	require.Equal(t, []string{workflows.StatusCancelled}, env.recorded)
	require.Equal(t, []string{workflows.StatusRetrying, workflows.StatusCancelled}, env.statuses)
}

// An attempt that never reports (its worker died, the store was down) is
// decided in the workflow by the same delivery.Decide: it fails, the next
// one follows the backoff, and when the round gives up the workflow writes
// "failed" itself, since no attempt did.
func TestAttemptsThatNeverReportFollowTheSamePolicy(t *testing.T) {
	env := newDeliveryEnv(t, func(context.Context, activities.DeliverInput, time.Time) (delivery.Attempt, error) {
		return delivery.Attempt{}, errors.New("store is down")
	})
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, exhaustingInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusFailed, Attempts: 2}, env.result(t))
	// Each attempt is tried three times by the activity's own retry policy.
	require.Len(t, env.attempts, 6)
	require.Equal(t, 2, env.attempts[5].Attempt)
	// The first backoff, 5 s, shortened by the delivery's jitter for
	// attempt 1, which the workflow computes itself here.
	jittered := delivery.Jittered(5*time.Second, delivery.JitterOf(exhaustingInput().DeliveryID, 1))
	require.GreaterOrEqual(t, env.at[3].Sub(env.at[2]), jittered, "attempt 2 waited for the first backoff")
	require.Less(t, env.at[3].Sub(env.at[2]), 5*time.Second, "with jitter")
	require.Equal(t, []string{workflows.StatusFailed}, env.recorded)
	require.Equal(t, []string{workflows.StatusRetrying, workflows.StatusFailed}, env.statuses)
	st := env.query(t)
	require.Len(t, st.Recent, 2)
	require.Equal(t, delivery.KindNoReport, st.Recent[0].Kind)
	require.Contains(t, st.Recent[0].Error, "store is down")
	require.False(t, st.Recent[0].NextAttemptAt.IsZero())
	require.True(t, st.Recent[1].GaveUp)
}

// --- held while the subscription is paused ---

// holdAttempt is what the activity returns while the subscription is
// paused: no attempt spent, held until until.
func holdAttempt(in activities.DeliverInput, until time.Time) error {
	return temporal.NewApplicationErrorWithOptions("held", activities.ErrTypeHeld,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{delivery.Attempt{Attempt: in.Attempt, Kind: delivery.KindPaused, NextAttemptAt: until}}})
}

// A held delivery waits for the wake signal without spending attempts,
// then sends at once as its first attempt.
func TestAHeldDeliveryWaitsForTheWakeAndSpendsNoAttempt(t *testing.T) {
	var resumed bool
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		if !resumed {
			return delivery.Attempt{}, holdAttempt(in, now.Add(72*time.Hour))
		}
		return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
	})
	var held workflows.DeliveryState
	env.RegisterDelayedCallback(func() {
		held = env.query(t)
		resumed = true
		env.SignalWorkflow(delivery.SignalWake, nil)
	}, time.Hour)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())

	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 1}, env.result(t))
	require.Equal(t, workflows.StatusHeld, held.Status)
	require.Zero(t, held.Attempts, "a hold is no attempt")
	require.True(t, env.at[0].Add(72*time.Hour).Equal(held.HeldUntil))
	require.Len(t, env.at, 2)
	require.Equal(t, time.Hour, env.at[1].Sub(env.at[0]), "sent with the wake, not at the end of the hold")
	require.Equal(t, 1, env.attempts[1].Attempt)
	require.True(t, env.at[0].Add(72*time.Hour).Equal(env.attempts[1].HeldUntil), "the attempt knows the hold it ends")
	require.Equal(t, []string{workflows.StatusHeld, workflows.StatusSucceeded}, env.statuses)
}

// At the end of the hold the delivery attempts again by itself; the
// attempt, still paused, gives up.
func TestAHeldDeliveryGivesUpAtTheEndOfTheHold(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		if in.HeldUntil.IsZero() {
			return delivery.Attempt{}, holdAttempt(in, now.Add(time.Hour))
		}
		return delivery.Attempt{}, failAttempt(in, now, 0, true)
	})
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusFailed, Attempts: 1}, env.result(t))
	require.Len(t, env.at, 2)
	require.Equal(t, time.Hour, env.at[1].Sub(env.at[0]))
	require.Equal(t, []string{workflows.StatusHeld, workflows.StatusFailed}, env.statuses)
}

// A wake while backing off attempts now (the disable that wakes it ends
// it); one in the dead letter is no retry: it starts no new round.
func TestWakeCutsTheBackoffButNotTheDeadLetter(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		return delivery.Attempt{}, failAttempt(in, now, time.Hour, in.Attempt == 2)
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(delivery.SignalWake, nil) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(delivery.SignalWake, nil) }, 2*time.Minute)
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusFailed, Attempts: 2}, env.result(t))
	require.Len(t, env.at, 2, "the second wake, in the dead letter, made no attempt")
	require.Equal(t, time.Minute, env.at[1].Sub(env.at[0]))
}

// A wake-up pages through each status of its change and continues as new
// past its pages per run.
func TestWakePagesThroughEveryUnfinishedStatus(t *testing.T) {
	env := newEnv(t)
	var pages []activities.WakePageInput
	env.OnActivity(activities.WakePageName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WakePageInput) (activities.WakePageResult, error) {
			pages = append(pages, in)
			if in.Status == delivery.StatusRetrying && in.After == "" {
				return activities.WakePageResult{After: "d500", Woken: 500}, nil
			}
			return activities.WakePageResult{After: in.After, Woken: 2, Done: true}, nil
		})
	env.ExecuteWorkflow(workflows.WakeWorkflowName, workflows.WakeInput{Wake: activities.Wake{
		ApplicationID: "acme", SubscriptionID: "sub_1", Why: activities.WakeDisable, At: time.Now()}})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.WakeResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 508, res.Woken)
	var got []string
	for _, p := range pages {
		got = append(got, p.Status+"/"+p.After)
	}
	require.Equal(t, []string{"pending/", "delivering/", "retrying/", "retrying/d500", "held/"}, got)
}

// An attempt that found no flow-control turn in time is given back: the
// delivery waits in its workflow until the turn and tries again, its
// status and attempt count as they were.
func TestAThrottledAttemptWaitsForItsTurnAndSpendsNoAttempt(t *testing.T) {
	env := newDeliveryEnv(t, func(_ context.Context, in activities.DeliverInput, now time.Time) (delivery.Attempt, error) {
		if len(in.DeliveryID) > 0 && in.Attempt == 1 && !in.RoundStart.IsZero() && now.Sub(in.RoundStart) < 30*time.Second {
			return delivery.Attempt{}, temporal.NewApplicationErrorWithOptions("waiting for the subscription's rate_limit", activities.ErrTypeThrottled,
				temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{delivery.Attempt{Attempt: in.Attempt, Kind: delivery.KindThrottled, NextAttemptAt: now.Add(30 * time.Second)}}})
		}
		return delivery.Attempt{Attempt: in.Attempt, StatusCode: 200}, nil
	})
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 1}, env.result(t))
	require.Len(t, env.at, 2)
	require.Equal(t, 30*time.Second, env.at[1].Sub(env.at[0]))
	require.Equal(t, 1, env.attempts[1].Attempt, "the throttled try was no attempt")
	require.Equal(t, []string{workflows.StatusSucceeded}, env.statuses, "no status change while waiting")
}
