package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
)

// RetentionInput is what the hookflow-retention schedule starts Retention
// with. Cutoff and the counts carry the progress across continue-as-new;
// the first run sets Cutoff from its own start.
type RetentionInput struct {
	// Retention is HOOKFLOW_RETENTION: finished events older than this
	// are purged.
	Retention time.Duration
	Cutoff    time.Time `json:",omitempty"`
	Events    int       `json:",omitempty"`
	Batches   int       `json:",omitempty"`
}

// RetentionResult counts what a whole purge deleted.
type RetentionResult struct {
	Cutoff     time.Time `json:"cutoff"`
	Events     int       `json:"events"`
	Deliveries int       `json:"deliveries"`
	Attempts   int       `json:"attempts"`
}

// Tuning of Retention. A batch is one activity that deletes up to
// retentionBatch events, retentionChunk per transaction; a run continues as
// new after retentionBatchesPerRun batches (six history events each), far
// below Temporal's 4,096-event warning.
const (
	retentionBatch         = 5000
	retentionChunk         = 500
	retentionBatchesPerRun = 200
)

// Retention purges the store of finished events, deliveries and attempts
// older than in.Retention, batch by batch, until none is left. The cutoff
// is fixed when the purge starts (workflow time, in its history), so that
// a purge that continues as new or is retried deletes up to the same point.
// Nothing unfinished is deleted: the store's condition is checked in the
// delete itself.
func Retention(ctx workflow.Context, in RetentionInput) (RetentionResult, error) {
	if in.Retention <= 0 {
		return RetentionResult{}, temporal.NewNonRetryableApplicationError("retention must be positive", "InvalidInput", nil)
	}
	if in.Cutoff.IsZero() {
		in.Cutoff = workflow.Now(ctx).Add(-in.Retention).UTC()
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		Summary:             "purge finished events created before the cutoff",
	})
	res := RetentionResult{Cutoff: in.Cutoff, Events: in.Events}
	for batch := 0; batch < retentionBatchesPerRun; batch++ {
		var b activities.PurgeFinishedResult
		if err := workflow.ExecuteActivity(actx, activities.PurgeFinishedName, activities.PurgeFinishedInput{
			Cutoff: in.Cutoff, MaxEvents: retentionBatch, Chunk: retentionChunk,
		}).Get(ctx, &b); err != nil {
			return res, err
		}
		res.Events += b.Events
		res.Deliveries += b.Deliveries
		res.Attempts += b.Attempts
		in.Batches++
		if b.Done {
			workflow.GetLogger(ctx).Info("retention purge done", "cutoff", in.Cutoff, "events", res.Events, "batches", in.Batches)
			return res, nil
		}
	}
	in.Events = res.Events
	return res, workflow.NewContinueAsNewError(ctx, RetentionWorkflowName, in)
}
