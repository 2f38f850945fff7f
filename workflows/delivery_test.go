package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/backoff"
	"github.com/hookflow/hookflow/workflows"
)

func deliveryInput() workflows.DeliveryInput {
	return workflows.DeliveryInput{
		DeliveryID: "evt_1:sub_1", EventID: "evt_1", EventType: "order.created", SubscriptionID: "sub_1",
		URL:             "https://example.com/hook",
		Policy:          backoff.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxDuration: 72 * time.Hour},
		AttemptTimeout:  15 * time.Second,
		FailedRetention: 24 * time.Hour,
	}
}

// failAttempt is what the activity returns when the receiver answers 500.
func failAttempt(in activities.DeliverInput, now time.Time, wait time.Duration, gaveUp bool) error {
	res := activities.AttemptResult{Attempt: in.Attempt, StatusCode: 500, GaveUp: gaveUp}
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
		func(_ context.Context, in activities.DeliverInput) (activities.AttemptResult, error) {
			now := env.Now()
			attemptTimes = append(attemptTimes, now)
			if in.Attempt < 3 {
				return activities.AttemptResult{}, failAttempt(in, now, in.Policy.Interval(in.RoundAttempt), false)
			}
			return activities.AttemptResult{Attempt: in.Attempt, StatusCode: 200}, nil
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
	env.OnActivity(activities.DeliverName, mock.Anything, mock.Anything).Return(activities.AttemptResult{},
		temporal.NewApplicationErrorWithOptions("HTTP 410", activities.ErrTypeSubscriptionGone,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{activities.AttemptResult{Attempt: 1, StatusCode: 410}}})).Once()
	env.ExecuteWorkflow(workflows.DeliveryWorkflowName, deliveryInput())
	var res workflows.DeliveryResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StatusFailed, res.Status)
	require.Equal(t, 1, res.Attempts)
}
