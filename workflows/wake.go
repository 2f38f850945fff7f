package workflows

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/ids"
)

// WakeWorkflowName wakes a subscription's waiting deliveries after it was
// resumed or disabled.
const WakeWorkflowName = "hookflow.Wake"

const (
	// wakePageSize is how many deliveries one WakePage signals.
	wakePageSize = 500
	// wakePagesPerRun bounds a run's history (six events a page) far below
	// Temporal's limits; a wake-up of more continues as new.
	wakePagesPerRun = 100
)

// WakeInput is a wake-up and, across continue-as-new, how far it got.
type WakeInput struct {
	activities.Wake
	// StatusIndex is the status of Wake.Statuses being woken, After the
	// last delivery woken in it, Woken how many were woken so far.
	StatusIndex int    `json:",omitempty"`
	After       string `json:",omitempty"`
	Woken       int    `json:",omitempty"`
}

// WakeResult is how many deliveries a wake-up signalled.
type WakeResult struct {
	Woken int `json:"woken"`
}

// Wake signals wake to every delivery of a subscription that waits in one
// of the statuses of in.Statuses, a page at a time, each page one activity
// that sends its signals through the client (see WakePage). Held
// deliveries of a resumed subscription then send within seconds, under
// the subscription's rate limit and concurrency cap, which their attempts
// obey like any other; the unfinished deliveries of a disabled one end
// failed at once. Thousands of deliveries cost the wake-up a few events a
// page, not thousands of signals in one request or one history.
func Wake(ctx workflow.Context, in WakeInput) (WakeResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
		Summary:             "wake deliveries of " + in.SubscriptionID,
	})
	statuses := in.Statuses()
	for pages := 0; in.StatusIndex < len(statuses); pages++ {
		if pages == wakePagesPerRun {
			return WakeResult{}, workflow.NewContinueAsNewError(ctx, WakeWorkflowName, in)
		}
		var res activities.WakePageResult
		if err := workflow.ExecuteActivity(ctx, activities.WakePageName, activities.WakePageInput{
			ApplicationID: in.ApplicationID, SubscriptionID: in.SubscriptionID, Status: statuses[in.StatusIndex],
			After: in.After, Limit: wakePageSize,
		}).Get(ctx, &res); err != nil {
			return WakeResult{}, err
		}
		in.Woken += res.Woken
		in.After = res.After
		if res.Done {
			in.StatusIndex++
			in.After = ""
		}
	}
	return WakeResult{Woken: in.Woken}, nil
}

// StartWake starts the wake-up w on taskQueue. A wake-up of the same
// change that runs or ran already counts as started. It is an
// activities.WakeStarter.
func StartWake(ctx context.Context, c client.Client, taskQueue string, w activities.Wake) error {
	app := applicationOf(w.ApplicationID)
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    ids.WakeWorkflow(app, w.SubscriptionID, w.Why, w.At.UnixMicro()),
		TaskQueue:             taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         w.Why + ": wake the waiting deliveries of " + w.SubscriptionID + " for app " + app,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrApplicationID.ValueSet(app), AttrSubscriptionID.ValueSet(w.SubscriptionID)),
		Priority: Priority(app),
	}, WakeWorkflowName, WakeInput{Wake: w})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return nil
	}
	return err
}

var _ activities.WakeStarter = StartWake
