package workflows_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

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

// delivery-unreported-jitter.json (e2e TestAnAttemptThatNeverReportedIsDecidedWithJitter)
// is the one recorded history of a workflow-side decision with jitter: an
// attempt that never reported, decided behind GetVersion("retry-jitter")
// at version 1. Its marker must stay in it, or the replay above would no
// longer cover that branch.
func TestReplayCoversRetryJitter(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "histories", "delivery-unreported-jitter.json"))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	versions := map[string]int{}
	for _, ev := range h.GetEvents() {
		m := ev.GetMarkerRecordedEventAttributes()
		if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED || m.GetMarkerName() != "Version" {
			continue
		}
		var change string
		var version int
		dc := converter.GetDefaultDataConverter()
		require.NoError(t, dc.FromPayloads(m.GetDetails()["change-id"], &change))
		require.NoError(t, dc.FromPayloads(m.GetDetails()["version"], &version))
		versions[change] = version
	}
	require.Contains(t, versions, "retry-jitter")
	require.Equal(t, 1, versions["retry-jitter"])
}
