// Package activities holds the work of Hookflow's workflows that touches the
// world: reading the store and sending webhooks. Every activity is a method
// on Activities, which owns the dependencies they share.
package activities

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/hookflow/hookflow/backoff"
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
)

// Defaults are the global delivery settings a subscription may override.
type Defaults struct {
	Retry          backoff.Policy
	AttemptTimeout time.Duration
	// FailedRetention is how long a delivery that gave up stays open for a
	// retry signal before its workflow closes.
	FailedRetention time.Duration
}

// Activities is the worker's shared state for all activities.
type Activities struct {
	Store store.Store
	// HTTP sends the webhooks: one pooled client for every delivery.
	HTTP      *http.Client
	Defaults  Defaults
	UserAgent string
	// Now is the clock that stamps signatures; tests may fix it.
	Now func() time.Time
	// Metrics counts attempts and ended deliveries; nil counts nothing.
	Metrics *metrics.Metrics
}

// Registered activity names. Workflows schedule activities by these names,
// not by method values: the names are in every history, and the replayer,
// which cannot register activities, must see the same names the worker
// recorded.
const (
	FindTargetsName       = "hookflow.FindTargets"
	DeliverName           = "hookflow.Deliver"
	SetDeliveryStatusName = "hookflow.SetDeliveryStatus"
	CancelDeliveriesName  = "hookflow.CancelDeliveries"
)

// Register adds every activity to r under its pinned name, so that renaming
// a Go method cannot orphan scheduled activities of running workflows.
func Register(r worker.ActivityRegistry, a *Activities) {
	r.RegisterActivityWithOptions(a.FindTargets, activity.RegisterOptions{Name: FindTargetsName})
	r.RegisterActivityWithOptions(a.Deliver, activity.RegisterOptions{Name: DeliverName})
	r.RegisterActivityWithOptions(a.SetDeliveryStatus, activity.RegisterOptions{Name: SetDeliveryStatusName})
	r.RegisterActivityWithOptions(a.CancelDeliveries, activity.RegisterOptions{Name: CancelDeliveriesName})
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// FindTargetsInput asks for one page of the subscriptions an event goes to.
type FindTargetsInput struct {
	EventID   string
	EventType string
	// After is the cursor: the last subscription id of the previous page.
	After string
	Limit int
}

// Target is one subscription an event is delivered to, with its resolved
// retry schedule. It holds no secret: the delivery activity loads it.
type Target struct {
	SubscriptionID string
	// URL is the subscriber URL as histories and the UI show it: scheme,
	// host and path. A query string may carry a receiver's token, so it
	// stays in the store; the delivery activity loads the full URL.
	URL             string
	Policy          backoff.Policy
	AttemptTimeout  time.Duration
	FailedRetention time.Duration
}

// TargetOf resolves what a delivery to sub needs: its URL, and its retry
// schedule and attempt timeout with the subscription's overrides applied.
func (d Defaults) TargetOf(sub store.Subscription) Target {
	return Target{
		SubscriptionID:  sub.ID,
		URL:             logTarget(sub.URL),
		Policy:          ResolvePolicy(d.Retry, sub.Retry),
		AttemptTimeout:  cmpOr(sub.Timeout, d.AttemptTimeout),
		FailedRetention: d.FailedRetention,
	}
}

// FindTargetsResult is one page of targets; Done is true on the last page.
type FindTargetsResult struct {
	Targets []Target
	Done    bool
}

// FindTargets returns the next page of active subscriptions matching the
// event type, records a pending delivery for each (so the API lists them at
// once), and marks the event dispatched after the last page.
func (a *Activities) FindTargets(ctx context.Context, in FindTargetsInput) (FindTargetsResult, error) {
	subs, err := a.Store.MatchSubscriptions(ctx, in.EventType, in.After, in.Limit)
	if err != nil {
		return FindTargetsResult{}, err
	}
	res := FindTargetsResult{Done: len(subs) < in.Limit}
	deliveries := make([]store.Delivery, 0, len(subs))
	now := a.now()
	for _, s := range subs {
		res.Targets = append(res.Targets, a.Defaults.TargetOf(s))
		id := ids.Delivery(in.EventID, s.ID)
		deliveries = append(deliveries, store.Delivery{
			ID: id, EventID: in.EventID, SubscriptionID: s.ID, URL: s.URL,
			Status: store.DeliveryPending, WorkflowID: ids.DeliveryWorkflow(id), UpdatedAt: now,
		})
	}
	if err := a.Store.AddDeliveries(ctx, deliveries); err != nil {
		return FindTargetsResult{}, err
	}
	if res.Done {
		if err := a.Store.MarkEventDispatched(ctx, in.EventID); err != nil {
			return FindTargetsResult{}, err
		}
	}
	return res, nil
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
	if in.Status == store.DeliveryFailed || in.Status == store.DeliveryCancelled {
		a.ended(ctx, in.DeliveryID, in.Status)
	}
	return nil
}

// ResolvePolicy applies a subscription's overrides to the global policy.
func ResolvePolicy(global backoff.Policy, o *store.RetryOverride) backoff.Policy {
	p := global
	if o == nil {
		return p
	}
	seconds := func(f *float64, d time.Duration) time.Duration {
		if f == nil {
			return d
		}
		return time.Duration(*f * float64(time.Second))
	}
	p.InitialInterval = seconds(o.InitialIntervalSeconds, p.InitialInterval)
	p.MaxInterval = seconds(o.MaxIntervalSeconds, p.MaxInterval)
	p.MaxDuration = seconds(o.MaxDurationSeconds, p.MaxDuration)
	if o.BackoffCoefficient != nil {
		p.BackoffCoefficient = *o.BackoffCoefficient
	}
	if o.MaxAttempts != nil {
		p.MaxAttempts = *o.MaxAttempts
	}
	if p.MaxAttempts == 0 && p.MaxDuration <= 0 {
		// "max_attempts": 0 means "bounded by duration only"; with no
		// duration bound in the global policy, keep its attempt bound.
		p.MaxAttempts = global.MaxAttempts
	}
	p.MaxInterval = max(p.MaxInterval, p.InitialInterval)
	return p
}

func cmpOr(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}
