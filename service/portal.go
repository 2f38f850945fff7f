package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
)

// DefaultPortalLifetime is how long a portal link lasts when the admin
// does not say: long enough for a debugging session, short enough that a
// link pasted into a chat is soon worthless.
const DefaultPortalLifetime = time.Hour

// PortalAccess is a freshly minted portal sign-in: the token the link
// carries in its fragment.
type PortalAccess struct {
	MintedToken
}

// MintPortalAccess mints the application token a portal link carries. It
// is an ordinary application token (listed and revoked under .../tokens),
// so that the portal can do no more than the token can.
func (s *Service) MintPortalAccess(ctx context.Context, app string, life time.Duration) (PortalAccess, error) {
	if life == 0 {
		life = DefaultPortalLifetime
	}
	t, err := s.MintAppToken(ctx, app, NewAppToken{Description: "subscriber portal", ExpiresIn: life})
	if err != nil {
		return PortalAccess{}, err
	}
	return PortalAccess{MintedToken: t}, nil
}

// testEventData is the body of a test event: enough for the receiving
// developer to see which endpoint it was meant for.
type testEventData struct {
	SubscriptionID string `json:"subscription_id"`
	Message        string `json:"message"`
}

// SendTestEvent publishes an event of type hookflow.test to subscription
// id of app, and to no other subscription: the event names its target and
// the fan-out delivers it there only, whatever event types the
// subscription receives. Otherwise it is an ordinary event: signed,
// retried, listed and resent like any.
func (s *Service) SendTestEvent(ctx context.Context, app, id string) (Accepted, error) {
	if _, err := s.Store.GetSubscription(ctx, app, id); err != nil {
		return Accepted{}, storeErr(err, fmt.Sprintf("subscription %s", id))
	}
	data, err := json.Marshal(testEventData{SubscriptionID: id, Message: "a test event sent from the Hookflow portal"})
	if err != nil {
		return Accepted{}, err
	}
	return s.Publish(ctx, app, NewEvent{ID: ids.NewEvent(), Type: store.TestEventType, Data: data, target: id})
}
