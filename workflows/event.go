package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
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
	// ApplicationID is the application the event is addressed to; empty in
	// fan-outs started before applications existed, which belong to the
	// application default and keep the child ids of that time.
	ApplicationID string `json:",omitempty"`
	EventID       string
	EventType     string
	After         string
	Started       int
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
	if r.takeCancel(ctx) {
		return r.cancelDeliveries(ctx)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             "find subscribers of " + r.in.EventType,
	})
	var page activities.ClaimTargetsResult
	err := workflow.ExecuteLocalActivity(lctx, activities.ClaimTargetsName, activities.ClaimTargetsInput{
		ApplicationID: r.in.ApplicationID, EventID: r.in.EventID, EventType: r.in.EventType, After: r.in.After, Limit: FanOutBatch,
	}).Get(ctx, &page)
	if err != nil {
		return EventResult{}, err
	}

	futures := make([]workflow.ChildWorkflowFuture, 0, len(page.Targets))
	for _, t := range page.Targets {
		if r.takeCancel(ctx) {
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
	if r.takeCancel(ctx) {
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
		ApplicationID: r.in.ApplicationID, EventID: r.in.EventID,
	}).Get(ctx, &res)
	if err != nil {
		return EventResult{}, err
	}
	r.status.Done = true
	return EventResult{Deliveries: r.status.Deliveries, Cancelled: true, CancelledDeliveries: res.Cancelled}, nil
}

// takeCancel takes a cancel signal that has arrived, and reports whether
// the event was cancelled, by it or before.
func (r *eventRun) takeCancel(ctx workflow.Context) bool {
	if !r.status.Cancelled && r.cancelCh.ReceiveAsync(nil) {
		r.status.Cancelled = true
		workflow.GetLogger(ctx).Info("event cancelled during fan-out", "event", r.in.EventID)
	}
	return r.status.Cancelled
}

func (r *eventRun) startDelivery(ctx workflow.Context, t delivery.Target) workflow.ChildWorkflowFuture {
	// The child's id follows from the input alone (ApplicationID is empty in
	// fan-outs recorded before applications existed), so a recorded history
	// always replays to the same commands and no version marker is spent on
	// every event; see the README, "Workflow ids".
	in := NewDeliveryInput(r.in.ApplicationID, r.in.EventID, r.in.EventType, t)
	cctx := workflow.WithChildOptions(ctx, DeliveryChildOptions(in, workflow.GetInfo(ctx).TaskQueueName))
	// The wire form: what DeliveryInput encodes to, without the cost of
	// a MarshalJSON method per child (see DeliveryInput.wire).
	return workflow.ExecuteChildWorkflow(cctx, DeliveryWorkflowName, in.wire())
}
