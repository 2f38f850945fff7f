package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
)

// Event statuses, derived from the fan-out and its deliveries.
const (
	EventScheduled  = "scheduled"  // waiting for deliver_at; nothing is delivered before
	EventCancelled  = "cancelled"  // cancelled before its fan-out ran
	EventPending    = "pending"    // the workflow or its fan-out has not started every delivery yet
	EventDelivering = "delivering" // some delivery has not ended
	EventCompleted  = "completed"  // every delivery ended
)

// NewEvent is an event as a producer posts it.
type NewEvent struct {
	// ID is the client's id or Idempotency-Key; empty: generate one.
	ID   string
	Type string
	Data json.RawMessage
	// DeliverAt, when set, holds every delivery back until then; it must
	// lie ahead, by at most MaxDeliverAhead.
	DeliverAt time.Time
	// target is the one subscription a test event goes to (SendTestEvent);
	// producers cannot set it.
	target string
}

// MaxDeliverAhead bounds deliver_at: a month is as far ahead as any
// producer schedules a webhook, and bounds what waits in Temporal.
const MaxDeliverAhead = 30 * 24 * time.Hour

// Accepted is the answer to a posted event. It has no run id: the
// event's workflow starts after the answer (GET shows the run then).
type Accepted struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
	// DeliverAt is the time before which nothing is delivered, when set.
	DeliverAt *time.Time `json:"deliver_at,omitempty"`
	// Replayed is true when an earlier post of the same event was
	// answered, and this answer repeats it.
	Replayed bool `json:"-"`
}

// RetryLaterError is ErrUnavailable with the time after which a retry
// is likely to succeed: the backlog of accepted events is full.
type RetryLaterError struct {
	Message    string
	RetryAfter time.Duration
}

func (e *RetryLaterError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrUnavailable) true.
func (e *RetryLaterError) Unwrap() error { return ErrUnavailable }

// backlogRetryAfter is what a producer refused for a full backlog is told
// to wait: the dispatcher starts thousands of workflows in that time when
// Temporal answers, and a producer that waits less only adds load.
const backlogRetryAfter = 10 * time.Second

// Publish accepts an event for good or not at all, at the speed of the
// database: the one insert that stores it accepts it, and the dispatcher,
// woken here, starts its workflow after the answer, under an id derived
// from the event id, so that the same event posted twice, even to two API
// processes at once, starts one workflow. Posting it again returns the
// first answer; another body under the same id is ErrConflict. Past
// MaxPendingEvents waiting to start, a new event is a RetryLaterError.
func (s *Service) Publish(ctx context.Context, app string, in NewEvent) (Accepted, error) {
	clientID := in.ID != ""
	if !clientID {
		in.ID = ids.NewEvent()
	}
	hash := bodyHash(in.Type, in.Data, in.DeliverAt)
	// An event accepted before its type's schema changed, or before the
	// backlog filled, is still accepted: its repeat gets the first answer.
	replay := func() (Accepted, bool) {
		if ev, err := s.Store.GetEvent(ctx, app, in.ID); clientID && err == nil && ev.BodyHash == hash {
			acc := accepted(ev)
			acc.Replayed = true
			return acc, true
		}
		return Accepted{}, false
	}
	now := s.now()
	if err := checkDeliverAt(in.DeliverAt, now); err != nil {
		// A repeat of a scheduled event after its time gets the first
		// answer, not a 400.
		if acc, ok := replay(); ok {
			return acc, nil
		}
		return Accepted{}, err
	}
	// A test event (target set) is Hookflow's own type, not in the
	// producer's registry.
	if err := s.checkEvent(ctx, in.Type, in.Data); err != nil && in.target == "" {
		if acc, ok := replay(); ok {
			return acc, nil
		}
		return Accepted{}, err
	}
	if pending, full := s.backlogFull(ctx); full {
		if acc, ok := replay(); ok {
			return acc, nil
		}
		return Accepted{}, &RetryLaterError{
			Message: fmt.Sprintf("%d accepted events are waiting for their workflows to start (HOOKFLOW_MAX_PENDING_EVENTS is %d): "+
				"nothing was stored, retry later", pending, s.MaxPendingEvents),
			RetryAfter: backlogRetryAfter,
		}
	}
	payload, err := json.Marshal(delivery.Envelope{ID: in.ID, Type: in.Type, Timestamp: now.Format(time.RFC3339), Data: in.Data})
	if err != nil {
		return Accepted{}, fmt.Errorf("%w: data: %w", ErrInvalid, err)
	}
	ev, created, err := s.Store.CreateEvent(ctx, store.Event{
		ApplicationID: app, ID: in.ID, Type: in.Type, Payload: payload, BodyHash: hash,
		WorkflowID: ids.EventWorkflow(app, in.ID), DeliverAt: in.DeliverAt, CreatedAt: now,
		TargetSubscriptionID: in.target,
	})
	if errors.Is(err, store.ErrConflict) {
		return Accepted{}, fmt.Errorf("event %s was already posted with another body: %w", in.ID, ErrConflict)
	}
	if err != nil {
		return Accepted{}, storeErr(err, "store event")
	}
	acc := accepted(ev)
	if !created {
		// A concurrent or repeated post of the same event: the first
		// post stored it and woke the dispatcher.
		acc.Replayed = true
		return acc, nil
	}
	s.Metrics.EventAccepted()
	s.Dispatch.Accepted()
	s.log().Info("event accepted", "application", app, "event", ev.ID, "type", ev.Type, "workflow_id", ev.WorkflowID)
	return acc, nil
}

// backlogFull reports whether MaxPendingEvents events wait for their
// workflows, and how many do. The dispatcher's estimate answers at once; it
// can count an accept that raced its last count twice, so when it says
// full the store is asked, a count only a full backlog pays for, and a
// producer is never refused for an event that is not there.
func (s *Service) backlogFull(ctx context.Context) (int, bool) {
	pending := s.Dispatch.Status().Pending
	if s.MaxPendingEvents <= 0 || pending < s.MaxPendingEvents {
		return pending, false
	}
	if st, err := s.Store.OutboxStats(ctx); err == nil {
		pending = st.Pending
	}
	return pending, pending >= s.MaxPendingEvents
}

func accepted(ev store.Event) Accepted {
	acc := Accepted{ID: ev.ID, Type: ev.Type, WorkflowID: ev.WorkflowID, Status: "accepted"}
	if !ev.DeliverAt.IsZero() {
		acc.DeliverAt = &ev.DeliverAt
	}
	return acc
}

// checkDeliverAt refuses a deliver_at in the past or more than
// MaxDeliverAhead ahead of now.
func checkDeliverAt(at, now time.Time) error {
	switch {
	case at.IsZero():
		return nil
	case at.Before(now):
		return invalid("the request has invalid fields", FieldProblem{Field: "deliver_at", Rule: "future",
			Message: "must not be in the past (leave it out to deliver at once)"})
	case at.Sub(now) > MaxDeliverAhead:
		return invalid("the request has invalid fields", FieldProblem{Field: "deliver_at", Rule: "max",
			Message: "must be at most 30 days ahead"})
	}
	return nil
}

// bodyHash identifies what was posted, so a repeat can be told from a
// different event under the same id. json.Compact makes it blind to layout.
// deliver_at is part of what was posted; an event without one hashes as it
// did before deliver_at existed, so its repeats still match.
func bodyHash(eventType string, data json.RawMessage, deliverAt time.Time) string {
	h := sha256.New()
	h.Write([]byte(eventType))
	h.Write([]byte{0})
	h.Write(compact(data))
	if !deliverAt.IsZero() {
		h.Write([]byte{0})
		h.Write([]byte(deliverAt.UTC().Format(time.RFC3339Nano)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EventView is an event with its deliveries.
type EventView struct {
	Event      store.Event
	Status     string
	Deliveries []store.Delivery
}

// GetEvent returns an accepted event and its deliveries. Its RunID is
// empty until the dispatcher has started its workflow.
func (s *Service) GetEvent(ctx context.Context, app, id string) (EventView, error) {
	ev, err := s.Store.GetEvent(ctx, app, id)
	if err != nil {
		return EventView{}, storeErr(err, fmt.Sprintf("event %s", id))
	}
	ds, err := s.Store.ListDeliveries(ctx, app, id)
	if err != nil {
		return EventView{}, storeErr(err, "list deliveries")
	}
	view := EventView{Event: ev, Deliveries: ds, Status: EventCompleted}
	switch {
	case ev.Cancelled:
		view.Status = EventCancelled
	case !ev.Dispatched && ev.DeliverAt.After(s.now()):
		view.Status = EventScheduled
	case !ev.Dispatched:
		view.Status = EventPending
	default:
		for _, d := range ds {
			if !Terminal(d.Status) {
				view.Status = EventDelivering
				break
			}
		}
	}
	return view, nil
}

// Terminal reports whether a delivery status is final unless a retry
// revives it.
func Terminal(status string) bool {
	return status == store.DeliverySucceeded || status == store.DeliveryFailed || status == store.DeliveryCancelled
}

func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
