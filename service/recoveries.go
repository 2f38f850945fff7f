package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// Resent is the answer to a resend: the new delivery and its workflow.
type Resent struct {
	ID         string
	WorkflowID string
}

// ResendDelivery sends a delivery's event again to its subscription, as a
// new delivery with its own id (ids.Resend) and workflow, whatever the
// first one's status: a receiver that lost what it had acknowledged gets
// it again, with the same webhook-id (the event id) so that it can tell.
// The new delivery supersedes every earlier one of the pair, so that a
// recovery never resends the event twice. A deleted or disabled
// subscription is ErrConflict, as for a retry.
func (s *Service) ResendDelivery(ctx context.Context, app, id string) (Resent, error) {
	d, err := s.Store.GetDelivery(ctx, app, id)
	if err != nil {
		return Resent{}, storeErr(err, "delivery "+id)
	}
	ev, err := s.Store.GetEvent(ctx, app, d.EventID)
	if err != nil {
		return Resent{}, storeErr(err, "event "+d.EventID)
	}
	sub, err := s.resendableSubscription(ctx, app, d.SubscriptionID)
	if err != nil {
		return Resent{}, err
	}
	newID := ids.Resend(d.ID, ids.NewResendTag())
	nd := store.Delivery{
		ID: newID, ApplicationID: app, EventID: ev.ID, SubscriptionID: sub.ID, URL: sub.URL,
		WorkflowID: ids.DeliveryWorkflow(app, newID), ResentFrom: d.ID, UpdatedAt: s.now(),
	}
	if err := s.Store.AddResends(ctx, []store.Delivery{nd}); err != nil {
		return Resent{}, storeErr(err, "record resend of "+id)
	}
	err = workflows.StartResend(ctx, s.Temporal, s.TaskQueue, activities.Resend{
		ApplicationID: app, DeliveryID: newID, EventID: ev.ID, EventType: ev.Type,
		Target: s.Defaults.Target(sub.ID, sub.URL, sub.Retry, sub.Timeout),
	})
	if err != nil {
		// The new delivery is the newest of its pair and never ran: failed,
		// it is what a recovery of the window resends.
		if serr := s.Store.SetDeliveryStatus(context.WithoutCancel(ctx), newID, store.DeliveryFailed, time.Time{}); serr != nil {
			s.log().Warn("a resend that could not start stays pending", "delivery", newID, "err", serr)
		}
		return Resent{}, temporalErr(err, "start "+nd.WorkflowID)
	}
	return Resent{ID: newID, WorkflowID: nd.WorkflowID}, nil
}

// resendableSubscription is the subscription a resend or a recovery sends
// to: a deleted one is ErrNotFound for a recovery's path and ErrConflict
// for a delivery's, and a disabled one, which would send nothing, is
// ErrConflict. A paused one is no obstacle: what is resent to it is held
// until it resumes.
func (s *Service) resendableSubscription(ctx context.Context, app, id string) (store.Subscription, error) {
	sub, err := s.Store.GetSubscription(ctx, app, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Subscription{}, fmt.Errorf("subscription %s was deleted; nothing can be delivered to it: %w", id, ErrConflict)
	case err != nil:
		return store.Subscription{}, storeErr(err, "subscription "+id)
	case sub.Status == store.SubscriptionDisabled:
		return store.Subscription{}, fmt.Errorf("subscription %s is disabled (%s); set it active first: %w", id, sub.DisabledReason, ErrConflict)
	}
	return sub, nil
}

// RecoverRequest is a window to recover: Since included, Until excluded;
// a nil Until is now.
type RecoverRequest struct {
	Since time.Time
	Until *time.Time
}

// Recover starts the recovery of a subscription over a window (see
// workflows.Recover): every failed delivery whose event was created in the
// window is resent, and every event of the window that matched the
// subscription but never got a delivery to it is delivered. The same
// window asked for again while its recovery runs (an open-ended one
// included) returns that recovery and starts nothing more.
func (s *Service) Recover(ctx context.Context, app, subscriptionID string, req RecoverRequest) (store.Recovery, error) {
	now := s.now()
	switch {
	case req.Since.IsZero():
		return store.Recovery{}, invalid("since is required", FieldProblem{Field: "since", Rule: "required", Message: "the start of the window, RFC 3339"})
	case req.Until != nil && !req.Until.After(req.Since):
		return store.Recovery{}, invalid("until must be after since", FieldProblem{Field: "until", Rule: "gtfield", Message: "the end of the window must come after since"})
	case req.Until == nil && !now.After(req.Since):
		return store.Recovery{}, invalid("since must be in the past", FieldProblem{Field: "since", Rule: "past", Message: "without until the window ends now, so it must start before"})
	}
	if _, err := s.Store.GetSubscription(ctx, app, subscriptionID); err != nil {
		return store.Recovery{}, storeErr(err, "subscription "+subscriptionID)
	}
	if _, err := s.resendableSubscription(ctx, app, subscriptionID); err != nil {
		return store.Recovery{}, err
	}
	since, until := req.Since.UTC().Truncate(time.Microsecond), now.UTC().Truncate(time.Microsecond)
	if req.Until != nil {
		until = req.Until.UTC().Truncate(time.Microsecond)
	}
	rec := store.Recovery{
		ID: ids.NewRecovery(), ApplicationID: app, SubscriptionID: subscriptionID,
		WorkflowID: ids.RecoveryWorkflow(app, subscriptionID, since.UnixMicro(), until.UnixMicro(), req.Until == nil),
		Since:      since, Until: until, Status: store.RecoveryRunning, CreatedAt: now, UpdatedAt: now,
	}
	rec, created, err := s.Store.CreateRecovery(ctx, rec)
	if err != nil {
		return store.Recovery{}, storeErr(err, "record recovery")
	}
	if created {
		// No recovery of this window is running by the store, so a run
		// still open under its workflow id is the last one closing (it
		// has written its outcome): starting now would join it and leave
		// this recovery without a workflow.
		if err := s.awaitClosed(ctx, rec.WorkflowID); err != nil {
			return store.Recovery{}, err
		}
	}
	// Started whether the row is new or not: a recovery whose workflow
	// was never started (a crash right here) or was terminated starts
	// again under its id and resumes, since its resends are idempotent;
	// one that runs is joined.
	in := workflows.RecoverInput{RecoveryID: rec.ID, ApplicationID: app, SubscriptionID: subscriptionID, Since: rec.Since, Until: rec.Until}
	if _, err := s.Temporal.ExecuteWorkflow(ctx, workflows.RecoverStartOptions(in, rec.WorkflowID, s.TaskQueue), workflows.RecoverWorkflowName, in); err != nil {
		return store.Recovery{}, temporalErr(err, "start "+rec.WorkflowID)
	}
	return rec, nil
}

// closingWait bounds how long a new recovery waits for the previous run of
// its window to close; it closes right after writing its outcome.
const closingWait = 10 * time.Second

// awaitClosed waits until no run of workflowID is open.
func (s *Service) awaitClosed(ctx context.Context, workflowID string) error {
	deadline := time.Now().Add(closingWait)
	for {
		desc, err := s.Temporal.DescribeWorkflow(ctx, workflowID, "")
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			return nil
		case err != nil:
			return temporalErr(err, "describe "+workflowID)
		case desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			return nil
		case time.Now().After(deadline):
			return &RetryLaterError{Message: "the last recovery of this window is still closing; post again in a moment", RetryAfter: time.Second}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// GetRecovery returns a recovery's status and counts, from the store: the
// recovery writes them after every page and when it ends, so they stay
// readable after its workflow has closed.
func (s *Service) GetRecovery(ctx context.Context, app, id string) (store.Recovery, error) {
	rec, err := s.Store.GetRecovery(ctx, app, id)
	return rec, storeErr(err, "recovery "+id)
}

// CancelRecovery sends the cancel signal to a running recovery: it starts
// no page after the one in flight, whose resends go on, and ends
// cancelled. Cancelling a cancelled recovery changes nothing; a completed
// one is ErrConflict.
func (s *Service) CancelRecovery(ctx context.Context, app, id string) (store.Recovery, error) {
	rec, err := s.Store.GetRecovery(ctx, app, id)
	if err != nil {
		return store.Recovery{}, storeErr(err, "recovery "+id)
	}
	switch rec.Status {
	case store.RecoveryCancelled:
		return rec, nil
	case store.RecoveryCompleted:
		return store.Recovery{}, fmt.Errorf("recovery %s has completed: there is nothing to cancel: %w", id, ErrConflict)
	}
	err = s.Temporal.SignalWorkflow(ctx, rec.WorkflowID, "", workflows.SignalCancel, nil)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		// Its workflow is gone (terminated, or never started): nothing
		// runs that could resend more.
		if err := s.Store.UpdateRecovery(ctx, rec.ID, store.RecoveryCancelled, rec.Matched, rec.Resent); err != nil {
			return store.Recovery{}, storeErr(err, "cancel recovery "+id)
		}
	case err != nil:
		return store.Recovery{}, temporalErr(err, "signal cancel to "+rec.WorkflowID)
	}
	return rec, nil
}
