package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/ids"
)

// FanOutBatch is how many children one run of Event starts before it
// continues as new. Children are abandoned, not awaited, but each stays a
// pending child of the run that started it until it closes; Temporal
// refuses more than 2,000 of those per run, and fails the workflow task
// forever, silently, past it. 500 per run keeps far below that limit and
// keeps each run's history near 1,000 events.
const FanOutBatch = 500

// EventInput starts the fan-out of one event. After and Started carry the
// progress across continue-as-new.
type EventInput struct {
	EventID   string
	EventType string
	After     string
	Started   int
}

// EventStatus is what the status query of an event workflow returns.
type EventStatus struct {
	EventID    string `json:"event_id"`
	Deliveries int    `json:"deliveries"`
	Cancelled  bool   `json:"cancelled"`
	Done       bool   `json:"done"`
}

// EventResult is the outcome of a finished fan-out.
type EventResult struct {
	Deliveries int  `json:"deliveries"`
	Cancelled  bool `json:"cancelled"`
	// CancelledDeliveries counts the unfinished deliveries a cancel signal
	// stopped.
	CancelledDeliveries int `json:"cancelled_deliveries,omitempty"`
}

// Event starts one Delivery child per active subscription matching the
// event type, FanOutBatch at a time, and ends as soon as all are started:
// deliveries are abandoned children that outlive it, so nothing waits on a
// slow receiver and one event can reach any number of subscribers.
//
// A cancel signal stops the fan-out and then cancels every unfinished
// delivery of the event, those started by earlier runs included. The
// workflow usually closes within milliseconds, so the API's
// POST /v1/events/{id}/cancel does the same itself once it has closed.
func Event(ctx workflow.Context, in EventInput) (EventResult, error) {
	r := &eventRun{in: in, status: EventStatus{EventID: in.EventID, Deliveries: in.Started}}
	if err := r.setup(ctx); err != nil {
		return EventResult{}, err
	}
	return r.run(ctx)
}

type eventRun struct {
	in       EventInput
	status   EventStatus
	cancelCh workflow.ReceiveChannel
}

func (r *eventRun) setup(ctx workflow.Context) error {
	if r.in.EventID == "" || r.in.EventType == "" {
		return temporal.NewNonRetryableApplicationError("event id and type are required", "InvalidInput", nil)
	}
	r.cancelCh = workflow.GetSignalChannel(ctx, SignalCancel)
	return workflow.SetQueryHandler(ctx, QueryStatus, func() (EventStatus, error) { return r.status, nil })
}

func (r *eventRun) run(ctx workflow.Context) (EventResult, error) {
	if r.cancelled(ctx) {
		return r.cancelDeliveries(ctx)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             "find subscribers of " + r.in.EventType,
	})
	var page activities.FindTargetsResult
	err := workflow.ExecuteLocalActivity(lctx, activities.FindTargetsName, activities.FindTargetsInput{
		EventID: r.in.EventID, EventType: r.in.EventType, After: r.in.After, Limit: FanOutBatch,
	}).Get(ctx, &page)
	if err != nil {
		return EventResult{}, err
	}

	futures := make([]workflow.ChildWorkflowFuture, 0, len(page.Targets))
	for _, t := range page.Targets {
		if r.cancelled(ctx) {
			break
		}
		futures = append(futures, r.startDelivery(ctx, t))
	}
	// Wait until each child has started: an abandoned child must exist
	// before its parent closes or continues as new.
	if err := r.awaitStarted(ctx, futures, page.Targets); err != nil {
		return EventResult{}, err
	}

	// A cancel that came while the children were starting: every child
	// this run will ever start has started, so all of them get the cancel.
	if r.cancelled(ctx) {
		return r.cancelDeliveries(ctx)
	}
	if !page.Done && len(page.Targets) > 0 {
		next := r.in
		next.After = page.Targets[len(page.Targets)-1].SubscriptionID
		next.Started = r.status.Deliveries
		return EventResult{}, workflow.NewContinueAsNewError(ctx, EventWorkflowName, next)
	}
	r.status.Done = true
	return EventResult{Deliveries: r.status.Deliveries, Cancelled: r.status.Cancelled}, nil
}

// awaitStarted waits until every child has started: an abandoned child
// that has not started when its parent's run closes is never started.
//
// Every child that starts, and every child that completes while the run is
// open (first-try deliveries complete within milliseconds), is an event
// that asks for a workflow task. Answered one at a time, a batch of 500
// children costs several hundred workflow tasks. So the run holds each task
// open for a short pause (a local activity) sized, from the rate events
// arrive at, to gather about twenty, and handles them together in the next
// task: a batch then costs a handful of tasks. The pause stays well under
// the 100 events the server buffers for a task in flight.
//
// Before it closes, a run that started many children also waits a moment
// for them to complete: a child completing while the run's last task is in
// flight makes the server refuse the close (UnhandledCommand), which costs
// a failed task and a replay of the whole history.
func (r *eventRun) awaitStarted(ctx workflow.Context, futures []workflow.ChildWorkflowFuture, targets []activities.Target) error {
	if len(futures) == 0 {
		return nil
	}
	w := &batchWait{
		futures: futures, targets: targets, startSeen: make([]bool, len(futures)), closedSeen: make([]bool, len(futures)),
	}
	// Runs recorded before pausing existed replay without it: the version
	// is asked only where the new behaviour would first differ, so runs
	// that never need it (one subscriber, say) carry no marker.
	version, asked := workflow.DefaultVersion, false
	pacing := func() workflow.Version {
		if !asked {
			version, asked = workflow.GetVersion(ctx, changePauseForChildStarts, workflow.DefaultVersion, settleEveryBatch), true
		}
		return version
	}
	paced := func() bool { return pacing() >= pauseAndSettleLarge }
	for {
		// Blocking here ends the current workflow task, so that the next
		// one brings whatever arrived during the pause. (A selector over
		// a thousand futures costs too much CPU per task; scanning them
		// for readiness does not.) While settling, a cancel signal ends
		// the wait: every child has started, and run cancels them at once.
		if err := workflow.Await(ctx, func() bool {
			return w.changed() || w.settle != nil && r.cancelCh.Len() > 0
		}); err != nil {
			return err
		}
		added := w.take(ctx)
		r.status.Deliveries += added
		if w.err != nil {
			return w.err
		}
		if w.started == len(futures) {
			// The version is asked only where runs from before it could
			// differ (a batch that has not finished), after the checks
			// they made first: a small batch never asked it before
			// settleEveryBatch.
			if w.closed == len(futures) || w.settled() || r.cancelCh.Len() > 0 || len(futures) < settleSmallFrom {
				return nil
			}
			small := len(futures) < settleFrom
			if small && pacing() < settleEveryBatch || !small && !paced() {
				return nil
			}
			if w.settle == nil {
				// Not cancelled when the run closes first: a timer left
				// pending costs no event, a cancelled one does.
				w.settle = workflow.NewTimerWithOptions(ctx, settleFor, workflow.TimerOptions{Summary: "let the deliveries of this batch finish"})
			}
			if small {
				// A few children complete in a task or two of their own:
				// nothing to gather, so no pause.
				continue
			}
		} else if !paced() {
			continue
		}
		if err := r.pause(ctx, w); err != nil {
			return err
		}
	}
}

// batchWait follows the children one run started.
type batchWait struct {
	futures               []workflow.ChildWorkflowFuture
	targets               []activities.Target
	startSeen, closedSeen []bool
	started, closed       int // closed: completed, failed or cancelled
	settle                workflow.Future
	err                   error
	lastWake              time.Time
	rate                  float64 // events per second seen at the last wake
}

// changed reports whether a child started or closed, or the settling time
// ran out, since take last looked.
func (w *batchWait) changed() bool {
	if w.settled() {
		return true
	}
	for i, f := range w.futures {
		if !w.startSeen[i] && f.GetChildWorkflowExecution().IsReady() || !w.closedSeen[i] && f.IsReady() {
			return true
		}
	}
	return false
}

func (w *batchWait) settled() bool { return w.settle != nil && w.settle.IsReady() }

// take counts what changed, notes the first failed start, updates the rate
// of events, and returns how many children started.
func (w *batchWait) take(ctx workflow.Context) int {
	before := w.started + w.closed
	added := 0
	for i, f := range w.futures {
		if !w.startSeen[i] && f.GetChildWorkflowExecution().IsReady() {
			w.startSeen[i] = true
			w.started++
			added++
			var already *temporal.ChildWorkflowExecutionAlreadyStartedError
			if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil && !errors.As(err, &already) && w.err == nil {
				w.err = fmt.Errorf("start delivery to %s: %w", w.targets[i].SubscriptionID, err)
			}
		}
		if !w.closedSeen[i] && f.IsReady() {
			w.closedSeen[i] = true
			w.closed++
		}
	}
	// The first wake follows the wait for the first child to start, which
	// says nothing of the rate at which the rest will come.
	now := workflow.Now(ctx)
	if dt := now.Sub(w.lastWake); !w.lastWake.IsZero() && dt > 0 {
		w.rate = float64(w.started+w.closed-before) / dt.Seconds()
	}
	w.lastWake = now
	return added
}

// changePauseForChildStarts is the workflow.GetVersion change id of the
// pauses and the settling in awaitStarted, and its versions.
const changePauseForChildStarts = "pause-for-child-starts"

const (
	// pauseAndSettleLarge pauses to gather events, and lets batches of
	// settleFrom children or more settle before the run closes.
	pauseAndSettleLarge workflow.Version = 1
	// settleEveryBatch lets batches of settleSmallFrom children or more
	// settle: a child that completed while the run's closing task was in
	// flight made the server refuse the close (UnhandledCommand) in about
	// one 10-subscriber fan-out in twenty under load, a failed task and a
	// replay each; settling costs a version marker, a timer and one more
	// task instead. A single child rarely wins that race (a few in a
	// thousand), and settling would cost it seven events every time.
	settleEveryBatch workflow.Version = 2
)

// Changing any of these changes the commands a run emits: it needs a new
// version of changePauseForChildStarts.
const (
	// pauseEvents is how many events one pause aims to gather. The server
	// fails a task in flight past 100 buffered events (ForceCloseCommand),
	// so the aim leaves room for the rate to jump fivefold mid-pause.
	pauseEvents = 20
	// Pauses shorter than minPause are not taken: events that come that
	// fast gather by themselves while a task is in flight.
	minPause = 10 * time.Millisecond
	maxPause = 200 * time.Millisecond
	// A run that started settleFrom children or more (settleSmallFrom
	// from settleEveryBatch) waits up to settleFor for them to complete
	// before it closes.
	settleFrom      = 100
	settleSmallFrom = 2
	settleFor       = time.Second
)

// pause holds the workflow task open long enough for about pauseEvents
// events to arrive at the rate seen at the last wake (minPause when none
// is known yet).
func (r *eventRun) pause(ctx workflow.Context, w *batchWait) error {
	d := minPause
	if w.rate > 0 {
		d = time.Duration(float64(pauseEvents) / w.rate * float64(time.Second))
		if d < minPause {
			return nil
		}
	}
	d = min(d, maxPause).Round(time.Millisecond)
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: d + 5*time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		Summary:             fmt.Sprintf("gather events: %d of %d deliveries started, %d finished", w.started, len(w.futures), w.closed),
	})
	return workflow.ExecuteLocalActivity(lctx, activities.PauseName, d).Get(ctx, nil)
}

// cancelDeliveries signals cancel to every unfinished delivery of the event
// and marks cancelled the pending ones this fan-out will never start. It
// runs only once the fan-out has stopped, so that no child can start after
// it has looked.
func (r *eventRun) cancelDeliveries(ctx workflow.Context) (EventResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// One signal per unfinished delivery: thousands take a while.
		StartToCloseTimeout: 10 * time.Minute,
		Summary:             "cancel unfinished deliveries of " + r.in.EventID,
	})
	var res activities.CancelDeliveriesResult
	err := workflow.ExecuteActivity(actx, activities.CancelDeliveriesName, activities.CancelDeliveriesInput{
		EventID: r.in.EventID, Signal: SignalCancel,
	}).Get(ctx, &res)
	if err != nil {
		return EventResult{}, err
	}
	r.status.Done = true
	return EventResult{Deliveries: r.status.Deliveries, Cancelled: true, CancelledDeliveries: res.Cancelled}, nil
}

func (r *eventRun) cancelled(ctx workflow.Context) bool {
	if !r.status.Cancelled && r.cancelCh.ReceiveAsync(nil) {
		r.status.Cancelled = true
		workflow.GetLogger(ctx).Info("event cancelled during fan-out", "event", r.in.EventID)
	}
	return r.status.Cancelled
}

func (r *eventRun) startDelivery(ctx workflow.Context, t activities.Target) workflow.ChildWorkflowFuture {
	deliveryID := ids.Delivery(r.in.EventID, t.SubscriptionID)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            ids.DeliveryWorkflow(deliveryID),
		TaskQueue:             DeliveryTaskQueue(workflow.GetInfo(ctx).TaskQueueName),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         DeliverySummary(r.in.EventType, r.in.EventID, t.URL),
		TypedSearchAttributes: DeliverySearchAttributes(r.in.EventType, r.in.EventID, t.SubscriptionID, StatusDelivering),
	})
	return workflow.ExecuteChildWorkflow(cctx, DeliveryWorkflowName, DeliveryInput{
		DeliveryID:      deliveryID,
		EventID:         r.in.EventID,
		EventType:       r.in.EventType,
		SubscriptionID:  t.SubscriptionID,
		URL:             t.URL,
		Policy:          t.Policy,
		AttemptTimeout:  t.AttemptTimeout,
		FailedRetention: t.FailedRetention,
	})
}
