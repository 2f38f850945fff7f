package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/operational"
	"github.com/hookflow/hookflow/store"
)

// Why a subscription's deliveries are woken (Wake.Why).
const (
	WakeResume  = "resume"
	WakeDisable = "disable"
)

// Wake asks for a subscription's waiting deliveries to be woken after a
// change: resumed (the held ones send now) or disabled (every unfinished
// one ends failed now rather than at its next attempt).
type Wake struct {
	ApplicationID  string
	SubscriptionID string
	Why            string
	// At is when the change was made (the subscription's updated_at): it
	// names the wake-up's workflow, so the same change wakes once.
	At time.Time
}

// Statuses are the delivery statuses the wake-up signals.
func (w Wake) Statuses() []string {
	if w.Why == WakeResume {
		return []string{delivery.StatusHeld}
	}
	return delivery.UnfinishedStatuses
}

// WakeStarter starts the workflow of a wake-up (workflows.StartWake); it
// is given, as Starter is, because this package cannot import workflows.
type WakeStarter func(ctx context.Context, c client.Client, taskQueue string, w Wake) error

// checkHealth records an attempt that reached out to the receiver in the
// subscription's shared health (MarkFailing, MarkHealthy) and disables the
// subscription when the attempt answered 410 Gone, or when every attempt
// has failed for Defaults.DisableAfter, whichever worker made them. It
// reports whether the subscription is disabled now. Only the first
// failure of a run and the first success after one write: sub, as the
// attempt loaded it, says whether it was failing.
func (a *Activities) checkHealth(ctx context.Context, sub store.Subscription, res delivery.Attempt) (bool, error) {
	app := sub.ApplicationID
	if !res.Failure() {
		if res.Kind == delivery.KindAnswered && !sub.FailingSince.IsZero() {
			if err := a.Store.MarkHealthy(ctx, app, sub.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return false, err
			}
		}
		return false, nil
	}
	now := a.now()
	var (
		reason string
		before time.Time
	)
	if res.StatusCode == 410 {
		reason = "the receiver answered 410 Gone"
	} else {
		since := sub.FailingSince
		if since.IsZero() {
			var err error
			if since, err = a.Store.MarkFailing(ctx, app, sub.ID, res.StartedAt); errors.Is(err, store.ErrNotFound) {
				return false, nil
			} else if err != nil {
				return false, err
			}
		}
		after := a.Defaults.DisableAfter
		if after <= 0 || now.Sub(since) < after {
			return false, nil
		}
		last := res.Error
		if res.StatusCode != 0 {
			last = fmt.Sprintf("HTTP %d", res.StatusCode)
		}
		reason = fmt.Sprintf("every attempt failed for %s since %s (the last: %s)", after, since.UTC().Format(time.RFC3339), last)
		before = now.Add(-after)
	}
	got, changed, err := a.Store.DisableSubscription(ctx, app, sub.ID, reason, before, now)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if got.Status != store.SubscriptionDisabled {
		return false, nil // a success meanwhile, or re-enabled
	}
	if changed {
		activity.GetLogger(ctx).Warn("subscription disabled", "application", app, "subscription", sub.ID, "reason", got.DisabledReason)
	}
	// Both steps are idempotent (named by the disable's time), so an
	// attempt run again after a crash, or a second worker that found the
	// subscription disabled as it failed, repeats them harmlessly.
	if err := (operational.Publisher{Store: a.Store}).Disabled(ctx, got); err != nil {
		return false, err
	}
	if a.StartWake != nil {
		w := Wake{ApplicationID: app, SubscriptionID: sub.ID, Why: WakeDisable, At: got.UpdatedAt}
		if err := a.StartWake(ctx, activity.GetClient(ctx), activity.GetInfo(ctx).TaskQueue, w); err != nil {
			return false, fmt.Errorf("wake the deliveries of disabled %s: %w", sub.ID, err)
		}
	}
	return true, nil
}

// publishFailed publishes delivery.failed for a delivery that gave up.
func (a *Activities) publishFailed(ctx context.Context, in DeliverInput, res delivery.Attempt, now time.Time) error {
	return operational.Publisher{Store: a.Store}.Failed(ctx, operational.DeliveryFailed{
		ApplicationID: ApplicationOf(in.ApplicationID), SubscriptionID: in.SubscriptionID, EventID: in.EventID, DeliveryID: in.DeliveryID,
		Attempts: in.Attempt, LastStatusCode: res.StatusCode, LastError: res.Error,
	}, in.RoundStart, now)
}

// WakePageInput asks for one page of a subscription's deliveries in
// Status to be woken.
type WakePageInput struct {
	ApplicationID  string
	SubscriptionID string
	Status         string
	// After is the cursor: the last delivery id of the previous page.
	After string
	Limit int
}

// WakePageResult is where the next page starts; Done ends the status.
type WakePageResult struct {
	After string
	Woken int
	Done  bool
}

// WakeConcurrency bounds the signals one page sends at once.
const WakeConcurrency = 16

// WakePage signals wake to one page of deliveries. The signals go from
// here, through the client, rather than from the wake-up workflow: a
// signal sent by a workflow costs two events in its history, one sent by
// an activity none. A delivery whose workflow has closed (it ended
// meanwhile) is skipped.
func (a *Activities) WakePage(ctx context.Context, in WakePageInput) (WakePageResult, error) {
	page, err := a.Store.ListSubscriptionDeliveries(ctx, in.ApplicationID, in.SubscriptionID, in.Status, in.After, in.Limit)
	if err != nil {
		return WakePageResult{}, err
	}
	res := WakePageResult{After: in.After, Done: len(page) < in.Limit}
	if len(page) > 0 {
		res.After = page[len(page)-1].ID
	}
	c := activity.GetClient(ctx)
	err = inParallel(ctx, len(page), WakeConcurrency, func(ctx context.Context, i int) error {
		err := c.SignalWorkflow(ctx, page[i].WorkflowID, "", delivery.SignalWake, nil)
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			return fmt.Errorf("wake %s: %w", page[i].ID, err)
		}
		return nil
	})
	if err != nil {
		return WakePageResult{}, err
	}
	res.Woken = len(page)
	return res, nil
}
