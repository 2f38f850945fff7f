package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Window bounds a list of the message log by creation time: Since
// inclusive, Until exclusive; zero is no bound.
type Window struct {
	Since, Until time.Time
}

func (w Window) set(q url.Values) {
	if !w.Since.IsZero() {
		q.Set("since", w.Since.Format(time.RFC3339Nano))
	}
	if !w.Until.IsZero() {
		q.Set("until", w.Until.Format(time.RFC3339Nano))
	}
}

// ListEventsParams filter and page the message log of events.
type ListEventsParams struct {
	ListParams
	Window
	// Type keeps the events of this exact type.
	Type string
}

// EventLogItem is an event as the message log lists it, without its
// deliveries (GetEvent has them).
type EventLogItem struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	CreatedAt  time.Time  `json:"created_at"`
	DeliverAt  *time.Time `json:"deliver_at"`
	WorkflowID string     `json:"workflow_id"`
	RunID      string     `json:"run_id"`
}

// ListEvents reads one page of events, newest first.
func (c *Client) ListEvents(ctx context.Context, p ListEventsParams) (Page[EventLogItem], error) {
	q := p.values()
	p.Window.set(q)
	if p.Type != "" {
		q.Set("type", p.Type)
	}
	var out Page[EventLogItem]
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("events"), query: q, out: &out})
	return out, err
}

// ListDeliveriesParams filter and page the message log of deliveries;
// the filters combine.
type ListDeliveriesParams struct {
	ListParams
	Window
	SubscriptionID string
	EventID        string
	Status         string
}

// DeliveryLogItem is a delivery as the message log lists it.
type DeliveryLogItem struct {
	ID             string    `json:"id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	CreatedAt      time.Time `json:"created_at"`
	WorkflowID     string    `json:"workflow_id"`
}

// ListDeliveries reads one page of deliveries, newest first.
func (c *Client) ListDeliveries(ctx context.Context, p ListDeliveriesParams) (Page[DeliveryLogItem], error) {
	q := p.values()
	p.Window.set(q)
	for k, v := range map[string]string{"subscription_id": p.SubscriptionID, "event_id": p.EventID, "status": p.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out Page[DeliveryLogItem]
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("deliveries"), query: q, out: &out})
	return out, err
}
