package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// NewEvent is an event to publish.
type NewEvent struct {
	// ID makes the publish idempotent; empty lets Hookflow choose one.
	ID   string          `json:"id,omitempty"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
	// DeliverAt, when set, holds every delivery back until then (at most
	// 30 days ahead).
	DeliverAt *time.Time `json:"deliver_at,omitempty"`
	// IdempotencyKey, when set, is sent as the Idempotency-Key header (and
	// becomes the event's id).
	IdempotencyKey string `json:"-"`
}

// Accepted is the answer to a publish: the event is stored and will be
// delivered.
type Accepted struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Status     string `json:"status"`
}

// Event is a published event with its deliveries.
type Event struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	WorkflowID string            `json:"workflow_id"`
	RunID      string            `json:"run_id,omitempty"`
	DeliverAt  *time.Time        `json:"deliver_at,omitempty"`
	Deliveries []DeliverySummary `json:"deliveries"`
}

// EventCancel is the answer to an event's cancel.
type EventCancel struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
	// CancelledDeliveries counts the deliveries cancelled; nil while the
	// fan-out still runs, which then cancels them itself.
	CancelledDeliveries *int `json:"cancelled_deliveries,omitempty"`
}

// SendEvent publishes an event.
func (c *Client) SendEvent(ctx context.Context, in NewEvent) (Accepted, error) {
	var h http.Header
	if in.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
	}
	var out Accepted
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("events"), body: in, header: h, out: &out})
	return out, err
}

// GetEvent reads an event and its deliveries.
func (c *Client) GetEvent(ctx context.Context, id string) (Event, error) {
	var out Event
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("events", id), out: &out})
	return out, err
}

// CancelEvent cancels every delivery of the event that has not finished.
func (c *Client) CancelEvent(ctx context.Context, id string) (EventCancel, error) {
	var out EventCancel
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("events", id, "cancel"), out: &out})
	return out, err
}
