package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/dispatch"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// DeliveryView is a delivery with its attempt log.
type DeliveryView struct {
	Delivery store.Delivery
	// Attempts is the attempt log, oldest first, at most the newest
	// store.MaxAttemptsKept.
	Attempts []store.Attempt
	// RunID is the latest run of the delivery's workflow; empty when it
	// has not started yet or Temporal did not answer in time.
	RunID string
}

// Steered is the answer to a cancel or a retry: the signal went to the run
// RunID of the workflow WorkflowID (a new run when a retry revived it).
type Steered struct {
	ID         string
	WorkflowID string
	RunID      string
	Signal     string
}

// describeTimeout bounds the Temporal call that finds a delivery's latest
// run, so that reading a delivery stays quick when Temporal is slow.
const describeTimeout = 2 * time.Second

// GetDelivery returns a delivery and its attempt log from the store, with
// its workflow's latest run from Temporal when Temporal answers.
func (s *Service) GetDelivery(ctx context.Context, app, id string) (DeliveryView, error) {
	d, err := s.Store.GetDelivery(ctx, app, id)
	if err != nil {
		return DeliveryView{}, storeErr(err, "delivery "+id)
	}
	attempts, err := s.Store.ListAttempts(ctx, id)
	if err != nil {
		return DeliveryView{}, storeErr(err, "attempts of delivery "+id)
	}
	view := DeliveryView{Delivery: d, Attempts: attempts}
	if d.Status != store.DeliveryPending {
		dctx, cancel := context.WithTimeout(ctx, describeTimeout)
		defer cancel()
		if desc, err := s.Temporal.DescribeWorkflow(dctx, d.WorkflowID, ""); err == nil {
			view.RunID = desc.WorkflowExecution.RunID
		}
	}
	return view, nil
}

// CancelDelivery sends the cancel signal to a delivery. A delivery that has
// not started yet is started with the signal waiting, so it ends cancelled
// before any request. Cancelling a cancelled delivery changes nothing;
// a succeeded one, or a failed one whose workflow has closed, is
// ErrConflict.
func (s *Service) CancelDelivery(ctx context.Context, app, id string) (Steered, error) {
	d, err := s.Store.GetDelivery(ctx, app, id)
	if err != nil {
		return Steered{}, storeErr(err, "delivery "+id)
	}
	switch d.Status {
	case store.DeliverySucceeded:
		return Steered{}, fmt.Errorf("delivery %s already succeeded: %w", id, ErrConflict)
	case store.DeliveryCancelled:
		return Steered{ID: d.ID, WorkflowID: d.WorkflowID, Signal: workflows.SignalCancel}, nil
	}
	in, err := s.deliveryInput(ctx, d, false)
	if err != nil {
		return Steered{}, err
	}
	run, err := s.signalWithStart(ctx, d, in, workflows.SignalCancel, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
	var closed *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &closed) {
		if d.Status == store.DeliveryFailed {
			return Steered{}, fmt.Errorf("delivery %s failed and its workflow has closed: there is nothing to cancel (a retry would start it again): %w", id, ErrConflict)
		}
		return Steered{}, fmt.Errorf("delivery %s has just finished: %w", id, ErrConflict)
	}
	if err != nil {
		return Steered{}, temporalErr(err, "signal cancel to "+d.WorkflowID)
	}
	return Steered{ID: d.ID, WorkflowID: d.WorkflowID, RunID: run.GetRunID(), Signal: workflows.SignalCancel}, nil
}

// RetryDelivery sends the retry signal to a delivery: a delivery waiting
// for its next attempt makes it now; one that failed for good starts a new
// round of attempts, in a new run of its workflow if the old one has closed
// (signal-with-start). A succeeded or cancelled delivery is ErrConflict, and
// so is one whose subscription was deleted or is disabled (set it active
// first). One whose subscription is paused makes the attempt, which finds
// it paused and holds the delivery until it resumes.
func (s *Service) RetryDelivery(ctx context.Context, app, id string) (Steered, error) {
	d, err := s.Store.GetDelivery(ctx, app, id)
	if err != nil {
		return Steered{}, storeErr(err, "delivery "+id)
	}
	switch d.Status {
	case store.DeliverySucceeded:
		return Steered{}, fmt.Errorf("delivery %s already succeeded: %w", id, ErrConflict)
	case store.DeliveryCancelled:
		return Steered{}, fmt.Errorf("delivery %s was cancelled, and a cancelled delivery stays cancelled: %w", id, ErrConflict)
	}
	in, err := s.deliveryInput(ctx, d, true)
	if err != nil {
		return Steered{}, err
	}
	// A run that is open (backing off, or failed and waiting in its
	// dead-letter window) gets the signal. A closed one is started again
	// only when it had failed: a closed run of any other status means the
	// delivery finished after the store was read.
	reuse := enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	if d.Status == store.DeliveryFailed {
		reuse = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
		if in.State, err = s.revivedState(ctx, d); err != nil {
			return Steered{}, err
		}
	}
	run, err := s.signalWithStart(ctx, d, in, workflows.SignalRetry, reuse)
	var closed *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &closed) {
		return Steered{}, fmt.Errorf("delivery %s has just finished: %w", id, ErrConflict)
	}
	if err != nil {
		return Steered{}, temporalErr(err, "signal retry to "+d.WorkflowID)
	}
	return Steered{ID: d.ID, WorkflowID: d.WorkflowID, RunID: run.GetRunID(), Signal: workflows.SignalRetry}, nil
}

// deliveryInput rebuilds the input the event workflow gave the delivery,
// with the subscription as it is now. forRetry refuses a deleted or
// disabled subscription; a cancel only needs the input to be well formed.
func (s *Service) deliveryInput(ctx context.Context, d store.Delivery, forRetry bool) (workflows.DeliveryInput, error) {
	ev, err := s.Store.GetEvent(ctx, d.ApplicationID, d.EventID)
	if err != nil {
		return workflows.DeliveryInput{}, storeErr(err, "event "+d.EventID)
	}
	sub, err := s.Store.GetSubscription(ctx, d.ApplicationID, d.SubscriptionID)
	switch {
	case errors.Is(err, store.ErrNotFound) && forRetry:
		return workflows.DeliveryInput{}, fmt.Errorf("subscription %s was deleted; nothing can be delivered to it: %w", d.SubscriptionID, ErrConflict)
	case errors.Is(err, store.ErrNotFound):
		sub = store.Subscription{ID: d.SubscriptionID, URL: d.URL}
	case err != nil:
		return workflows.DeliveryInput{}, storeErr(err, "subscription "+d.SubscriptionID)
	case forRetry && sub.Status == store.SubscriptionDisabled:
		return workflows.DeliveryInput{}, fmt.Errorf("subscription %s is disabled (%s); set it active before retrying: %w", d.SubscriptionID, sub.DisabledReason, ErrConflict)
	}
	return workflows.NewDeliveryInput(d.ApplicationID, ev.ID, ev.Type, s.Defaults.Target(sub.ID, sub.URL, sub.Retry, sub.Timeout)), nil
}

// revivedState is where a new run of a failed delivery starts (see
// workflows.RevivedState), from its attempt log.
func (s *Service) revivedState(ctx context.Context, d store.Delivery) (*workflows.DeliveryState, error) {
	log, err := s.Store.ListAttempts(ctx, d.ID)
	if err != nil {
		return nil, storeErr(err, "attempts of delivery "+d.ID)
	}
	attempts := make([]delivery.Attempt, len(log))
	for i, a := range log {
		attempts[i] = delivery.Attempt{
			Attempt: a.Attempt, StartedAt: a.StartedAt, DurationMs: a.DurationMs,
			StatusCode: a.StatusCode, Error: a.Error, ResponseExcerpt: a.ResponseExcerpt,
		}
	}
	return workflows.RevivedState(d.ID, d.Attempts, attempts, s.now()), nil
}

// signalWithStart signals the delivery's workflow, starting it with in
// first when no run is open and reuse allows it.
func (s *Service) signalWithStart(ctx context.Context, d store.Delivery, in workflows.DeliveryInput, signal string, reuse enumspb.WorkflowIdReusePolicy) (client.WorkflowRun, error) {
	opts := workflows.DeliveryStartOptions(in, s.TaskQueue, reuse)
	// The store is the source of truth of a delivery's workflow id: one
	// recorded before applications existed keeps the id it had.
	opts.ID = d.WorkflowID
	return s.Temporal.SignalWithStartWorkflow(ctx, opts.ID, signal, nil, opts, workflows.DeliveryWorkflowName, in)
}

// EventCancel is the answer to cancelling an event.
type EventCancel struct {
	ID         string
	WorkflowID string
	// FanOutRunning is true when the event's workflow was still starting
	// deliveries: it got the signal and cancels the deliveries itself once
	// it has stopped. Otherwise Cancelled counts the deliveries cancelled
	// here.
	FanOutRunning bool
	Cancelled     int
}

// CancelEvent cancels every delivery of an event that has not finished.
// While the event's workflow is still fanning out, the cancel signal goes
// to it, and it cancels the deliveries once no more can start; once it has
// closed (the usual case: it does not wait for its deliveries), each
// unfinished delivery gets the signal from here.
func (s *Service) CancelEvent(ctx context.Context, app, id string) (EventCancel, error) {
	ev, err := s.Store.GetEvent(ctx, app, id)
	if err != nil {
		return EventCancel{}, storeErr(err, "event "+id)
	}
	res := EventCancel{ID: ev.ID, WorkflowID: ev.WorkflowID}
	// A scheduled event has delivered nothing: once its workflow is
	// stopped it is recorded cancelled, so that it shows so.
	scheduled := !ev.Dispatched && ev.DeliverAt.After(s.now())
	markCancelled := func() error {
		if !scheduled {
			return nil
		}
		return storeErr(s.Store.MarkEventCancelled(ctx, app, ev.ID), "mark event cancelled")
	}
	if ev.RunID == "" {
		// Accepted, but the dispatcher has not started its workflow: start
		// it now with the cancel waiting, so that it cancels before it
		// fans out; the dispatcher's own start then joins it. A workflow
		// already finished refuses the start, and is handled below.
		run, err := s.Temporal.SignalWithStartWorkflow(ctx, ev.WorkflowID, workflows.SignalCancel, nil,
			dispatch.StartOptions(s.TaskQueue, ev), workflows.EventWorkflowName, dispatch.Input(ev))
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case err == nil:
			if err := s.Store.SetEventRun(ctx, app, ev.ID, run.GetRunID()); err != nil {
				return EventCancel{}, storeErr(err, "store event run")
			}
			res.FanOutRunning = true
			return res, markCancelled()
		case !errors.As(err, &already):
			return EventCancel{}, temporalErr(err, "start "+ev.WorkflowID+" to cancel it")
		}
	} else if scheduled {
		// Its workflow waits for its start delay, and a signal does not cut
		// that short: the dev server (Temporal CLI 1.5.1) keeps a signalled
		// delayed workflow waiting, with no workflow task, until the delay
		// ends. It has done nothing yet, so it is terminated; should
		// deliver_at have passed meanwhile, the deliveries it started are
		// cancelled below like those of any closed fan-out.
		err = s.Temporal.TerminateWorkflow(ctx, ev.WorkflowID, ev.RunID, "event cancelled before its deliver_at")
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			return EventCancel{}, temporalErr(err, "terminate the scheduled "+ev.WorkflowID)
		}
		if err := markCancelled(); err != nil {
			return EventCancel{}, err
		}
	} else {
		err = s.Temporal.SignalWorkflow(ctx, ev.WorkflowID, "", workflows.SignalCancel, nil)
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			res.FanOutRunning = true
			return res, markCancelled()
		case !errors.As(err, &notFound):
			return EventCancel{}, temporalErr(err, "signal cancel to "+ev.WorkflowID)
		}
	}
	res.Cancelled, err = activities.CancelUnfinished(ctx, s.Store, s.Temporal, app, ev.ID)
	switch {
	case err == nil:
		return res, nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return EventCancel{}, err
	default:
		// Deliveries signalled so far stay cancelled; posting again
		// finishes the job.
		return EventCancel{}, fmt.Errorf("cancel deliveries of %s: %w: %w", id, ErrUnavailable, err)
	}
}
