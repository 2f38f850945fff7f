package workflows_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/workflows"
)

// Histories recorded from the integration tests (go test ./e2e
// -update-histories). Every released shape of a workflow keeps its file:
// a change that breaks replay of one must go behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workflows.Register(r)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}

// The replay test bites: a Delivery that sleeps before its first attempt
// does not match the recorded history and must be refused.
func TestReplayRefusesAChangedWorkflow(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(func(ctx workflow.Context, in workflows.DeliveryInput) (workflows.DeliveryResult, error) {
		if err := workflow.Sleep(ctx, 1); err != nil {
			return workflows.DeliveryResult{}, err
		}
		return workflows.Delivery(ctx, in)
	}, workflow.RegisterOptions{Name: workflows.DeliveryWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.Event, workflow.RegisterOptions{Name: workflows.EventWorkflowName})
	err := r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", "histories", "delivery-first-try.json"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "nondeterministic")
}

// And for the retention purge: one that sleeps before its first batch
// does not match retention-purge.json.
func TestReplayRefusesAChangedRetention(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(func(ctx workflow.Context, in workflows.RetentionInput) (workflows.RetentionResult, error) {
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return workflows.RetentionResult{}, err
		}
		return workflows.Retention(ctx, in)
	}, workflow.RegisterOptions{Name: workflows.RetentionWorkflowName})
	err := r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", "histories", "retention-purge.json"))
	// The timer takes the activity's place: the SDK reports it as an
	// illegal state (TMPRL1100), its kind of nondeterminism error.
	require.ErrorContains(t, err, "TMPRL1100")
}

// Every versioned branch of the workflows has a recorded history that
// takes it, at the version it was released with: its marker must stay in
// that file, or the replay above would no longer cover the branch.
func TestReplayCoversEveryVersionedBranch(t *testing.T) {
	for file, change := range map[string]string{
		"delivery-unreported-jitter.json": "retry-jitter",
		"delivery-held-then-resumed.json": "hold-paused",
		"delivery-throttled-wait.json":    "throttle-wait",
		"event-fan-out-last-batch.json":   "pause-for-child-starts",
	} {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "histories", file))
			require.NoError(t, err)
			defer func() { _ = f.Close() }()
			h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)
			versions, err := testenv.VersionMarkers(h)
			require.NoError(t, err)
			require.Equal(t, 1, versions[change], "%s takes the branch of %s at version 1", file, change)
		})
	}
}
