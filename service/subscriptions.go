package service

import (
	"context"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
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
}

// CreateSubscription stores a new active subscription and returns it with
// its secret.
func (s *Service) CreateSubscription(ctx context.Context, in NewSubscription) (store.Subscription, error) {
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
		ID: ids.NewSubscription(), URL: in.URL, EventTypes: in.EventTypes, Description: in.Description,
		Secret: secret, Headers: in.Headers, Retry: in.Retry, Timeout: in.Timeout,
		Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateSubscription(ctx, sub); err != nil {
		return store.Subscription{}, storeErr(err, "create subscription")
	}
	return sub, nil
}

// GetSubscription returns one subscription.
func (s *Service) GetSubscription(ctx context.Context, id string) (store.Subscription, error) {
	sub, err := s.Store.GetSubscription(ctx, id)
	return sub, storeErr(err, fmt.Sprintf("subscription %s", id))
}

// GetSubscriptionSecret returns the current signing secret of a
// subscription. It is the one read that hands a secret out after creation
// and rotation.
func (s *Service) GetSubscriptionSecret(ctx context.Context, id string) (string, error) {
	sub, err := s.Store.GetSubscription(ctx, id)
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
func (s *Service) DeleteSubscription(ctx context.Context, id string) error {
	return storeErr(s.Store.DeleteSubscription(ctx, id), fmt.Sprintf("subscription %s", id))
}
