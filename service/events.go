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

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// Event statuses, derived from the fan-out and its deliveries.
const (
	EventPending    = "pending"    // the fan-out has not started every delivery yet
	EventDelivering = "delivering" // some delivery has not ended
	EventCompleted  = "completed"  // every delivery ended
)

// NewEvent is an event as a producer posts it.
type NewEvent struct {
	// ID is the client's id or Idempotency-Key; empty: generate one.
	ID   string
	Type string
	Data json.RawMessage
}

// Accepted is the answer to a posted event.
type Accepted struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Status     string `json:"status"`
	// Replayed is true when an earlier post of the same event was
	// answered, and this answer repeats it.
	Replayed bool `json:"-"`
}

// envelope is the body every subscriber receives.
type envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Publish accepts an event for good or not at all: it is stored, then its
// workflow is started under an id derived from the event id, so the same
// event posted twice, even by two API processes at once, starts one
// workflow. Posting it again returns the first answer; another body under
// the same id is ErrConflict.
func (s *Service) Publish(ctx context.Context, app string, in NewEvent) (Accepted, error) {
	clientID := in.ID != ""
	if !clientID {
		in.ID = ids.NewEvent()
	}
	hash := bodyHash(in.Type, in.Data)
	if err := s.checkEvent(ctx, in.Type, in.Data); err != nil {
		// An event accepted before its type's schema changed is still
		// accepted: its repeat gets the first answer.
		if ev, gerr := s.Store.GetEvent(ctx, app, in.ID); clientID && gerr == nil && ev.RunID != "" && ev.BodyHash == hash {
			acc := accepted(ev)
			acc.Replayed = true
			return acc, nil
		}
		return Accepted{}, err
	}
	now := s.now()
	payload, err := json.Marshal(envelope{ID: in.ID, Type: in.Type, Timestamp: now.Format(time.RFC3339), Data: in.Data})
	if err != nil {
		return Accepted{}, fmt.Errorf("%w: data: %w", ErrInvalid, err)
	}
	ev, created, err := s.Store.CreateEvent(ctx, store.Event{
		ApplicationID: app, ID: in.ID, Type: in.Type, Payload: payload, BodyHash: hash,
		WorkflowID: ids.EventWorkflow(app, in.ID), CreatedAt: now,
	})
	if errors.Is(err, store.ErrConflict) {
		return Accepted{}, fmt.Errorf("event %s was already posted with another body: %w", in.ID, ErrConflict)
	}
	if err != nil {
		return Accepted{}, storeErr(err, "store event")
	}
	if ev.RunID != "" {
		acc := accepted(ev)
		acc.Replayed = true
		return acc, nil
	}

	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        ev.WorkflowID,
		TaskQueue: s.TaskQueue,
		// A concurrent post of the same event joins the running workflow;
		// a finished one is never run again.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		EnableEagerStart:         true,
		StaticSummary:            workflows.EventSummary(app, ev.Type, ev.ID),
		TypedSearchAttributes:    workflows.EventSearchAttributes(app, ev.Type, ev.ID),
	}, workflows.EventWorkflowName, workflows.EventInput{ApplicationID: app, EventID: ev.ID, EventType: ev.Type})
	var runID string
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		runID = run.GetRunID()
	case errors.As(err, &already):
		runID = already.RunId
	default:
		if created {
			// Nothing half-stored: the caller got no 2xx, and a retried post
			// must be free to carry another body.
			_ = s.Store.DeleteEvent(context.WithoutCancel(ctx), app, ev.ID)
		}
		return Accepted{}, temporalErr(err, "start event workflow")
	}
	if err := s.Store.SetEventRun(ctx, app, ev.ID, runID); err != nil {
		return Accepted{}, storeErr(err, "store event run")
	}
	if created {
		// Only the post that stored the event counts it: a concurrent post
		// of the same event joins the same workflow.
		s.Metrics.EventAccepted()
		s.log().Info("event accepted", "application", app, "event", ev.ID, "type", ev.Type, "workflow_id", ev.WorkflowID, "run_id", runID)
	}
	ev.RunID = runID
	acc := accepted(ev)
	acc.Replayed = !created
	return acc, nil
}

func accepted(ev store.Event) Accepted {
	return Accepted{ID: ev.ID, Type: ev.Type, WorkflowID: ev.WorkflowID, RunID: ev.RunID, Status: "accepted"}
}

// bodyHash identifies what was posted, so a repeat can be told from a
// different event under the same id. json.Compact makes it blind to layout.
func bodyHash(eventType string, data json.RawMessage) string {
	h := sha256.New()
	h.Write([]byte(eventType))
	h.Write([]byte{0})
	h.Write(compact(data))
	return hex.EncodeToString(h.Sum(nil))
}

// EventView is an event with its deliveries.
type EventView struct {
	Event      store.Event
	Status     string
	Deliveries []store.Delivery
}

// GetEvent returns an accepted event and its deliveries.
func (s *Service) GetEvent(ctx context.Context, app, id string) (EventView, error) {
	ev, err := s.Store.GetEvent(ctx, app, id)
	if err == nil && ev.RunID == "" {
		err = store.ErrNotFound // stored but never accepted
	}
	if err != nil {
		return EventView{}, storeErr(err, fmt.Sprintf("event %s", id))
	}
	ds, err := s.Store.ListDeliveries(ctx, app, id)
	if err != nil {
		return EventView{}, storeErr(err, "list deliveries")
	}
	view := EventView{Event: ev, Deliveries: ds, Status: EventCompleted}
	if !ev.Dispatched {
		view.Status = EventPending
	} else {
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
