package client

import (
	"context"
	"net/http"
	"time"
)

// Resent is the answer to a resend: the new delivery and its workflow.
type Resent struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
}

// Resend sends a delivery's event again to its subscription as a new
// delivery (same webhook-id), whatever the first one's status.
func (c *Client) Resend(ctx context.Context, deliveryID string) (Resent, error) {
	var out Resent
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("deliveries", deliveryID, "resend"), out: &out})
	return out, err
}

// RecoverWindow is the window of a recovery: events created at or after
// Since and before Until; a zero Until is now.
type RecoverWindow struct {
	Since time.Time
	Until time.Time
}

// Recovery is a recovery's status and counts.
type Recovery struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscription_id"`
	WorkflowID     string `json:"workflow_id"`
	// Status is running, completed or cancelled (cancel_requested in the
	// answer to a cancel of a running one).
	Status    string    `json:"status"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Matched   int       `json:"matched"`
	Resent    int       `json:"resent"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Recover resends everything the subscription missed in the window: its
// failed deliveries, and the events it never got. The same window asked
// for again while its recovery runs returns that recovery.
func (c *Client) Recover(ctx context.Context, subscriptionID string, w RecoverWindow) (Recovery, error) {
	body := map[string]string{"since": w.Since.UTC().Format(time.RFC3339Nano)}
	if !w.Until.IsZero() {
		body["until"] = w.Until.UTC().Format(time.RFC3339Nano)
	}
	var out Recovery
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("subscriptions", subscriptionID, "recover"), body: body, out: &out})
	return out, err
}

// GetRecovery reads a recovery, while it runs or after it has ended.
func (c *Client) GetRecovery(ctx context.Context, id string) (Recovery, error) {
	var out Recovery
	err := c.do(ctx, request{method: http.MethodGet, path: c.scoped("recoveries", id), out: &out})
	return out, err
}

// CancelRecovery stops a running recovery before its next resend.
func (c *Client) CancelRecovery(ctx context.Context, id string) (Recovery, error) {
	var out Recovery
	err := c.do(ctx, request{method: http.MethodPost, path: c.scoped("recoveries", id, "cancel"), out: &out})
	return out, err
}
