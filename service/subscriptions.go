package service

import (
	"context"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// NewSubscription is what a caller may set when creating a subscription;
// the API has validated it.
type NewSubscription struct {
	URL         string
	EventTypes  []string
	Description string
	Secret      string // empty: generate one
	Headers     map[string]string
	Retry       *store.RetryOverride
	Timeout     time.Duration
	// RateLimit and MaxInFlight: 0 for no limit.
	RateLimit   float64
	MaxInFlight int
}

// CreateSubscription stores a new active subscription and returns it with
// its secret.
func (s *Service) CreateSubscription(ctx context.Context, app string, in NewSubscription) (store.Subscription, error) {
	if err := s.checkTargetURL(ctx, in.URL); err != nil {
		return store.Subscription{}, err
	}
	secret := in.Secret
	if secret == "" {
		var err error
		if secret, err = signing.NewSecret(); err != nil {
			return store.Subscription{}, err
		}
	}
	now := s.now()
	sub := store.Subscription{
		ID: ids.NewSubscription(), ApplicationID: app, URL: in.URL, EventTypes: in.EventTypes, Description: in.Description,
		Secret: secret, Headers: in.Headers, Retry: in.Retry, Timeout: in.Timeout,
		RateLimit: in.RateLimit, MaxInFlight: in.MaxInFlight,
		Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateSubscription(ctx, sub); err != nil {
		return store.Subscription{}, storeErr(err, "create subscription")
	}
	return sub, nil
}

// GetSubscription returns one subscription.
func (s *Service) GetSubscription(ctx context.Context, app, id string) (store.Subscription, error) {
	sub, err := s.Store.GetSubscription(ctx, app, id)
	return sub, storeErr(err, fmt.Sprintf("subscription %s", id))
}

// GetSubscriptionSecret returns the current signing secret of a
// subscription. It is the one read that hands a secret out after creation
// and rotation.
func (s *Service) GetSubscriptionSecret(ctx context.Context, app, id string) (string, error) {
	sub, err := s.Store.GetSubscription(ctx, app, id)
	if err != nil {
		return "", storeErr(err, fmt.Sprintf("subscription %s", id))
	}
	return sub.Secret, nil
}

// ListSubscriptions returns a page of subscriptions and the cursor of the
// next page, empty on the last one.
func (s *Service) ListSubscriptions(ctx context.Context, p store.ListSubscriptionsParams) ([]store.Subscription, string, error) {
	// One more than asked tells whether another page follows.
	limit := p.Limit
	p.Limit++
	subs, err := s.Store.ListSubscriptions(ctx, p)
	if err != nil {
		return nil, "", storeErr(err, "list subscriptions")
	}
	if len(subs) > limit {
		subs = subs[:limit]
		return subs, subs[limit-1].ID, nil
	}
	return subs, "", nil
}

// DeleteSubscription removes a subscription. Deliveries in flight to it end
// failed at their next attempt.
func (s *Service) DeleteSubscription(ctx context.Context, app, id string) error {
	return storeErr(s.Store.DeleteSubscription(ctx, app, id), fmt.Sprintf("subscription %s", id))
}

// SubscriptionPatch changes a subscription. A nil field, or a false Set
// flag, keeps what is there; Headers and Retry, when set, replace the whole
// value (nil removes it).
type SubscriptionPatch struct {
	URL         *string
	EventTypes  []string
	Description *string
	SetHeaders  bool
	Headers     map[string]string
	SetRetry    bool
	Retry       *store.RetryOverride
	// SetTimeout with a zero Timeout goes back to the global timeout.
	SetTimeout bool
	Timeout    time.Duration
	// SetRateLimit and SetMaxInFlight with a zero value remove the limit.
	SetRateLimit   bool
	RateLimit      float64
	SetMaxInFlight bool
	MaxInFlight    int
	// Status is store.SubscriptionActive or store.SubscriptionPaused; only
	// Hookflow disables.
	Status *string
}

// UpdateSubscription applies a patch and returns the subscription as it is
// now. While a subscription is paused its deliveries that fall due, and
// those of new events, are held (no attempt spent) for at most
// HOOKFLOW_PAUSE_HOLD; setting it active again wakes them (a Wake
// workflow), and they send within seconds. Setting a disabled one active
// (or paused) re-enables it: new events reach it again, and its failures
// are counted from zero.
func (s *Service) UpdateSubscription(ctx context.Context, app, id string, p SubscriptionPatch) (store.Subscription, error) {
	if p.Status != nil && *p.Status == store.SubscriptionDisabled {
		return store.Subscription{}, invalid("the request has invalid fields",
			FieldProblem{Field: "status", Rule: "oneof", Message: "only Hookflow disables a subscription (failing for HOOKFLOW_DISABLE_AFTER, or a 410 Gone); set active or paused"})
	}
	if p.Status != nil && *p.Status != store.SubscriptionActive && *p.Status != store.SubscriptionPaused {
		return store.Subscription{}, invalid("the request has invalid fields",
			FieldProblem{Field: "status", Rule: "oneof", Message: "must be one of: active paused"})
	}
	if p.URL != nil {
		if err := s.checkTargetURL(ctx, *p.URL); err != nil {
			return store.Subscription{}, err
		}
	}
	var before string
	sub, err := s.Store.ModifySubscription(ctx, app, id, func(sub *store.Subscription) error {
		if p.URL != nil {
			sub.URL = *p.URL
		}
		if p.EventTypes != nil {
			sub.EventTypes = p.EventTypes
		}
		if p.Description != nil {
			sub.Description = *p.Description
		}
		if p.SetHeaders {
			sub.Headers = p.Headers
		}
		if p.SetRetry {
			sub.Retry = p.Retry
		}
		if p.SetTimeout {
			sub.Timeout = p.Timeout
		}
		if p.SetRateLimit {
			sub.RateLimit = p.RateLimit
		}
		if p.SetMaxInFlight {
			sub.MaxInFlight = p.MaxInFlight
		}
		if p.Status != nil {
			before = sub.Status
			if sub.Status == store.SubscriptionDisabled {
				sub.DisabledReason, sub.FailingSince = "", time.Time{}
			}
			sub.Status = *p.Status
		}
		sub.UpdatedAt = s.now()
		return nil
	})
	if err != nil {
		return sub, storeErr(err, fmt.Sprintf("subscription %s", id))
	}
	if p.Status != nil && sub.Status == store.SubscriptionActive {
		if err := s.wakeHeld(ctx, sub, before); err != nil {
			return sub, err
		}
	}
	return sub, nil
}

// wakeHeld wakes the held deliveries of sub, which is active now and was
// before in status before. Resuming a paused one always wakes; a PATCH to
// active of one already active wakes too when deliveries are still held
// (the wake-up of an earlier resume failed to start, say), so that
// repeating the PATCH is the remedy for the 503 below.
func (s *Service) wakeHeld(ctx context.Context, sub store.Subscription, before string) error {
	if before != store.SubscriptionPaused {
		held, err := s.Store.ListSubscriptionDeliveries(ctx, sub.ApplicationID, sub.ID, store.DeliveryHeld, "", 1)
		if err != nil {
			return storeErr(err, "held deliveries of "+sub.ID)
		}
		if len(held) == 0 {
			return nil
		}
	}
	w := activities.Wake{ApplicationID: sub.ApplicationID, SubscriptionID: sub.ID, Why: activities.WakeResume, At: sub.UpdatedAt}
	if err := workflows.StartWake(ctx, s.Temporal, s.TaskQueue, w); err != nil {
		return temporalErr(err, "subscription "+sub.ID+" is active, but its held deliveries could not be woken (PATCH status active again)")
	}
	return nil
}

// RotateSecret gives a subscription a new signing secret (secret, or a
// generated one when empty). The old secret keeps signing beside the new
// one for SecretGrace, so receivers see two signatures meanwhile and can
// switch without dropping a delivery. Rotating again within the grace
// retires the oldest secret at once.
func (s *Service) RotateSecret(ctx context.Context, app, id, secret string) (store.Subscription, error) {
	if secret == "" {
		var err error
		if secret, err = signing.NewSecret(); err != nil {
			return store.Subscription{}, err
		}
	}
	now := s.now()
	sub, err := s.Store.ModifySubscription(ctx, app, id, func(sub *store.Subscription) error {
		sub.PreviousSecret, sub.PreviousSecretExpiresAt = "", time.Time{}
		if s.SecretGrace > 0 && sub.Secret != secret {
			sub.PreviousSecret, sub.PreviousSecretExpiresAt = sub.Secret, now.Add(s.SecretGrace)
		}
		sub.Secret, sub.UpdatedAt = secret, now
		return nil
	})
	return sub, storeErr(err, fmt.Sprintf("subscription %s", id))
}
