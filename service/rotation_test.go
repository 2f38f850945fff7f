package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
)

// A rotated-out secret signs beside the new one until the grace ends, and
// a receiver holding either verifies every request with the Standard
// Webhooks library meanwhile. Service and activities share one clock here,
// so the 24 hours pass at once.
func TestRotatedSecretSignsBesideTheNewOneForTheGrace(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "h.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	svc := &service.Service{Store: st, Targets: netguard.Policy{AllowPrivate: true}, SecretGrace: 24 * time.Hour, Now: clock}
	acts := &activities.Activities{Store: st, HTTP: http.DefaultClient, Now: clock, UserAgent: "hookflow/test",
		Defaults: delivery.Defaults{AttemptTimeout: 10 * time.Second}}

	recv := testenv.NewReceiver(t)
	sub, err := svc.CreateSubscription(ctx, store.DefaultApplication, service.NewSubscription{URL: recv.URL, EventTypes: []string{"*"}})
	require.NoError(t, err)
	oldSecret := sub.Secret
	rotated, err := svc.RotateSecret(ctx, store.DefaultApplication, sub.ID, "")
	require.NoError(t, err)
	newSecret := rotated.Secret

	deliver := func(eventID string) testenv.Request {
		t.Helper()
		payload, _ := json.Marshal(map[string]any{"id": eventID, "type": "a.b", "data": map[string]any{}})
		_, _, err := st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication, ID: eventID, Type: "a.b", Payload: payload, BodyHash: eventID,
			WorkflowID: ids.EventWorkflow(store.DefaultApplication, eventID), CreatedAt: now})
		require.NoError(t, err)
		did := ids.Delivery(eventID, sub.ID)
		require.NoError(t, st.AddDeliveries(ctx, []store.Delivery{{ApplicationID: store.DefaultApplication, ID: did, EventID: eventID, SubscriptionID: sub.ID, URL: recv.URL,
			Status: store.DeliveryPending, WorkflowID: ids.DeliveryWorkflow("", did), UpdatedAt: now}}))
		before := recv.Count()
		res, err := runDeliver(t, acts, activities.DeliverInput{DeliveryID: did, EventID: eventID, SubscriptionID: sub.ID,
			Attempt: 1, RoundAttempt: 1, RoundStart: now, Policy: delivery.Policy{InitialInterval: time.Second, BackoffCoefficient: 2, MaxInterval: time.Second, MaxAttempts: 1}})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		reqs := recv.Requests()
		require.Len(t, reqs, before+1)
		return reqs[len(reqs)-1]
	}
	verify := func(req testenv.Request, secret string) error {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		// The fake clock is far from the library's: check the signature,
		// not the timestamp's freshness.
		return wh.VerifyIgnoringTimestamp(req.Body, req.Header)
	}

	now = now.Add(23*time.Hour + 59*time.Minute)
	req := deliver("evt-during-grace")
	sigs := strings.Fields(req.Header.Get(signing.HeaderSignature))
	require.Len(t, sigs, 2, "two signatures during the grace")
	for _, s := range sigs {
		require.True(t, strings.HasPrefix(s, "v1,"))
	}
	require.NoError(t, verify(req, newSecret), "a receiver with the new secret verifies")
	require.NoError(t, verify(req, oldSecret), "a receiver still on the old secret verifies")

	now = now.Add(time.Minute)
	req = deliver("evt-after-grace")
	require.Len(t, strings.Fields(req.Header.Get(signing.HeaderSignature)), 1, "one signature once the grace is over")
	require.NoError(t, verify(req, newSecret))
	require.Error(t, verify(req, oldSecret), "the old secret no longer verifies")
}
