package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/workflows"
)

// A purge fixes its cutoff from workflow time when it starts, runs batches
// until the store says none is left, and adds up what they deleted.
func TestRetentionPurgesInBatchesUpToOneCutoff(t *testing.T) {
	env := newEnv(t)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	var cutoffs []time.Time
	batches := []activities.PurgeFinishedResult{
		{Events: 5000, Deliveries: 9000, Attempts: 12000},
		{Events: 5000, Deliveries: 9000, Attempts: 12000},
		{Events: 7, Deliveries: 7, Attempts: 8, Done: true},
	}
	env.OnActivity(activities.PurgeFinishedName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PurgeFinishedInput) (activities.PurgeFinishedResult, error) {
			cutoffs = append(cutoffs, in.Cutoff)
			require.Positive(t, in.MaxEvents)
			require.Positive(t, in.Chunk)
			b := batches[0]
			batches = batches[1:]
			return b, nil
		})
	env.ExecuteWorkflow(workflows.RetentionWorkflowName, workflows.RetentionInput{Retention: 720 * time.Hour})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RetentionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	want := start.Add(-720 * time.Hour)
	require.Equal(t, workflows.RetentionResult{Cutoff: want, Events: 10007, Deliveries: 18007, Attempts: 24008}, res)
	require.Len(t, cutoffs, 3)
	for _, c := range cutoffs {
		require.True(t, want.Equal(c), "every batch purges up to the same cutoff")
	}
}

func TestRetentionRefusesNoRetention(t *testing.T) {
	env := newEnv(t)
	env.ExecuteWorkflow(workflows.RetentionWorkflowName, workflows.RetentionInput{})
	require.Error(t, env.GetWorkflowError())
}

// A long purge continues as new, keeping its cutoff and its count.
func TestRetentionContinuesAsNewWithItsCutoff(t *testing.T) {
	env := newEnv(t)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	calls := 0
	env.OnActivity(activities.PurgeFinishedName, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.PurgeFinishedInput) (activities.PurgeFinishedResult, error) {
			calls++
			return activities.PurgeFinishedResult{Events: 1}, nil
		})
	env.ExecuteWorkflow(workflows.RetentionWorkflowName, workflows.RetentionInput{Retention: time.Hour})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	var next workflows.RetentionInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, calls, next.Events)
	require.Equal(t, calls, next.Batches)
	require.Less(t, calls, 1000, "a run's history stays short")
	require.True(t, start.Add(-time.Hour).Equal(next.Cutoff))
}
