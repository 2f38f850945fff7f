// Package operational publishes Hookflow's events about itself to the
// application _operational, which any platform operator may subscribe to
// like to any other: a subscription that Hookflow disabled, a delivery
// that gave up. They are events like any other (stored, dispatched by the
// outbox, fanned out, signed), so they are as durable and visible.
package operational

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
)

// Event types.
const (
	TypeSubscriptionDisabled = "subscription.disabled"
	TypeDeliveryFailed       = "delivery.failed"
)

// SubscriptionDisabled is the data of a subscription.disabled event.
type SubscriptionDisabled struct {
	ApplicationID  string `json:"application_id"`
	SubscriptionID string `json:"subscription_id"`
	// URL is shown without query string or user info, where a receiver's
	// token may sit (delivery.DisplayURL).
	URL          string    `json:"url"`
	Reason       string    `json:"reason"`
	FailingSince time.Time `json:"failing_since"`
}

// DeliveryFailed is the data of a delivery.failed event.
type DeliveryFailed struct {
	ApplicationID  string `json:"application_id"`
	SubscriptionID string `json:"subscription_id"`
	EventID        string `json:"event_id"`
	DeliveryID     string `json:"delivery_id"`
	Attempts       int    `json:"attempts"`
	LastStatusCode int    `json:"last_status_code,omitempty"`
	LastError      string `json:"last_error,omitempty"`
}

// Publisher stores operational events; the API processes' dispatchers
// start their workflows (within a sweep, a second by default).
type Publisher struct {
	Store store.Store
}

// Disabled publishes that sub was disabled. The subscription's
// updated_at, which the disable set, names the event, so that a second
// report of one disable publishes nothing more.
func (p Publisher) Disabled(ctx context.Context, sub store.Subscription) error {
	if sub.ApplicationID == store.OperationalApplication {
		// None about _operational's own subscriptions: a broken
		// operational receiver would report itself to itself.
		return nil
	}
	return p.publish(ctx, TypeSubscriptionDisabled,
		TypeSubscriptionDisabled+"/"+sub.ApplicationID+"/"+sub.ID+"/"+strconv.FormatInt(sub.UpdatedAt.UnixMicro(), 10),
		SubscriptionDisabled{ApplicationID: sub.ApplicationID, SubscriptionID: sub.ID, URL: delivery.DisplayURL(sub.URL),
			Reason: sub.DisabledReason, FailingSince: sub.FailingSince}, sub.UpdatedAt)
}

// Failed publishes that a delivery gave up after round, its round of
// attempts (a retry's new round that gives up again is another event).
func (p Publisher) Failed(ctx context.Context, f DeliveryFailed, roundStart, now time.Time) error {
	if f.ApplicationID == store.OperationalApplication {
		return nil
	}
	return p.publish(ctx, TypeDeliveryFailed,
		TypeDeliveryFailed+"/"+f.ApplicationID+"/"+f.DeliveryID+"/"+strconv.FormatInt(roundStart.UnixMicro(), 10), f, now)
}

func (p Publisher) publish(ctx context.Context, eventType, key string, data any, now time.Time) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("operational: encode %s: %w", eventType, err)
	}
	id := ids.Operational(key)
	payload, err := json.Marshal(delivery.Envelope{ID: id, Type: eventType, Timestamp: now.UTC().Format(time.RFC3339), Data: raw})
	if err != nil {
		return fmt.Errorf("operational: encode %s: %w", eventType, err)
	}
	app := store.OperationalApplication
	_, _, err = p.Store.CreateEvent(ctx, store.Event{
		ApplicationID: app, ID: id, Type: eventType, Payload: payload, BodyHash: "operational:" + id,
		WorkflowID: ids.EventWorkflow(app, id), CreatedAt: now,
	})
	if err != nil {
		return fmt.Errorf("operational: store %s %s: %w", eventType, id, err)
	}
	return nil
}
