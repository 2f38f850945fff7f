package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/workflows"
)

var (
	recoverSince = time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)
	recoverInput = workflows.RecoverInput{
		RecoveryID: "rcv_1", ApplicationID: "default", SubscriptionID: "sub_1",
		Since: recoverSince, Until: recoverSince.Add(time.Hour),
	}
)

// The failed deliveries first, page by page from the cursor, then the
// events never delivered; the counts add up and end in the store.
func TestRecoverPagesThroughBothPhasesAndRecordsTheOutcome(t *testing.T) {
	env := newEnv(t)
	var pages []activities.RecoverPageInput
	env.OnActivity(activities.RecoverPageName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecoverPageInput) (activities.RecoverPageResult, error) {
			pages = append(pages, in)
			switch {
			case in.Phase == activities.PhaseFailed && in.AfterID == "":
				return activities.RecoverPageResult{Matched: 200, Resent: 200, AfterID: "d200"}, nil
			case in.Phase == activities.PhaseFailed:
				return activities.RecoverPageResult{Matched: 3, Resent: 3, AfterID: "d203", Done: true}, nil
			}
			return activities.RecoverPageResult{Matched: 2, Resent: 2, AfterID: "e9", AfterTime: recoverSince, Done: true}, nil
		})
	var finished activities.FinishRecoveryInput
	env.OnActivity(activities.FinishRecoveryName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FinishRecoveryInput) error { finished = in; return nil })

	env.ExecuteWorkflow(workflows.RecoverWorkflowName, recoverInput)
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecoverResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.RecoverResult{Status: workflows.RecoveryCompleted, Matched: 205, Resent: 205}, res)
	require.Equal(t, activities.FinishRecoveryInput{RecoveryID: "rcv_1", Status: workflows.RecoveryCompleted, Matched: 205, Resent: 205}, finished)
	require.Len(t, pages, 3)
	require.Equal(t, "d200", pages[1].AfterID)
	require.Equal(t, 200, pages[1].Resent, "each page writes the counts so far")
	require.Equal(t, activities.PhaseUndelivered, pages[2].Phase)
	require.Empty(t, pages[2].AfterID, "the second phase starts from its own beginning")

	v, err := env.QueryWorkflow(workflows.QueryProgress)
	require.NoError(t, err)
	var p workflows.RecoverProgress
	require.NoError(t, v.Get(&p))
	require.Equal(t, workflows.RecoverProgress{ID: "rcv_1", Status: workflows.RecoveryCompleted, Phase: activities.PhaseUndelivered, Matched: 205, Resent: 205}, p)
}

// A cancel stops the recovery at once: the page in flight is cancelled
// and no other starts.
func TestRecoverStopsOnCancel(t *testing.T) {
	env := newEnv(t)
	pages := 0
	env.OnActivity(activities.RecoverPageName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.RecoverPageInput) (activities.RecoverPageResult, error) {
			pages++
			return activities.RecoverPageResult{Matched: 200, Resent: 200, AfterID: "d"}, nil
		}).After(time.Second)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryProgress)
		require.NoError(t, err)
		var p workflows.RecoverProgress
		require.NoError(t, v.Get(&p))
		require.Equal(t, workflows.RecoveryRunning, p.Status)
		env.SignalWorkflow(workflows.SignalCancel, nil)
	}, 2500*time.Millisecond)
	var finished activities.FinishRecoveryInput
	env.OnActivity(activities.FinishRecoveryName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FinishRecoveryInput) error { finished = in; return nil })

	env.ExecuteWorkflow(workflows.RecoverWorkflowName, recoverInput)
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RecoverResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.RecoveryCancelled, res.Status)
	require.Equal(t, 2, pages, "the page in flight when the cancel came is cancelled; no other starts")
	require.Equal(t, 400, res.Resent)
	require.Equal(t, workflows.RecoveryCancelled, finished.Status)
}

// Cancelling the workflow ends it cancelled too, with its outcome written.
func TestRecoverCancelledAsAWorkflowRecordsCancelled(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.RecoverPageName, mock.Anything, mock.Anything).Return(
		activities.RecoverPageResult{Matched: 1, Resent: 1, AfterID: "d"}, nil).After(time.Second)
	env.RegisterDelayedCallback(env.CancelWorkflow, 1500*time.Millisecond)
	var finished activities.FinishRecoveryInput
	env.OnActivity(activities.FinishRecoveryName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FinishRecoveryInput) error { finished = in; return nil })
	env.ExecuteWorkflow(workflows.RecoverWorkflowName, recoverInput)
	require.True(t, env.IsWorkflowCompleted())
	require.Equal(t, workflows.RecoveryCancelled, finished.Status)
}

// A long recovery continues as new between pages, with its cursor and
// counts, so its history stays short however much it resends.
func TestRecoverContinuesAsNewWithItsCursorAndCounts(t *testing.T) {
	env := newEnv(t)
	n := 0
	env.OnActivity(activities.RecoverPageName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecoverPageInput) (activities.RecoverPageResult, error) {
			n++
			return activities.RecoverPageResult{Matched: 200, Resent: 200, AfterID: in.AfterID + "x"}, nil
		})
	env.ExecuteWorkflow(workflows.RecoverWorkflowName, recoverInput)
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "%v", env.GetWorkflowError())
	require.Equal(t, workflows.RecoverWorkflowName, can.WorkflowType.Name)
	var next workflows.RecoverInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, n*200, next.State.Resent)
	require.Equal(t, activities.PhaseFailed, next.State.Phase)
	require.Len(t, next.State.AfterID, n)
	require.Less(t, n, 100, "a run stops after a bounded number of pages")
}

func TestRecoverRefusesAnEmptyWindow(t *testing.T) {
	env := newEnv(t)
	in := recoverInput
	in.Until = in.Since
	env.ExecuteWorkflow(workflows.RecoverWorkflowName, in)
	require.Error(t, env.GetWorkflowError())
}
