package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
)

// Resend is a delivery recorded in the store (a resend, or the first
// delivery of an event a subscription missed) whose workflow is to start.
type Resend struct {
	ApplicationID string
	DeliveryID    string
	EventID       string
	EventType     string
	Target        delivery.Target
}

// Starter starts the workflow of a resend on the delivery queue of
// taskQueue; a workflow of its id that runs or ran already counts as
// started, so that a page run again after a crash starts nothing twice.
// workflows.StartResend is the one the worker uses: package workflows
// imports this one, so the start (its id, queue, summary and search
// attributes) is built there, by the one builder of delivery starts.
type Starter func(ctx context.Context, c client.Client, taskQueue string, r Resend) error

// Recovery phases: first the subscription's failed deliveries, then the
// events it never got a delivery of.
const (
	PhaseFailed      = "failed"
	PhaseUndelivered = "undelivered"
)

// ResendConcurrency bounds the workflow starts one recovery page makes at
// once; how hard the resends then press on a receiver that has just come
// back is the subscription's rate_limit and max_in_flight, which their
// attempts obey like any other.
const ResendConcurrency = 16

// RecoverPageInput asks for one page of a recovery.
type RecoverPageInput struct {
	RecoveryID     string
	ApplicationID  string
	SubscriptionID string
	Since, Until   time.Time
	Phase          string
	// AfterID and AfterTime are the cursor: the last item of the previous
	// page of this phase.
	AfterID   string
	AfterTime time.Time `json:",omitzero"`
	Limit     int
	// TaskQueue is the recovery workflow's queue; the resends run on its
	// delivery queue.
	TaskQueue string
	// Matched and Resent are the recovery's counts before this page; the
	// page writes them, with its own, to the recovery's row.
	Matched, Resent int
}

// RecoverPageResult is what one page found and resent, and where the next
// page starts. Done ends the phase; Gone says the subscription was
// deleted, which ends the recovery.
type RecoverPageResult struct {
	Matched, Resent int
	AfterID         string
	AfterTime       time.Time `json:",omitzero"`
	Done, Gone      bool
}

// RecoverPage reads one page of what a recovery resends, records the new
// deliveries and starts their workflows. Every new delivery's id is
// derived from the recovery and the delivery or event it resends (see
// ids.Resend), so a page run again after a crash finds the deliveries and
// workflows it made and makes none twice. The recovery's row gets the
// counts after the page, so that GET .../recoveries/{id} shows progress.
func (a *Activities) RecoverPage(ctx context.Context, in RecoverPageInput) (RecoverPageResult, error) {
	if a.StartResend == nil {
		return RecoverPageResult{}, errors.New("activities: no Starter configured for resends")
	}
	sub, err := a.Store.GetSubscription(ctx, in.ApplicationID, in.SubscriptionID)
	if errors.Is(err, store.ErrNotFound) {
		return RecoverPageResult{Done: true, Gone: true}, a.Store.UpdateRecovery(ctx, in.RecoveryID, store.RecoveryRunning, in.Matched, in.Resent)
	}
	if err != nil {
		return RecoverPageResult{}, fmt.Errorf("load subscription %s: %w", in.SubscriptionID, err)
	}
	p := store.RecoverParams{
		ApplicationID: in.ApplicationID, SubscriptionID: in.SubscriptionID, Since: in.Since, Until: in.Until,
		AfterID: in.AfterID, AfterTime: in.AfterTime, Limit: in.Limit, RecoveryID: in.RecoveryID,
	}
	now := a.now()
	var (
		res     RecoverPageResult
		adds    []store.Delivery
		resends []Resend
	)
	add := func(id, eventID, eventType, from string) {
		adds = append(adds, store.Delivery{
			ID: id, ApplicationID: in.ApplicationID, EventID: eventID, SubscriptionID: sub.ID, URL: sub.URL,
			WorkflowID: ids.DeliveryWorkflow(in.ApplicationID, id), ResentFrom: from, RecoveryID: in.RecoveryID, UpdatedAt: now,
		})
		resends = append(resends, Resend{ApplicationID: in.ApplicationID, DeliveryID: id, EventID: eventID, EventType: eventType,
			Target: a.Defaults.Target(sub.ID, sub.URL, sub.Retry, sub.Timeout)})
	}
	switch in.Phase {
	case PhaseFailed:
		page, err := a.Store.ListResendable(ctx, p)
		if err != nil {
			return RecoverPageResult{}, err
		}
		res.Done, res.AfterID = len(page) < in.Limit, in.AfterID
		for _, r := range page {
			res.AfterID = r.Delivery.ID
			id := ids.Resend(r.Delivery.ID, in.RecoveryID)
			switch {
			case r.Delivery.RecoveryID == in.RecoveryID:
				// This recovery's own resend, failed again already: it was
				// sent once by this recovery, which is what was asked.
				continue
			case r.Delivery.SupersededBy != "" && r.Delivery.SupersededBy != id:
				// A newer delivery of the pair exists; it is the one to
				// resend if it failed. One superseded by this recovery's
				// own resend is this page read again after a crash: its
				// resend is started again (a no-op if it was).
				continue
			}
			add(id, r.Delivery.EventID, r.EventType, r.Delivery.ID)
		}
	case PhaseUndelivered:
		// An event from before the subscription existed never matched it.
		p.Since = maxTime(p.Since, sub.CreatedAt)
		page, err := a.Store.ListUndelivered(ctx, p)
		if err != nil {
			return RecoverPageResult{}, err
		}
		res.Done, res.AfterID, res.AfterTime = len(page) < in.Limit, in.AfterID, in.AfterTime
		for _, e := range page {
			res.AfterID, res.AfterTime = e.ID, e.CreatedAt
			if matches(sub.EventTypes, e.Type) {
				add(ids.Delivery(e.ID, sub.ID), e.ID, e.Type, "")
			}
		}
	default:
		return RecoverPageResult{}, fmt.Errorf("unknown recovery phase %q", in.Phase)
	}
	res.Matched = len(adds)
	if err := a.Store.AddResends(ctx, adds); err != nil {
		return RecoverPageResult{}, fmt.Errorf("record resends of recovery %s: %w", in.RecoveryID, err)
	}
	if err := a.startAll(ctx, in.TaskQueue, resends); err != nil {
		return RecoverPageResult{}, err
	}
	res.Resent = len(resends)
	if err := a.Store.UpdateRecovery(ctx, in.RecoveryID, store.RecoveryRunning, in.Matched+res.Matched, in.Resent+res.Resent); err != nil {
		return RecoverPageResult{}, err
	}
	return res, nil
}

// startAll starts the resends' workflows, ResendConcurrency at a time,
// heartbeating so that a worker that dies mid-page is noticed soon.
func (a *Activities) startAll(ctx context.Context, taskQueue string, resends []Resend) error {
	if len(resends) == 0 {
		return nil
	}
	c := activity.GetClient(ctx)
	return inParallel(ctx, len(resends), ResendConcurrency, func(ctx context.Context, i int) error {
		if err := a.StartResend(ctx, c, taskQueue, resends[i]); err != nil {
			return fmt.Errorf("start resend %s: %w", resends[i].DeliveryID, err)
		}
		return nil
	})
}

// FinishRecoveryInput records how a recovery ended.
type FinishRecoveryInput struct {
	RecoveryID      string
	Status          string
	Matched, Resent int
}

// FinishRecovery writes a recovery's final status and counts.
func (a *Activities) FinishRecovery(ctx context.Context, in FinishRecoveryInput) error {
	return a.Store.UpdateRecovery(ctx, in.RecoveryID, in.Status, in.Matched, in.Resent)
}

// matches reports whether a subscription with patterns receives eventType.
func matches(patterns []string, eventType string) bool {
	for _, p := range store.MatchPatterns(eventType) {
		if slices.Contains(patterns, p) {
			return true
		}
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
