package client

import (
	"context"
	"net/http"
	"time"
)

// DeliverySummary is a delivery as lists show it.
type DeliverySummary struct {
	ID             string `json:"id"`
	EventID        string `json:"event_id,omitempty"`
	SubscriptionID string `json:"subscription_id"`
	Status         string `json:"status"`
	// Attempts counts the attempts made.
	Attempts   int    `json:"attempts"`
	WorkflowID string `json:"workflow_id"`
}

// Delivery is one event's delivery to one subscription, with its attempts.
type Delivery struct {
	ID             string    `json:"id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	URL            string    `json:"url"`
	Status         string    `json:"status"`
	Attempts       []Attempt `json:"attempts"`
	// NextAttemptAt is when the next attempt is due; nil when none is.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	WorkflowID    string     `json:"workflow_id"`
	RunID         string     `json:"run_id"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Attempt is one POST to the subscriber.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	// StatusCode is nil when no answer came.
	StatusCode      *int   `json:"status_code"`
	Error           string `json:"error"`
	ResponseExcerpt string `json:"response_excerpt"`
}

// Steered is the answer to a delivery's cancel or retry: the signal was
// sent to its workflow.
type Steered struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	// RunID is the run signalled (a new one when a retry revived the
	// delivery).
	RunID  string `json:"run_id,omitempty"`
	Status string `json:"status"`
}

// GetDelivery reads a delivery and its newest attempts.
func (c *Client) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	var out Delivery
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("deliveries", id), out: &out})
	return out, err
}

// RetryDelivery attempts a delivery now if it is backing off, or starts a
// new round of attempts if it failed for good.
func (c *Client) RetryDelivery(ctx context.Context, id string) (Steered, error) {
	var out Steered
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("deliveries", id, "retry"), out: &out})
	return out, err
}

// CancelDelivery stops a delivery that has not finished.
func (c *Client) CancelDelivery(ctx context.Context, id string) (Steered, error) {
	var out Steered
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("deliveries", id, "cancel"), out: &out})
	return out, err
}

// EventDeliveries lists every delivery of one event, read from the event
// (GET .../events/{id}). The message log's filtered, paginated list of
// deliveries (GET .../deliveries) is not served yet.
func (c *Client) EventDeliveries(ctx context.Context, eventID string) ([]DeliverySummary, error) {
	ev, err := c.GetEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	for i := range ev.Deliveries {
		ev.Deliveries[i].EventID = ev.ID
	}
	return ev.Deliveries, nil
}
