package workflows

import (
	"errors"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/backoff"
)

// Delivery statuses, as the contract and the HookflowStatus search
// attribute name them.
const (
	StatusPending    = "pending"
	StatusDelivering = "delivering"
	StatusRetrying   = "retrying"
	StatusSucceeded  = "succeeded"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
)

// RecentAttempts bounds the attempts the status query returns; the full
// (bounded) log is in the store and in the history's activity results.
const RecentAttempts = 10

// attemptHeartbeatTimeout is how long a regular attempt may go without a
// heartbeat before the server takes its worker for dead and runs it again.
// The attempt heartbeats every second while its request is in flight, and
// that heartbeat is also what carries a cancel to it (see Deliver).
const attemptHeartbeatTimeout = 10 * time.Second

// continueAsNewAfter is the history length past which a delivery that keeps
// failing continues as new, far below Temporal's 4,096-event suggestion
// for a workflow whose events are small.
const continueAsNewAfter = 1000

// DeliveryInput starts the delivery of one event to one subscription.
type DeliveryInput struct {
	DeliveryID      string
	EventID         string
	EventType       string
	SubscriptionID  string
	URL             string
	Policy          backoff.Policy
	AttemptTimeout  time.Duration
	FailedRetention time.Duration
	// State carries progress across continue-as-new; nil on a first run.
	State *DeliveryState
}

// DeliveryState is a delivery's progress, as the status query shows it.
type DeliveryState struct {
	DeliveryID    string                     `json:"delivery_id"`
	Status        string                     `json:"status"`
	Attempts      int                        `json:"attempts"`
	RoundAttempts int                        `json:"round_attempts"`
	RoundStart    time.Time                  `json:"round_start"`
	NextAttemptAt time.Time                  `json:"next_attempt_at,omitzero"`
	Recent        []activities.AttemptResult `json:"recent_attempts"`
}

// DeliveryResult is the outcome of a closed delivery.
type DeliveryResult struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

// DeliverySummary says in words what a delivery workflow does, for the list
// of workflows in the Temporal UI.
func DeliverySummary(eventType, eventID, url string) string {
	return "deliver " + eventType + " " + eventID + " to " + url
}

// DeliverySearchAttributes are the search attributes a delivery workflow
// starts with.
func DeliverySearchAttributes(eventType, eventID, subscriptionID, status string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		AttrEventType.ValueSet(eventType),
		AttrEventID.ValueSet(eventID),
		AttrSubscriptionID.ValueSet(subscriptionID),
		AttrStatus.ValueSet(status),
	)
}

// Delivery sends one event to one subscriber until it succeeds, the retry
// policy is exhausted, or a cancel signal arrives. The workflow owns the
// backoff (a timer, not the server's activity retries) so that a retry
// signal can cut a wait short and every attempt shows in history.
func Delivery(ctx workflow.Context, in DeliveryInput) (DeliveryResult, error) {
	r := &deliveryRun{in: in}
	if err := r.setup(ctx); err != nil {
		return DeliveryResult{}, err
	}
	return r.run(ctx)
}

type deliveryRun struct {
	in       DeliveryInput
	state    DeliveryState
	cancelCh workflow.ReceiveChannel
	retryCh  workflow.ReceiveChannel
	// lastRecorded tells whether the store already holds the status the
	// last attempt led to, so the workflow need not write it again.
	lastRecorded bool
}

func (r *deliveryRun) setup(ctx workflow.Context) error {
	if r.in.DeliveryID == "" || r.in.SubscriptionID == "" || r.in.EventID == "" {
		return temporal.NewNonRetryableApplicationError("delivery, event and subscription ids are required", "InvalidInput", nil)
	}
	if r.in.State != nil {
		// A run continued as new or revived by a retry: the run before it
		// (or the delivery's attempt log) already wrote its status.
		r.state = *r.in.State
		r.lastRecorded = true
	} else {
		r.state = DeliveryState{DeliveryID: r.in.DeliveryID, Status: StatusDelivering, RoundStart: workflow.Now(ctx)}
	}
	// Take the signal channels before anything blocks, so no signal is lost.
	r.cancelCh = workflow.GetSignalChannel(ctx, SignalCancel)
	r.retryCh = workflow.GetSignalChannel(ctx, SignalRetry)
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (DeliveryState, error) { return r.state, nil })
}

// outcome is how one attempt or one wait ended.
type outcome int

const (
	attemptSucceeded outcome = iota
	attemptFailed
	deliveryGone
	cancelRequested
	retryRequested
	waitElapsed
)

func (r *deliveryRun) run(ctx workflow.Context) (DeliveryResult, error) {
	// A run continued as new resumes where the last one stopped.
	if r.state.Status == StatusFailed {
		return r.afterGivingUp(ctx)
	}
	if r.state.Attempts > 0 {
		if r.wait(ctx, r.state.NextAttemptAt.Sub(workflow.Now(ctx)), r.backoffSummary()) == cancelRequested {
			return r.cancel(ctx)
		}
	}
	for {
		res, out := r.attempt(ctx)
		switch out {
		case attemptSucceeded:
			return r.finish(ctx, StatusSucceeded)
		case deliveryGone:
			return r.finish(ctx, StatusFailed)
		case cancelRequested:
			return r.cancel(ctx)
		}
		if res.GaveUp {
			r.state.NextAttemptAt = time.Time{}
			if err := r.setStatus(ctx, StatusFailed); err != nil {
				return DeliveryResult{}, err
			}
			return r.afterGivingUp(ctx)
		}
		r.state.NextAttemptAt = res.NextAttemptAt
		if err := r.setStatus(ctx, StatusRetrying); err != nil {
			return DeliveryResult{}, err
		}
		if r.shouldContinueAsNew(ctx) {
			return DeliveryResult{}, r.continueAsNew(ctx)
		}
		if r.wait(ctx, res.NextAttemptAt.Sub(workflow.Now(ctx)), r.backoffSummary()) == cancelRequested {
			return r.cancel(ctx)
		}
	}
}

// attempt makes one attempt and reports how it ended. The first attempt of
// a delivery runs as a local activity: it needs no extra round trip through
// the server, so the common case costs the fewest history events and
// reaches the receiver soonest. Later attempts are regular activities, so
// that each one is an event of its own in the UI.
//
// A cancel signal aborts the attempt in flight. A regular attempt learns of
// it from its next heartbeat (within about a second) and the workflow waits
// until it has stopped. A local attempt runs inside a workflow task, so the
// signal reaches the workflow only when the SDK heartbeats that task, at
// 80% of the workflow task timeout (8 s by default); the attempt's context
// is then cancelled at once. A retry signal during an attempt is answered
// by that attempt and dropped.
func (r *deliveryRun) attempt(ctx workflow.Context) (activities.AttemptResult, outcome) {
	// A cancel that is already here wins over a new request.
	if r.cancelCh.ReceiveAsync(nil) {
		return activities.AttemptResult{}, cancelRequested
	}
	r.state.Attempts++
	r.state.RoundAttempts++
	in := activities.DeliverInput{
		DeliveryID: r.in.DeliveryID, EventID: r.in.EventID, SubscriptionID: r.in.SubscriptionID,
		Attempt: r.state.Attempts, RoundAttempt: r.state.RoundAttempts, RoundStart: r.state.RoundStart,
		Policy: r.in.Policy, Timeout: r.in.AttemptTimeout,
	}
	actx, cancelAttempt := workflow.WithCancel(ctx)
	defer cancelAttempt()
	// Store errors are retried quickly; the receiver's failures are
	// non-retryable errors and come back to this loop at once.
	retry := &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3}
	timeout := r.in.AttemptTimeout + 10*time.Second
	var fut workflow.Future
	if r.state.Attempts == 1 {
		actx = workflow.WithLocalActivityOptions(actx, workflow.LocalActivityOptions{
			StartToCloseTimeout: timeout, RetryPolicy: retry, Summary: "attempt 1 to " + r.in.URL,
		})
		fut = workflow.ExecuteLocalActivity(actx, activities.DeliverName, in)
	} else {
		actx = workflow.WithActivityOptions(actx, workflow.ActivityOptions{
			StartToCloseTimeout: timeout,
			HeartbeatTimeout:    attemptHeartbeatTimeout,
			// On cancel, wait until the attempt has really stopped: its
			// request is aborted and what it logged is final.
			WaitForCancellation: true,
			RetryPolicy:         retry,
			Summary:             "attempt " + strconv.Itoa(in.Attempt) + " to " + r.in.URL,
		})
		fut = workflow.ExecuteActivity(actx, activities.DeliverName, in)
	}

	var (
		res             activities.AttemptResult
		err             error
		done, cancelled bool
	)
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(fut, func(f workflow.Future) {
		err = f.Get(ctx, &res)
		done = true
	})
	sel.AddReceive(r.cancelCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		cancelled = true
	})
	sel.AddReceive(r.retryCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		workflow.GetLogger(ctx).Info("retry signal during an attempt: the attempt in flight answers it", "attempt", in.Attempt)
	})
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { cancelled = true })
	for !done && !cancelled {
		sel.Select(ctx)
	}
	if cancelled {
		cancelAttempt()
		err = fut.Get(ctx, &res)
		if err == nil {
			// The receiver had answered 2xx before the cancel reached the
			// attempt: the delivery succeeded, there is nothing to cancel.
			r.lastRecorded = true
			r.remember(res)
			return res, attemptSucceeded
		}
		var canceled *temporal.CanceledError
		var appErr *temporal.ApplicationError
		if (errors.As(err, &canceled) && canceled.HasDetails() && canceled.Details(&res) == nil) ||
			(errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&res) == nil) {
			r.remember(res)
		}
		return res, cancelRequested
	}
	return r.classify(ctx, in, res, err)
}

// classify turns what an attempt returned into its outcome.
func (r *deliveryRun) classify(ctx workflow.Context, in activities.DeliverInput, res activities.AttemptResult, err error) (activities.AttemptResult, outcome) {
	r.lastRecorded = true
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		r.remember(res)
		return res, attemptSucceeded
	case errors.As(err, &appErr) && appErr.HasDetails():
		if derr := appErr.Details(&res); derr != nil {
			res = activities.AttemptResult{Attempt: in.Attempt, Error: appErr.Error()}
		}
		r.remember(res)
		if appErr.Type() == activities.ErrTypeSubscriptionGone {
			return res, deliveryGone
		}
		return res, attemptFailed
	default:
		// The attempt never reported (a worker died, the store was down):
		// it counts as failed, and the workflow schedules the next one.
		r.lastRecorded = false
		now := workflow.Now(ctx)
		res = activities.AttemptResult{Attempt: in.Attempt, StartedAt: now, Error: err.Error()}
		wait, ok := r.in.Policy.Next(r.state.RoundAttempts, r.state.RoundStart, now, 0)
		res.GaveUp, res.NextAttemptAt = !ok, now.Add(wait)
		r.remember(res)
		return res, attemptFailed
	}
}

func (r *deliveryRun) remember(res activities.AttemptResult) {
	r.state.Recent = append(r.state.Recent, res)
	if len(r.state.Recent) > RecentAttempts {
		r.state.Recent = r.state.Recent[len(r.state.Recent)-RecentAttempts:]
	}
}

func (r *deliveryRun) backoffSummary() string {
	return "backoff before attempt " + strconv.Itoa(r.state.Attempts+1)
}

// wait sleeps for d unless a signal cuts it short. A retry signal ends the
// wait early (attempt now); a cancel signal ends the delivery.
func (r *deliveryRun) wait(ctx workflow.Context, d time.Duration, summary string) outcome {
	if d <= 0 {
		// Nothing to wait for, but a signal that is already here counts:
		// a run revived with signal-with-start when the dead-letter window
		// is zero has its retry waiting.
		switch {
		case r.cancelCh.ReceiveAsync(nil):
			return cancelRequested
		case r.retryCh.ReceiveAsync(nil):
			return retryRequested
		}
		return waitElapsed
	}
	tctx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	out := waitElapsed
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.AddReceive(r.retryCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		out = retryRequested
	})
	sel.AddReceive(r.cancelCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		out = cancelRequested
	})
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { out = cancelRequested })
	sel.Select(ctx)
	return out
}

// afterGivingUp keeps a failed delivery open for FailedRetention, waiting
// for a retry signal that starts a new round of attempts. It stays
// findable with HookflowStatus="failed" meanwhile.
func (r *deliveryRun) afterGivingUp(ctx workflow.Context) (DeliveryResult, error) {
	if !r.lastRecorded {
		if err := r.record(ctx, StatusFailed); err != nil {
			return DeliveryResult{}, err
		}
	}
	switch r.wait(ctx, r.in.FailedRetention, "failed: waiting for a retry or cancel signal") {
	case cancelRequested:
		return r.cancel(ctx)
	case retryRequested:
		r.state.RoundAttempts, r.state.RoundStart = 0, workflow.Now(ctx)
		if err := r.setStatus(ctx, StatusRetrying); err != nil {
			return DeliveryResult{}, err
		}
		return r.run(ctx)
	}
	return DeliveryResult{Status: StatusFailed, Attempts: r.state.Attempts}, nil
}

func (r *deliveryRun) cancel(ctx workflow.Context) (DeliveryResult, error) {
	// The workflow itself may be the thing cancelled; the status must still
	// be written.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	r.state.NextAttemptAt = time.Time{}
	if err := r.record(ctx, StatusCancelled); err != nil {
		return DeliveryResult{}, err
	}
	return r.finish(ctx, StatusCancelled)
}

func (r *deliveryRun) finish(ctx workflow.Context, status string) (DeliveryResult, error) {
	if err := r.setStatus(ctx, status); err != nil {
		return DeliveryResult{}, err
	}
	return DeliveryResult{Status: status, Attempts: r.state.Attempts}, nil
}

// setStatus updates the query state and, only when it really changed, the
// HookflowStatus search attribute: each upsert is a history event.
func (r *deliveryRun) setStatus(ctx workflow.Context, status string) error {
	if r.state.Status == status {
		return nil
	}
	r.state.Status = status
	return workflow.UpsertTypedSearchAttributes(ctx, AttrStatus.ValueSet(status))
}

// record writes a status that no attempt wrote to the store.
func (r *deliveryRun) record(ctx workflow.Context, status string) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		Summary:             "record " + status,
	})
	return workflow.ExecuteLocalActivity(lctx, activities.SetDeliveryStatusName, activities.SetDeliveryStatusInput{
		DeliveryID: r.in.DeliveryID, Status: status,
	}).Get(ctx, nil)
}

func (r *deliveryRun) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	if !info.GetContinueAsNewSuggested() && info.GetCurrentHistoryLength() < continueAsNewAfter {
		return false
	}
	// Signals already delivered to this run would be lost with it.
	return r.cancelCh.Len() == 0 && r.retryCh.Len() == 0
}

func (r *deliveryRun) continueAsNew(ctx workflow.Context) error {
	next := r.in
	state := r.state
	next.State = &state
	return workflow.NewContinueAsNewError(ctx, DeliveryWorkflowName, next)
}
