package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/workflows"
)

// RetentionSchedule describes the hookflow-retention schedule.
type RetentionSchedule struct {
	TaskQueue string
	// Retention is HOOKFLOW_RETENTION; zero keeps every record, and the
	// schedule is removed.
	Retention time.Duration
	// Interval is HOOKFLOW_RETENTION_INTERVAL, how often a purge starts.
	Interval time.Duration
}

// EnsureRetentionSchedule makes the schedule exist as s describes it:
// created when missing, its interval and retention updated when they
// changed (every worker that starts runs this, so the last one started
// wins), deleted when retention is off. A purge still running when the
// next is due makes the next skip (overlap policy skip), so purges never
// run side by side.
func EnsureRetentionSchedule(ctx context.Context, c client.Client, s RetentionSchedule) error {
	id := workflows.RetentionScheduleID(s.TaskQueue)
	sc := c.ScheduleClient()
	if s.Retention <= 0 {
		err := sc.GetHandle(ctx, id).Delete(ctx)
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("delete schedule %s: %w", id, err)
		}
		return nil
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Interval}}}
	action := &client.ScheduleWorkflowAction{
		// The schedule appends the start time to this id.
		ID:        id,
		Workflow:  workflows.RetentionWorkflowName,
		Args:      []any{workflows.RetentionInput{Retention: s.Retention}},
		TaskQueue: s.TaskQueue,
		// A purge that cannot finish in a day is stuck; the next one
		// starts over from its own cutoff.
		WorkflowRunTimeout: 24 * time.Hour,
		StaticSummary:      "purge finished records older than " + s.Retention.String(),
	}
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note: "created by Hookflow; HOOKFLOW_RETENTION and HOOKFLOW_RETENTION_INTERVAL set it at every worker start",
	})
	if err == nil || !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
		return nil
	}
	err = sc.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			sched.Spec = &spec
			sched.Action = action
			if sched.Policy == nil {
				sched.Policy = &client.SchedulePolicies{}
			}
			sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", id, err)
	}
	return nil
}

// KeepRetentionSchedule runs EnsureRetentionSchedule until it succeeds or
// ctx ends, waiting longer after each failure: a worker that starts while
// Temporal is unreachable sets the schedule up once it is back.
func KeepRetentionSchedule(ctx context.Context, c client.Client, s RetentionSchedule, log *slog.Logger) {
	wait := time.Second
	for {
		err := EnsureRetentionSchedule(ctx, c, s)
		if err == nil {
			log.Info("retention schedule set", "schedule", workflows.RetentionScheduleID(s.TaskQueue),
				"retention", s.Retention.String(), "interval", s.Interval.String())
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("cannot set the retention schedule; trying again", "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}
