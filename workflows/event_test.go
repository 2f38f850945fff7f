package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/workflows"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// The default 3 s of wall time, and 1 s for a workflow task, are too
	// short for a batch of 500 children under -race on a loaded machine.
	env.SetTestTimeout(time.Minute)
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	workflows.Register(env)
	activities.Register(env, &activities.Activities{})
	return env
}

func targets(n, from int) []delivery.Target {
	out := make([]delivery.Target, n)
	for i := range out {
		out[i] = delivery.Target{SubscriptionID: fmt.Sprintf("sub_%05d", from+i), URL: "https://example.com/hook", AttemptTimeout: time.Second}
	}
	return out
}

func TestEventStartsOneDeliveryPerMatchingSubscription(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.ClaimTargetsName, mock.Anything, activities.ClaimTargetsInput{
		EventID: "evt_1", EventType: "order.created", Limit: workflows.FanOutBatch,
	}).Return(activities.ClaimTargetsResult{Targets: targets(3, 0), Done: true}, nil).Once()

	var started []string
	env.OnWorkflow(workflows.DeliveryWorkflowName, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in workflows.DeliveryInput) (workflows.DeliveryResult, error) {
			started = append(started, workflow.GetInfo(ctx).WorkflowExecution.ID)
			require.Equal(t, "evt_1", in.EventID)
			require.Equal(t, "order.created", in.EventType)
			return workflows.DeliveryResult{Status: workflows.StatusSucceeded}, nil
		})

	env.ExecuteWorkflow(workflows.EventWorkflowName, workflows.EventInput{EventID: "evt_1", EventType: "order.created"})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.EventResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 3, res.Deliveries)
	require.ElementsMatch(t, []string{
		"delivery:evt_1:sub_00000", "delivery:evt_1:sub_00001", "delivery:evt_1:sub_00002",
	}, started)
}

func TestEventWithNoSubscriberCompletesWithoutChildren(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.ClaimTargetsName, mock.Anything, mock.Anything).
		Return(activities.ClaimTargetsResult{Done: true}, nil).Once()
	env.ExecuteWorkflow(workflows.EventWorkflowName, workflows.EventInput{EventID: "evt_1", EventType: "x"})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.EventResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Zero(t, res.Deliveries)
}

// A full page means there may be more: the run continues as new from the
// last subscription id rather than keep thousands of pending children.
func TestEventContinuesAsNewAfterAFullBatch(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.ClaimTargetsName, mock.Anything, mock.Anything).
		Return(activities.ClaimTargetsResult{Targets: targets(workflows.FanOutBatch, 0)}, nil).Once()
	env.OnWorkflow(workflows.DeliveryWorkflowName, mock.Anything, mock.Anything).
		Return(workflows.DeliveryResult{Status: workflows.StatusSucceeded}, nil)

	env.ExecuteWorkflow(workflows.EventWorkflowName, workflows.EventInput{EventID: "evt_1", EventType: "order.created"})
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	require.Equal(t, workflows.EventWorkflowName, can.WorkflowType.Name)
	var next workflows.EventInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, fmt.Sprintf("sub_%05d", workflows.FanOutBatch-1), next.After)
	require.Equal(t, workflows.FanOutBatch, next.Started)
}

// A cancel that reaches the fan-out while it is looking up subscribers
// stops it before any child starts, even on a full page that would
// otherwise continue as new; then every unfinished delivery of the event
// (those of earlier runs too) is cancelled.
func TestEventCancelledDuringFanOutStartsNothingMoreAndCancelsItsDeliveries(t *testing.T) {
	env := newEnv(t)
	release := make(chan struct{})
	env.OnActivity(activities.ClaimTargetsName, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ClaimTargetsInput) (activities.ClaimTargetsResult, error) {
			<-release
			return activities.ClaimTargetsResult{Targets: targets(workflows.FanOutBatch, 0)}, nil
		}).Once()
	env.OnActivity(activities.CancelDeliveriesName, mock.Anything,
		activities.CancelDeliveriesInput{EventID: "evt_1"}).
		Return(activities.CancelDeliveriesResult{Cancelled: 7}, nil).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalCancel, nil)
		close(release)
	}, 50*time.Millisecond)

	env.ExecuteWorkflow(workflows.EventWorkflowName, workflows.EventInput{EventID: "evt_1", EventType: "order.created", Started: 1000})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "a cancelled fan-out does not continue as new")
	var res workflows.EventResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.EventResult{Deliveries: 1000, Cancelled: true, CancelledDeliveries: 7}, res)
	env.AssertExpectations(t)
}

// The API signals a fan-out that is still running; one that already got
// the cancel in its first task looks nothing up.
func TestEventCancelledBeforeItsFirstLookupFindsNoTargets(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.CancelDeliveriesName, mock.Anything, mock.Anything).
		Return(activities.CancelDeliveriesResult{}, nil).Once()
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalCancel, nil) }, 0)
	env.ExecuteWorkflow(workflows.EventWorkflowName, workflows.EventInput{EventID: "evt_1", EventType: "order.created"})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.EventResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.True(t, res.Cancelled)
	require.Zero(t, res.Deliveries)
	env.AssertExpectations(t)
}
