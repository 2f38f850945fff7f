package workflows

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
)

// Delivery statuses, as package delivery defines them, under the names the
// workflow code and its tests use.
const (
	StatusDelivering = delivery.StatusDelivering
	StatusRetrying   = delivery.StatusRetrying
	StatusHeld       = delivery.StatusHeld
	StatusSucceeded  = delivery.StatusSucceeded
	StatusFailed     = delivery.StatusFailed
	StatusCancelled  = delivery.StatusCancelled
)

// RecentAttempts bounds the attempts the status query returns; the full
// (bounded) log is in the store and in the history's activity results.
const RecentAttempts = 10

// attemptHeartbeatTimeout is how long a regular attempt may go without a
// heartbeat before the server takes its worker for dead and runs it again.
// The attempt heartbeats every second while its request is in flight, and
// that heartbeat is also what carries a cancel to it (see Deliver).
const attemptHeartbeatTimeout = 10 * time.Second

// versionRetryJitter marks runs whose workflow-side decisions (attempts
// that never reported) carry retry jitter; see delivery.JitterOf.
const versionRetryJitter = "retry-jitter"

// versionHold marks runs that hold a delivery while its subscription is
// paused (phaseHeld). Before it, an attempt found a paused subscription
// failed like any other; those histories hold no Held result, so the
// marker is spent only on the deliveries that are held.
const versionHold = "hold-paused"

// versionThrottleWait marks runs that wait in the workflow, spending no
// attempt, when the subscription's rate_limit or max_in_flight had no turn
// for an attempt in time (Outcome Wait). Before it such an attempt failed
// and counted; those histories hold no Throttled result.
const versionThrottleWait = "throttle-wait"

// continueAsNewAfter is the history length past which a delivery that keeps
// failing continues as new, far below Temporal's 4,096-event suggestion
// for a workflow whose events are small.
const continueAsNewAfter = 1000

// DeliveryInput starts the delivery of one event to one subscription.
type DeliveryInput struct {
	// ApplicationID is the application of the delivery; empty in deliveries
	// started before applications existed, which belong to default.
	ApplicationID   string `json:",omitempty"`
	DeliveryID      string
	EventID         string
	EventType       string
	SubscriptionID  string
	URL             string
	Policy          delivery.Policy
	AttemptTimeout  time.Duration
	FailedRetention time.Duration
	// State carries progress across continue-as-new; nil on a first run.
	State *DeliveryState
}

// deliveryInputJSON is DeliveryInput as its JSON shows it, with the same
// names as before durations were readable.
type deliveryInputJSON struct {
	ApplicationID   string `json:",omitempty"`
	DeliveryID      string
	EventID         string
	EventType       string
	SubscriptionID  string
	URL             string
	Policy          delivery.PolicyJSON
	AttemptTimeout  delivery.Duration
	FailedRetention delivery.Duration
	State           *DeliveryState
}

// MarshalJSON shows the durations as "15s" and "168h0m0s" where the
// Temporal UI shows the input; inputs recorded with nanoseconds still
// decode (UnmarshalJSON), so running workflows and recorded histories are
// unaffected. An encoding is no command, so it needs no GetVersion.
func (in DeliveryInput) MarshalJSON() ([]byte, error) {
	return json.Marshal(in.wire())
}

// wire is in as its JSON shows it. The fan-out hands it to the SDK as it
// is: encoding it directly skips the validation pass that a MarshalJSON
// result gets, which 500 children a workflow task would feel.
func (in DeliveryInput) wire() deliveryInputJSON {
	return deliveryInputJSON{
		ApplicationID: in.ApplicationID, DeliveryID: in.DeliveryID, EventID: in.EventID, EventType: in.EventType, SubscriptionID: in.SubscriptionID, URL: in.URL,
		Policy: in.Policy.JSON(), AttemptTimeout: delivery.Duration(in.AttemptTimeout), FailedRetention: delivery.Duration(in.FailedRetention),
		State: in.State,
	}
}

// UnmarshalJSON reads durations as "15s" or as nanoseconds.
func (in *DeliveryInput) UnmarshalJSON(b []byte) error {
	var j deliveryInputJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*in = DeliveryInput{
		ApplicationID: j.ApplicationID, DeliveryID: j.DeliveryID, EventID: j.EventID, EventType: j.EventType, SubscriptionID: j.SubscriptionID, URL: j.URL,
		Policy: j.Policy.Policy(), AttemptTimeout: time.Duration(j.AttemptTimeout), FailedRetention: time.Duration(j.FailedRetention),
		State: j.State,
	}
	return nil
}

// DeliveryState is a delivery's progress, as the status query shows it.
type DeliveryState struct {
	DeliveryID    string    `json:"delivery_id"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	RoundAttempts int       `json:"round_attempts"`
	RoundStart    time.Time `json:"round_start"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	// HeldUntil is the end of the hold the delivery is in: zero unless its
	// subscription was paused at its last attempt.
	HeldUntil time.Time          `json:"held_until,omitzero"`
	Recent    []delivery.Attempt `json:"recent_attempts"`
}

// DeliveryResult is the outcome of a closed delivery.
type DeliveryResult struct {
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

// Delivery sends one event to one subscriber until it succeeds, the retry
// policy is exhausted, or a cancel signal arrives. The workflow owns the
// waits (a timer, not the server's activity retries) so that a retry
// signal can cut one short and every attempt shows in history; what
// follows each attempt is decided by delivery.Decide, in the attempt
// activity (see Deliver) or, for an attempt that never reported, here.
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
	wakeCh   workflow.ReceiveChannel
}

func (r *deliveryRun) setup(ctx workflow.Context) error {
	if r.in.DeliveryID == "" || r.in.SubscriptionID == "" || r.in.EventID == "" {
		return temporal.NewNonRetryableApplicationError("delivery, event and subscription ids are required", "InvalidInput", nil)
	}
	if r.in.State != nil {
		// A run continued as new or revived by a retry: the run before it
		// (or the delivery's attempt log) already wrote its status.
		r.state = *r.in.State
	} else {
		r.state = DeliveryState{DeliveryID: r.in.DeliveryID, Status: StatusDelivering, RoundStart: workflow.Now(ctx)}
	}
	// Take the signal channels before anything blocks, so no signal is lost.
	r.cancelCh = workflow.GetSignalChannel(ctx, SignalCancel)
	r.retryCh = workflow.GetSignalChannel(ctx, SignalRetry)
	r.wakeCh = workflow.GetSignalChannel(ctx, delivery.SignalWake)
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (DeliveryState, error) { return r.state, nil })
}

// phase is where a delivery stands between two steps of its loop.
type phase int

const (
	// phaseAttempt: an attempt is due now.
	phaseAttempt phase = iota
	// phaseBackoff: the next attempt is due at state.NextAttemptAt; a retry
	// or wake signal brings it forward, a cancel signal ends the delivery.
	phaseBackoff
	// phaseHeld: the subscription is paused; the delivery waits, spending
	// no attempt, for a wake (it resumed) or retry signal, or the end of
	// the hold at state.HeldUntil; then it attempts, and the attempt says
	// whether it goes on, holds again or gives up.
	phaseHeld
	// phaseDeadLetter: the round gave up; the delivery waits FailedRetention
	// for a retry signal (a new round) or a cancel signal.
	phaseDeadLetter
	// phaseCancelling: a cancel came; it is recorded and the delivery ends.
	phaseCancelling
	// phaseDone: the delivery ended with state.Status.
	phaseDone
)

// run is the delivery's loop: each pass takes one step from the phase it
// is in to the next. Steps that wait (backoff, dead letter) only wait and
// say what ended the wait; schedule alone turns an attempt's decision into
// the next phase.
func (r *deliveryRun) run(ctx workflow.Context) (DeliveryResult, error) {
	p := r.resume()
	for {
		var err error
		switch p {
		case phaseAttempt:
			d, recorded := r.attempt(ctx)
			p, err = r.schedule(ctx, d, recorded)
		case phaseBackoff:
			p = phaseAttempt
			if r.wait(ctx, r.state.NextAttemptAt.Sub(workflow.Now(ctx)), r.backoffSummary(), true) == cancelRequested {
				p = phaseCancelling
			}
		case phaseHeld:
			p = phaseAttempt
			summary := "held: subscription paused; waiting for it to resume, at most until " + r.state.HeldUntil.UTC().Format(time.RFC3339)
			if r.wait(ctx, r.state.HeldUntil.Sub(workflow.Now(ctx)), summary, true) == cancelRequested {
				p = phaseCancelling
			}
		case phaseDeadLetter:
			p, err = r.deadLetter(ctx)
		case phaseCancelling:
			p, err = r.cancel(ctx)
		case phaseDone:
			return DeliveryResult{Status: r.state.Status, Attempts: r.state.Attempts}, nil
		}
		if err != nil {
			return DeliveryResult{}, err
		}
	}
}

// resume is the phase a run starts in: a run continued as new, or revived,
// goes on where the last one stopped.
func (r *deliveryRun) resume() phase {
	switch {
	case r.state.Status == StatusFailed:
		return phaseDeadLetter
	case r.state.Status == StatusHeld:
		return phaseHeld
	case r.state.Attempts > 0:
		return phaseBackoff
	}
	return phaseAttempt
}

// schedule moves the delivery on after an attempt's decision: it sets the
// status (query and search attribute), writes to the store what the
// attempt did not write (recorded false: it never reported), and says the
// next phase. It is the one path by which the workflow records a status.
func (r *deliveryRun) schedule(ctx workflow.Context, d delivery.Decision, recorded bool) (phase, error) {
	switch d.Outcome {
	case delivery.Cancel:
		return phaseCancelling, nil
	case delivery.Succeed, delivery.Gone:
		return phaseDone, r.setStatus(ctx, d.Status)
	case delivery.Wait:
		// The status stays as it was: the delivery is still due.
		workflow.GetVersion(ctx, versionThrottleWait, workflow.DefaultVersion, 1)
		r.state.NextAttemptAt = d.NextAttemptAt
		if r.shouldContinueAsNew(ctx) {
			return phaseDone, r.continueAsNew(ctx)
		}
		return phaseBackoff, nil
	case delivery.Hold:
		// Only new runs meet a Held result (see versionHold); the marker
		// records that this run knows the held phase.
		workflow.GetVersion(ctx, versionHold, workflow.DefaultVersion, 1)
		r.state.HeldUntil, r.state.NextAttemptAt = d.NextAttemptAt, d.NextAttemptAt
		if err := r.setStatus(ctx, d.Status); err != nil {
			return phaseDone, err
		}
		if r.shouldContinueAsNew(ctx) {
			return phaseDone, r.continueAsNew(ctx)
		}
		return phaseHeld, nil
	case delivery.GiveUp:
		r.state.NextAttemptAt = time.Time{}
		if err := r.setStatus(ctx, d.Status); err != nil {
			return phaseDone, err
		}
		// Only giving up is written for an attempt that never reported:
		// a failed delivery is what operators look for, and the next
		// attempt of a retrying one writes its own status soon.
		if !recorded {
			if err := r.record(ctx, d.Status); err != nil {
				return phaseDone, err
			}
		}
		return phaseDeadLetter, nil
	}
	r.state.NextAttemptAt = d.NextAttemptAt
	if err := r.setStatus(ctx, d.Status); err != nil {
		return phaseDone, err
	}
	if r.shouldContinueAsNew(ctx) {
		return phaseDone, r.continueAsNew(ctx)
	}
	return phaseBackoff, nil
}

// deadLetter keeps a failed delivery open for FailedRetention, waiting for
// a retry signal that starts a new round of attempts. It stays findable
// with HookflowStatus="failed" meanwhile.
func (r *deliveryRun) deadLetter(ctx workflow.Context) (phase, error) {
	switch r.wait(ctx, r.in.FailedRetention, "failed: waiting for a retry or cancel signal", false) {
	case cancelRequested:
		return phaseCancelling, nil
	case retryRequested:
		r.state.RoundAttempts, r.state.RoundStart = 0, workflow.Now(ctx)
		// NextAttemptAt is zero: the backoff ends at once, unless a
		// signal already waits.
		return phaseBackoff, r.setStatus(ctx, StatusRetrying)
	}
	return phaseDone, nil
}

// cancelDecision is the decision that follows a cancel signal.
var cancelDecision = delivery.Decision{Outcome: delivery.Cancel, Status: StatusCancelled}

// attempt makes one attempt and returns the decision that followed it, and
// whether the attempt recorded it in the store itself. The first attempt
// of a delivery runs as a local activity: it needs no extra round trip
// through the server, so the common case costs the fewest history events
// and reaches the receiver soonest. Later attempts are regular activities,
// so that each one is an event of its own in the UI.
//
// A cancel signal aborts the attempt in flight. A regular attempt learns of
// it from its next heartbeat (within about a second) and the workflow waits
// until it has stopped. A local attempt runs inside a workflow task, so the
// signal reaches the workflow only when the SDK heartbeats that task, at
// 80% of the workflow task timeout (8 s by default); the attempt's context
// is then cancelled at once. A retry signal during an attempt is answered
// by that attempt and dropped.
func (r *deliveryRun) attempt(ctx workflow.Context) (delivery.Decision, bool) {
	// A cancel that is already here wins over a new request.
	if r.cancelCh.ReceiveAsync(nil) {
		return cancelDecision, false
	}
	// This attempt reads the subscription as it is now: it answers every
	// wake that came before it.
	for r.wakeCh.ReceiveAsync(nil) {
	}
	r.state.Attempts++
	r.state.RoundAttempts++
	in := activities.DeliverInput{
		ApplicationID: r.in.ApplicationID, DeliveryID: r.in.DeliveryID, EventID: r.in.EventID, SubscriptionID: r.in.SubscriptionID,
		Attempt: r.state.Attempts, RoundAttempt: r.state.RoundAttempts, RoundStart: r.state.RoundStart,
		Policy: r.in.Policy, Timeout: r.in.AttemptTimeout, HeldUntil: r.state.HeldUntil,
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
			// Activities inherit their workflow's priority; set here as
			// well, so that the retries of deliveries started before
			// fairness keys existed take turns with the rest too.
			Priority: Priority(r.in.ApplicationID),
		})
		fut = workflow.ExecuteActivity(actx, activities.DeliverName, in)
	}

	var (
		res                   delivery.Attempt
		err                   error
		done, cancelRequested bool
	)
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(fut, func(f workflow.Future) {
		err = f.Get(ctx, &res)
		done = true
	})
	sel.AddReceive(r.cancelCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		cancelRequested = true
	})
	sel.AddReceive(r.retryCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		workflow.GetLogger(ctx).Info("retry signal during an attempt: the attempt in flight answers it", "attempt", in.Attempt)
	})
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { cancelRequested = true })
	for !done && !cancelRequested {
		sel.Select(ctx)
	}
	if cancelRequested {
		cancelAttempt()
		err = fut.Get(ctx, &res)
		if err == nil {
			// The receiver had answered 2xx before the cancel reached the
			// attempt: the delivery succeeded, there is nothing to cancel.
			r.remember(res)
			return delivery.Decision{Outcome: delivery.Succeed, Status: StatusSucceeded}, true
		}
		var canceled *temporal.CanceledError
		var appErr *temporal.ApplicationError
		if (errors.As(err, &canceled) && canceled.HasDetails() && canceled.Details(&res) == nil) ||
			(errors.As(err, &appErr) && appErr.HasDetails() && appErr.Details(&res) == nil) {
			r.remember(res)
		}
		return cancelDecision, false
	}
	return r.reported(ctx, in, res, err)
}

// reported reads the decision an attempt reported (see Activities.Deliver)
// and remembers the attempt. An attempt that never reported (a worker
// died, the store was down) is decided here, by the same delivery.Decide,
// as a failure at the time the workflow learnt of it.
func (r *deliveryRun) reported(ctx workflow.Context, in activities.DeliverInput, res delivery.Attempt, err error) (delivery.Decision, bool) {
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		r.state.HeldUntil = time.Time{}
		r.remember(res)
		return delivery.Decision{Outcome: delivery.Succeed, Status: StatusSucceeded}, true
	case errors.As(err, &appErr) && appErr.HasDetails():
		if derr := appErr.Details(&res); derr != nil {
			res = delivery.Attempt{Attempt: in.Attempt, Error: appErr.Error()}
		}
		switch appErr.Type() {
		case activities.ErrTypeHeld:
			// Nothing was sent: the attempt is given back.
			r.state.Attempts--
			r.state.RoundAttempts--
			return delivery.Decision{Outcome: delivery.Hold, Status: StatusHeld, NextAttemptAt: res.NextAttemptAt}, true
		case activities.ErrTypeThrottled:
			r.state.Attempts--
			r.state.RoundAttempts--
			return delivery.Decision{Outcome: delivery.Wait, NextAttemptAt: res.NextAttemptAt}, true
		}
		r.state.HeldUntil = time.Time{}
		r.remember(res)
		switch {
		case appErr.Type() == activities.ErrTypeSubscriptionGone:
			return delivery.Decision{Outcome: delivery.Gone, Status: StatusFailed}, true
		case res.GaveUp:
			return delivery.Decision{Outcome: delivery.GiveUp, Status: StatusFailed}, true
		}
		return delivery.Decision{Outcome: delivery.Retry, Status: StatusRetrying, NextAttemptAt: res.NextAttemptAt}, true
	}
	now := workflow.Now(ctx)
	res = delivery.Attempt{Attempt: in.Attempt, StartedAt: now, Kind: delivery.KindNoReport, Error: err.Error()}
	round := delivery.Round{Attempts: r.state.RoundAttempts, Start: r.state.RoundStart}
	// Jitter changes the timer that follows, so runs that decided such an
	// attempt before it existed keep the plain wait on replay. The marker
	// is spent only here, on the rare attempt that never reported.
	if workflow.GetVersion(ctx, versionRetryJitter, workflow.DefaultVersion, 1) >= 1 {
		round.Jitter = delivery.JitterOf(r.in.DeliveryID, in.Attempt)
	}
	d := delivery.Decide(r.in.Policy, round, res.Facts(now))
	d.Apply(&res)
	r.remember(res)
	return d, false
}

func (r *deliveryRun) remember(res delivery.Attempt) {
	r.state.Recent = append(r.state.Recent, res)
	if len(r.state.Recent) > RecentAttempts {
		r.state.Recent = r.state.Recent[len(r.state.Recent)-RecentAttempts:]
	}
}

func (r *deliveryRun) backoffSummary() string {
	return "backoff before attempt " + strconv.Itoa(r.state.Attempts+1)
}

// waitEnd is what ended a wait.
type waitEnd int

const (
	waitElapsed waitEnd = iota
	retryRequested
	cancelRequested
)

// wait sleeps for d unless a signal cuts it short. A retry signal ends the
// wait early (attempt now), and so does a wake signal when wakeable; a
// cancel signal ends the delivery. A wait that is not wakeable (the dead
// letter) takes wake signals and goes on waiting: a wake never starts a
// new round.
func (r *deliveryRun) wait(ctx workflow.Context, d time.Duration, summary string, wakeable bool) waitEnd {
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
	out, woken, fired := waitElapsed, false, false
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) { fired = true })
	sel.AddReceive(r.retryCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		out = retryRequested
	})
	sel.AddReceive(r.cancelCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		out = cancelRequested
	})
	sel.AddReceive(r.wakeCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		woken = true
	})
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { out = cancelRequested })
	for {
		sel.Select(ctx)
		switch {
		case out != waitElapsed:
			return out
		case woken && wakeable:
			return retryRequested
		case fired:
			return waitElapsed
		}
		woken = false
	}
}

// cancel records a cancel and ends the delivery cancelled.
func (r *deliveryRun) cancel(ctx workflow.Context) (phase, error) {
	// The workflow itself may be the thing cancelled; the status must still
	// be written.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	r.state.NextAttemptAt = time.Time{}
	if err := r.record(ctx, StatusCancelled); err != nil {
		return phaseDone, err
	}
	return phaseDone, r.setStatus(ctx, StatusCancelled)
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
	return r.cancelCh.Len() == 0 && r.retryCh.Len() == 0 && r.wakeCh.Len() == 0
}

func (r *deliveryRun) continueAsNew(ctx workflow.Context) error {
	next := r.in
	state := r.state
	next.State = &state
	return workflow.NewContinueAsNewError(ctx, DeliveryWorkflowName, next)
}
