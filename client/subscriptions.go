package client

import (
	"context"
	"net/http"
	"time"
)

// Subscription is a URL subscribed to event types.
type Subscription struct {
	ID             string            `json:"id"`
	URL            string            `json:"url"`
	EventTypes     []string          `json:"event_types"`
	Description    string            `json:"description"`
	Headers        map[string]string `json:"headers"`
	Retry          *Retry            `json:"retry,omitempty"`
	TimeoutSeconds float64           `json:"timeout_seconds,omitempty"`
	// RateLimit is at most how many requests a second it gets; 0: none.
	RateLimit float64 `json:"rate_limit,omitempty"`
	// MaxInFlight is at most how many requests it gets at once; 0: none.
	MaxInFlight int    `json:"max_in_flight,omitempty"`
	Status      string `json:"status"`
	// Secret is only in the answers to create and rotate-secret.
	Secret string `json:"secret,omitempty"`
	// PreviousSecretExpiresAt is, while a rotated-out secret still signs,
	// when it stops.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	// DisabledReason says why Hookflow disabled it; FailingSince is when
	// its current run of failed attempts began. Empty and nil when none.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
}

// Retry is a subscription's own retry schedule; a field left nil follows
// the global one.
type Retry struct {
	InitialIntervalSeconds *float64 `json:"initial_interval_seconds,omitempty"`
	BackoffCoefficient     *float64 `json:"backoff_coefficient,omitempty"`
	MaxIntervalSeconds     *float64 `json:"max_interval_seconds,omitempty"`
	// MaxAttempts 0 means no limit but MaxDurationSeconds.
	MaxAttempts        *int     `json:"max_attempts,omitempty"`
	MaxDurationSeconds *float64 `json:"max_duration_seconds,omitempty"`
}

// NewSubscription is the body of a create.
type NewSubscription struct {
	URL            string            `json:"url"`
	EventTypes     []string          `json:"event_types"`
	Description    string            `json:"description,omitempty"`
	Secret         string            `json:"secret,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	Retry          *Retry            `json:"retry,omitempty"`
	TimeoutSeconds float64           `json:"timeout_seconds,omitempty"`
	// RateLimit (requests a second, > 0) and MaxInFlight (≥ 1); 0: none.
	RateLimit   float64 `json:"rate_limit,omitempty"`
	MaxInFlight int     `json:"max_in_flight,omitempty"`
}

// SubscriptionPatch is a change: fields left at their zero value keep
// theirs; Null clears Description, Headers, Retry, TimeoutSeconds,
// RateLimit and MaxInFlight.
type SubscriptionPatch struct {
	URL            string                      `json:"url,omitempty"`
	EventTypes     []string                    `json:"event_types,omitempty"`
	Description    Nullable[string]            `json:"description,omitzero"`
	Headers        Nullable[map[string]string] `json:"headers,omitzero"`
	Retry          Nullable[Retry]             `json:"retry,omitzero"`
	TimeoutSeconds Nullable[float64]           `json:"timeout_seconds,omitzero"`
	RateLimit      Nullable[float64]           `json:"rate_limit,omitzero"`
	MaxInFlight    Nullable[int]               `json:"max_in_flight,omitzero"`
	// Status is "paused" or "active".
	Status string `json:"status,omitempty"`
}

// ListSubscriptionsParams filter and page a list of subscriptions.
type ListSubscriptionsParams struct {
	ListParams
	// EventType keeps the subscriptions that receive this event type.
	EventType string
}

// CreateSubscription subscribes a URL; the answer holds its secret.
func (c *Client) CreateSubscription(ctx context.Context, in NewSubscription) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("subscriptions"), body: in, out: &out})
	return out, err
}

// ListSubscriptions reads one page of subscriptions, oldest first.
func (c *Client) ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) (Page[Subscription], error) {
	q := p.values()
	if p.EventType != "" {
		q.Set("event_type", p.EventType)
	}
	var out Page[Subscription]
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("subscriptions"), query: q, out: &out})
	return out, err
}

// GetSubscription reads one subscription (without its secret).
func (c *Client) GetSubscription(ctx context.Context, id string) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("subscriptions", id), out: &out})
	return out, err
}

// UpdateSubscription applies p and returns the subscription as it is now.
func (c *Client) UpdateSubscription(ctx context.Context, id string, p SubscriptionPatch) (Subscription, error) {
	var out Subscription
	err := c.do(ctx, request{method: http.MethodPatch, path: c.scoped("subscriptions", id), body: p, out: &out})
	return out, err
}

// DeleteSubscription removes a subscription.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: c.scoped("subscriptions", id)})
}

// SubscriptionSecret reads the current signing secret of a subscription.
func (c *Client) SubscriptionSecret(ctx context.Context, id string) (string, error) {
	var out struct {
		Secret string `json:"secret"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("subscriptions", id, "secret"), out: &out})
	return out.Secret, err
}

// RotateSecret gives a subscription a new secret, secret when not empty
// and a generated one otherwise; the old one keeps signing beside it for
// the rotation grace.
func (c *Client) RotateSecret(ctx context.Context, id, secret string) (Subscription, error) {
	var body any
	if secret != "" {
		body = map[string]string{"secret": secret}
	}
	var out Subscription
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("subscriptions", id, "rotate-secret"), body: body, out: &out})
	return out, err
}

// SendTestEvent sends an event of type hookflow.test to the one
// subscription id, and to no other.
func (c *Client) SendTestEvent(ctx context.Context, id string) (Accepted, error) {
	var out Accepted
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("subscriptions", id, "test"), out: &out})
	return out, err
}
