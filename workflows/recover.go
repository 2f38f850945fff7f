package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
)

// Recovery statuses, as the progress query and the API show them.
const (
	RecoveryRunning   = "running"
	RecoveryCompleted = "completed"
	RecoveryCancelled = "cancelled"
)

// Tuning of Recover. A page is one activity that records up to recoverPage
// new deliveries and starts their workflows from the client, so one page
// costs the recovery's history six events (three of the activity, three
// of the workflow task that follows) whatever its size, against two per
// delivery for child workflows. A run continues as new after
// recoverPagesPerRun pages: about 150 events, far from Temporal's limits.
const (
	recoverPage        = 200
	recoverPagesPerRun = 25
)

// RecoverInput starts a recovery: resend what the subscription missed in
// [Since, Until). State carries the progress across continue-as-new; the
// zero value starts from the beginning.
type RecoverInput struct {
	RecoveryID     string
	ApplicationID  string
	SubscriptionID string
	Since, Until   time.Time
	State          RecoverState
}

// RecoverState is where a recovery stands: the phase, its cursor, and the
// counts so far.
type RecoverState struct {
	Phase     string    `json:",omitempty"`
	AfterID   string    `json:",omitempty"`
	AfterTime time.Time `json:",omitzero"`
	Matched   int
	Resent    int
}

// RecoverProgress is the answer of the progress query.
type RecoverProgress struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Phase   string `json:"phase"`
	Matched int    `json:"matched"`
	Resent  int    `json:"resent"`
}

// RecoverResult is how a recovery ended.
type RecoverResult struct {
	Status  string `json:"status"`
	Matched int    `json:"matched"`
	Resent  int    `json:"resent"`
}

// Recover resends, page by page, every failed delivery of a subscription
// whose event was created in the window, then delivers every event of the
// window that matched the subscription but never got a delivery to it
// (it was paused at the time). Each resend is a new delivery with its own
// workflow, whose id is derived from the recovery and what it resends, so
// a recovery that resumes after a crash sends nothing twice. A cancel
// signal (or cancelling the workflow) stops it before its next page; what
// was started by then goes on.
func Recover(ctx workflow.Context, in RecoverInput) (RecoverResult, error) {
	if in.RecoveryID == "" || in.ApplicationID == "" || in.SubscriptionID == "" || !in.Until.After(in.Since) {
		return RecoverResult{}, temporal.NewNonRetryableApplicationError("recovery, application and subscription ids and a window are required", "InvalidInput", nil)
	}
	r := &recoverRun{in: in, state: in.State}
	if r.state.Phase == "" {
		r.state.Phase = activities.PhaseFailed
	}
	r.cancelCh = workflow.GetSignalChannel(ctx, SignalCancel)
	if err := workflow.SetQueryHandler(ctx, QueryProgress, r.progress); err != nil {
		return RecoverResult{}, err
	}
	return r.run(ctx)
}

type recoverRun struct {
	in       RecoverInput
	state    RecoverState
	status   string
	cancelCh workflow.ReceiveChannel
}

func (r *recoverRun) progress() (RecoverProgress, error) {
	status := r.status
	if status == "" {
		status = RecoveryRunning
	}
	return RecoverProgress{ID: r.in.RecoveryID, Status: status, Phase: r.state.Phase, Matched: r.state.Matched, Resent: r.state.Resent}, nil
}

func (r *recoverRun) run(ctx workflow.Context) (RecoverResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		WaitForCancellation: true,
		// A store or Temporal outage is waited out; a cancel still ends
		// the recovery meanwhile.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:     "resend a page of what subscription " + r.in.SubscriptionID + " missed",
	})
	for page := 0; page < recoverPagesPerRun; page++ {
		if r.cancelRequested(ctx) {
			return r.finish(ctx, RecoveryCancelled)
		}
		pctx, cancelPage := workflow.WithCancel(actx)
		fut := workflow.ExecuteActivity(pctx, activities.RecoverPageName, activities.RecoverPageInput{
			RecoveryID: r.in.RecoveryID, ApplicationID: r.in.ApplicationID, SubscriptionID: r.in.SubscriptionID,
			Since: r.in.Since, Until: r.in.Until, Phase: r.state.Phase, AfterID: r.state.AfterID, AfterTime: r.state.AfterTime,
			Limit: recoverPage, TaskQueue: workflow.GetInfo(ctx).TaskQueueName, Matched: r.state.Matched, Resent: r.state.Resent,
		})
		// A cancel does not wait for the page (which may be retrying
		// through a store outage): the page is cancelled, and what it had
		// finished by then still counts.
		cancelled := false
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(fut, func(workflow.Future) {})
		sel.AddReceive(r.cancelCh, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			cancelled = true
		})
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { cancelled = true })
		sel.Select(ctx)
		if cancelled {
			cancelPage()
		}
		var res activities.RecoverPageResult
		err := fut.Get(ctx, &res)
		cancelPage()
		if err == nil {
			r.state.Matched += res.Matched
			r.state.Resent += res.Resent
		}
		switch {
		case cancelled || ctx.Err() != nil:
			return r.finish(ctx, RecoveryCancelled)
		case err != nil:
			return RecoverResult{}, err
		}
		r.state.AfterID, r.state.AfterTime = res.AfterID, res.AfterTime
		switch {
		case res.Gone:
			return r.finish(ctx, RecoveryCompleted)
		case res.Done && r.state.Phase == activities.PhaseFailed:
			r.state.Phase, r.state.AfterID, r.state.AfterTime = activities.PhaseUndelivered, "", time.Time{}
		case res.Done:
			return r.finish(ctx, RecoveryCompleted)
		}
	}
	// A cancel delivered to this run would be lost with it.
	if r.cancelRequested(ctx) {
		return r.finish(ctx, RecoveryCancelled)
	}
	next := r.in
	next.State = r.state
	return RecoverResult{}, workflow.NewContinueAsNewError(ctx, RecoverWorkflowName, next)
}

// cancelRequested reports whether a cancel signal came or the workflow
// itself was cancelled.
func (r *recoverRun) cancelRequested(ctx workflow.Context) bool {
	return r.cancelCh.ReceiveAsync(nil) || ctx.Err() != nil
}

// finish records how the recovery ended, in its row, and returns it.
func (r *recoverRun) finish(ctx workflow.Context, status string) (RecoverResult, error) {
	// A cancelled workflow must still write its outcome.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	r.status = status
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             "record recovery " + status,
	})
	res := RecoverResult{Status: status, Matched: r.state.Matched, Resent: r.state.Resent}
	if err := workflow.ExecuteLocalActivity(lctx, activities.FinishRecoveryName, activities.FinishRecoveryInput{
		RecoveryID: r.in.RecoveryID, Status: status, Matched: res.Matched, Resent: res.Resent,
	}).Get(ctx, nil); err != nil {
		return RecoverResult{}, err
	}
	return res, nil
}

// RecoverStartOptions start the recovery of in on taskQueue under
// workflowID (ids.RecoveryWorkflow): a second start of the same window
// while the first runs joins the first; once it has closed, a new one may
// start.
func RecoverStartOptions(in RecoverInput, workflowID, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       workflowID,
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary: "recover subscription " + in.SubscriptionID + " of app " + in.ApplicationID + " from " +
			in.Since.UTC().Format(time.RFC3339) + " to " + in.Until.UTC().Format(time.RFC3339),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			AttrApplicationID.ValueSet(in.ApplicationID),
			AttrSubscriptionID.ValueSet(in.SubscriptionID),
		),
		// A recovery's tasks and activities take turns with other
		// applications' like its deliveries do.
		Priority: Priority(in.ApplicationID),
	}
}
