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
	"github.com/hookflow/hookflow/store"
)

// CancelDeliveriesInput names the event whose unfinished deliveries are to
// be cancelled. (Inputs recorded before also carry the signal's name,
// which is now delivery.SignalCancel; decoding ignores it.)
type CancelDeliveriesInput struct {
	// ApplicationID is the event's application; empty in inputs recorded
	// before applications existed (default).
	ApplicationID string `json:",omitempty"`
	EventID       string
}

// CancelDeliveriesResult counts what was cancelled.
type CancelDeliveriesResult struct {
	// Cancelled counts the deliveries signalled or marked cancelled.
	Cancelled int
}

// CancelDeliveries cancels every unfinished delivery of an event, for the
// event workflow's cancel signal. The event workflow runs it once its
// fan-out has stopped; the event is then marked dispatched, since no
// delivery of it will start any more.
func (a *Activities) CancelDeliveries(ctx context.Context, in CancelDeliveriesInput) (CancelDeliveriesResult, error) {
	app := ApplicationOf(in.ApplicationID)
	n, err := CancelUnfinished(ctx, a.Store, activity.GetClient(ctx), app, in.EventID)
	if err != nil {
		return CancelDeliveriesResult{Cancelled: n}, err
	}
	if err := a.Store.MarkEventDispatched(ctx, app, in.EventID); err != nil {
		return CancelDeliveriesResult{Cancelled: n}, fmt.Errorf("mark %s dispatched: %w", in.EventID, err)
	}
	return CancelDeliveriesResult{Cancelled: n}, nil
}

// CancelUnfinished signals cancel to every delivery of an event that is
// pending, delivering or retrying, and marks cancelled the pending ones
// whose workflow does not exist: their fan-out stopped before starting
// them. Call it only once the event's fan-out has stopped (its workflow has
// closed, or from that workflow after its last child started), or a
// delivery about to start could be marked cancelled and then run.
// Succeeded, failed and cancelled deliveries are left alone.
func CancelUnfinished(ctx context.Context, st store.Store, c client.Client, app, eventID string) (int, error) {
	ds, err := st.ListDeliveries(ctx, app, eventID)
	if err != nil {
		return 0, fmt.Errorf("list deliveries of %s: %w", eventID, err)
	}
	return cancelEach(ctx, st, c, ds)
}

// cancelEach signals cancel to each unfinished delivery of ds, and marks
// cancelled the pending ones whose workflow does not exist.
func cancelEach(ctx context.Context, st store.Store, c client.Client, ds []store.Delivery) (int, error) {
	n := 0
	for _, d := range ds {
		if !delivery.Unfinished(d.Status) {
			continue
		}
		err := c.SignalWorkflow(ctx, d.WorkflowID, "", delivery.SignalCancel, nil)
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			n++
		case errors.As(err, &notFound) && d.Status == delivery.StatusPending:
			if err := st.SetDeliveryStatus(ctx, d.ID, delivery.StatusCancelled, time.Time{}); err != nil {
				return n, fmt.Errorf("mark %s cancelled: %w", d.ID, err)
			}
			n++
		case errors.As(err, &notFound):
			// It closed meanwhile, on its own terms.
		default:
			return n, fmt.Errorf("signal cancel to %s: %w", d.WorkflowID, err)
		}
	}
	return n, nil
}

// CancelApplicationDeliveriesInput names one page of a deleted
// application's unfinished deliveries: ids greater than After, at most
// Limit.
type CancelApplicationDeliveriesInput struct {
	ApplicationID string
	After         string
	Limit         int
}

// CancelApplicationDeliveriesResult says how far a page went.
type CancelApplicationDeliveriesResult struct {
	// Cancelled counts the deliveries signalled or marked cancelled.
	Cancelled int
	// Last is the id of the page's last delivery, the next page's cursor;
	// empty when the page was empty, and the job is done.
	Last string
}

// CancelApplicationDeliveries cancels one page of the unfinished
// deliveries of a deleted application. The application's subscriptions are
// gone already, so no new delivery joins them: paging by id ends.
func (a *Activities) CancelApplicationDeliveries(ctx context.Context, in CancelApplicationDeliveriesInput) (CancelApplicationDeliveriesResult, error) {
	ds, err := a.Store.ListUnfinishedDeliveries(ctx, in.ApplicationID, in.After, in.Limit)
	if err != nil {
		return CancelApplicationDeliveriesResult{}, fmt.Errorf("list unfinished deliveries of application %s: %w", in.ApplicationID, err)
	}
	if len(ds) == 0 {
		return CancelApplicationDeliveriesResult{}, nil
	}
	n, err := cancelEach(ctx, a.Store, activity.GetClient(ctx), ds)
	if err != nil {
		return CancelApplicationDeliveriesResult{Cancelled: n}, err
	}
	return CancelApplicationDeliveriesResult{Cancelled: n, Last: ds[len(ds)-1].ID}, nil
}
