package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
)

// PurgeFinishedName is the registered name of PurgeFinished.
const PurgeFinishedName = "hookflow.PurgeFinished"

// PurgeFinishedInput is one batch of the retention workflow: up to
// MaxEvents finished events created before Cutoff, deleted Chunk at a time.
type PurgeFinishedInput struct {
	Cutoff    time.Time
	MaxEvents int
	Chunk     int
}

// PurgeFinishedResult counts what the batch deleted; Done is set when no
// finished event older than the cutoff is left.
type PurgeFinishedResult struct {
	Events     int  `json:"events"`
	Deliveries int  `json:"deliveries"`
	Attempts   int  `json:"attempts"`
	Done       bool `json:"done"`
}

// PurgeFinished deletes finished events with their deliveries and attempts
// (store.Retention), one transaction per chunk, heartbeating the progress
// after each, so that a batch holds no long transaction and a worker that
// dies mid-batch is noticed within the heartbeat timeout. A chunk is
// idempotent (what it deleted is gone), so a retried batch just goes on.
func (a *Activities) PurgeFinished(ctx context.Context, in PurgeFinishedInput) (PurgeFinishedResult, error) {
	var res PurgeFinishedResult
	for res.Events < in.MaxEvents {
		chunk := min(in.Chunk, in.MaxEvents-res.Events)
		p, err := a.Store.PurgeFinished(ctx, in.Cutoff, chunk)
		if err != nil {
			return res, fmt.Errorf("purge finished events: %w", err)
		}
		res.Events += p.Events
		res.Deliveries += p.Deliveries
		res.Attempts += p.Attempts
		activity.RecordHeartbeat(ctx, res)
		if p.Events < chunk {
			res.Done = true
			break
		}
	}
	return res, nil
}
