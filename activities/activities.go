// Package activities holds the work of Hookflow's workflows that touches the
// world: reading the store and sending webhooks. Every activity is a method
// on Activities, which owns the dependencies they share.
package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/store"
)

// Error types of activity failures that workflow code branches on.
const (
	// ErrTypeAttemptFailed: the receiver did not answer 2xx in time. The
	// failure's details hold the AttemptResult.
	ErrTypeAttemptFailed = "AttemptFailed"
	// ErrTypeSubscriptionGone: the receiver answered 410 Gone or the
	// subscription was deleted; no later attempt can succeed.
	ErrTypeSubscriptionGone = "SubscriptionGone"
	// ErrTypeHeld: the subscription is paused; nothing was sent and no
	// attempt was spent. The details hold the attempt, whose NextAttemptAt
	// is the end of the hold.
	ErrTypeHeld = "Held"
	// ErrTypeThrottled: the subscription's rate_limit or max_in_flight had
	// no turn within the attempt's budget; nothing was sent and no attempt
	// was spent. The details hold the attempt, whose NextAttemptAt is when
	// to try again.
	ErrTypeThrottled = "Throttled"
)

// Activities is the worker's shared state for all activities.
type Activities struct {
	Store store.Store
	// HTTP sends the webhooks: one pooled client for every delivery.
	HTTP      *http.Client
	Defaults  delivery.Defaults
	UserAgent string
	// Now is the clock that stamps signatures; tests may fix it.
	Now func() time.Time
	// Metrics counts attempts and ended deliveries; nil counts nothing.
	Metrics *metrics.Metrics
	// StartResend starts the workflows of the deliveries a recovery adds
	// (workflows.StartResend); RecoverPage needs it.
	StartResend Starter
	// StartWake starts the workflow that wakes a subscription's waiting
	// deliveries (workflows.StartWake) once an attempt disabled it.
	StartWake WakeStarter
}

// Registered activity names. Workflows schedule activities by these names,
// not by method values: the names are in every history, and the replayer,
// which cannot register activities, must see the same names the worker
// recorded.
const (
	// ClaimTargetsName keeps the name the activity had when it was called
	// FindTargets: every event history holds it.
	ClaimTargetsName      = "hookflow.FindTargets"
	DeliverName           = "hookflow.Deliver"
	SetDeliveryStatusName = "hookflow.SetDeliveryStatus"
	CancelDeliveriesName  = "hookflow.CancelDeliveries"
	PauseName             = "hookflow.Pause"

	CancelApplicationDeliveriesName = "hookflow.CancelApplicationDeliveries"
	RecoverPageName                 = "hookflow.RecoverPage"
	FinishRecoveryName              = "hookflow.FinishRecovery"
	WakePageName                    = "hookflow.WakePage"
)

// Register adds every activity to r under its pinned name, so that renaming
// a Go method cannot orphan scheduled activities of running workflows.
func Register(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivityWithOptions(a.ClaimTargets, activity.RegisterOptions{Name: ClaimTargetsName})
	r.RegisterActivityWithOptions(a.Deliver, activity.RegisterOptions{Name: DeliverName})
	r.RegisterActivityWithOptions(a.SetDeliveryStatus, activity.RegisterOptions{Name: SetDeliveryStatusName})
	r.RegisterActivityWithOptions(a.CancelDeliveries, activity.RegisterOptions{Name: CancelDeliveriesName})
	r.RegisterActivityWithOptions(a.Pause, activity.RegisterOptions{Name: PauseName})
	r.RegisterActivityWithOptions(a.CancelApplicationDeliveries, activity.RegisterOptions{Name: CancelApplicationDeliveriesName})
	r.RegisterActivityWithOptions(a.PurgeFinished, activity.RegisterOptions{Name: PurgeFinishedName})
	r.RegisterActivityWithOptions(a.RecoverPage, activity.RegisterOptions{Name: RecoverPageName})
	r.RegisterActivityWithOptions(a.FinishRecovery, activity.RegisterOptions{Name: FinishRecoveryName})
	r.RegisterActivityWithOptions(a.WakePage, activity.RegisterOptions{Name: WakePageName})
}

// Pause waits for d. Run as a local activity it holds the workflow task
// open, so that the events arriving meanwhile are handled together, in
// the next task, rather than each in a task of its own.
func (a *Activities) Pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// inParallel runs fn for each index below n, at most limit at once,
// heartbeating every limit starts so that a worker that dies mid-page is
// noticed soon. The first error ends the others' contexts and is returned.
func inParallel(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range n {
		if i%limit == 0 {
			activity.RecordHeartbeat(ctx, i)
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// ClaimTargetsInput asks for one page of the subscriptions an event goes to.
type ClaimTargetsInput struct {
	// ApplicationID is the event's application; empty in fan-outs started
	// before applications existed, which belong to default.
	ApplicationID string `json:",omitempty"`
	EventID       string
	EventType     string
	// After is the cursor: the last subscription id of the previous page.
	After string
	Limit int
}

// ClaimTargetsResult is one page of targets; Done is true on the last page.
type ClaimTargetsResult struct {
	Targets []delivery.Target
	Done    bool
}

// ClaimTargets claims the next page of an event's deliveries for the
// fan-out: it finds the active subscriptions matching the event type,
// records a pending delivery for each (so the API lists them at once), and
// after the last page marks the event dispatched. It returns the targets
// the fan-out starts a delivery workflow for.
func (a *Activities) ClaimTargets(ctx context.Context, in ClaimTargetsInput) (ClaimTargetsResult, error) {
	app := ApplicationOf(in.ApplicationID)
	var subs []store.Subscription
	targeted := false
	var err error
	if in.EventType == store.TestEventType {
		subs, targeted, err = a.testTarget(ctx, app, in.EventID)
	}
	if err == nil && !targeted {
		subs, err = a.Store.MatchSubscriptions(ctx, app, in.EventType, in.After, in.Limit)
	}
	if err != nil {
		return ClaimTargetsResult{}, fmt.Errorf("match subscriptions of %s: %w", in.EventType, err)
	}
	// A test event's one target is its only page, whatever the page size.
	res := ClaimTargetsResult{Done: targeted || len(subs) < in.Limit}
	deliveries := make([]store.Delivery, 0, len(subs))
	now := a.now()
	for _, s := range subs {
		res.Targets = append(res.Targets, a.Defaults.Target(s.ID, s.URL, s.Retry, s.Timeout))
		id := ids.Delivery(in.EventID, s.ID)
		deliveries = append(deliveries, store.Delivery{
			ID: id, ApplicationID: app, EventID: in.EventID, SubscriptionID: s.ID, URL: s.URL,
			Status: delivery.StatusPending, WorkflowID: ids.DeliveryWorkflow(in.ApplicationID, id), UpdatedAt: now,
		})
	}
	if err := a.Store.AddDeliveries(ctx, deliveries); err != nil {
		return ClaimTargetsResult{}, fmt.Errorf("add deliveries of %s: %w", in.EventID, err)
	}
	if res.Done {
		if err := a.Store.MarkEventDispatched(ctx, app, in.EventID); err != nil {
			return ClaimTargetsResult{}, fmt.Errorf("mark %s dispatched: %w", in.EventID, err)
		}
	}
	return res, nil
}

// testTarget is the one subscription a test event goes to. A test event
// is an event like any other, so that it is signed, retried, logged and
// resent like one, but it names its subscription (TargetSubscriptionID)
// instead of reaching every subscription of its type: this reads the event
// only for the type hookflow.test, leaving the fan-out of every other event
// as it was. A hookflow.test event a producer posted itself names none and
// goes by its type. A subscription deleted since gets nothing; a paused
// one gets the delivery, which waits like any other.
func (a *Activities) testTarget(ctx context.Context, app, eventID string) ([]store.Subscription, bool, error) {
	ev, err := a.Store.GetEvent(ctx, app, eventID)
	if err != nil || ev.TargetSubscriptionID == "" {
		return nil, false, err
	}
	sub, err := a.Store.GetSubscription(ctx, app, ev.TargetSubscriptionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, true, err
	}
	return []store.Subscription{sub}, true, nil
}

// ApplicationOf is the application of an activity input: inputs recorded
// before applications existed name none and belong to default.
func ApplicationOf(app string) string {
	if app == "" {
		return store.DefaultApplication
	}
	return app
}

// SetDeliveryStatusInput moves a delivery to a status no attempt decided:
// cancelled, or failed for good.
type SetDeliveryStatusInput struct {
	DeliveryID string
	Status     string
}

// SetDeliveryStatus records a status change made by the workflow.
func (a *Activities) SetDeliveryStatus(ctx context.Context, in SetDeliveryStatusInput) error {
	if err := a.Store.SetDeliveryStatus(ctx, in.DeliveryID, in.Status, time.Time{}); err != nil {
		return fmt.Errorf("set status of %s: %w", in.DeliveryID, err)
	}
	if in.Status == delivery.StatusFailed || in.Status == delivery.StatusCancelled {
		a.ended(ctx, in.DeliveryID, in.Status)
	}
	return nil
}
