package portal_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/client"
	"github.com/hookflow/hookflow/internal/testenv"
)

// Through package client, with the portal link's token: a test event
// reaches the one subscription, signed with its secret, and none of the
// others of its application, even one subscribed to hookflow.test or to
// everything the first receives; the event shows that one delivery.
func TestSendTestEventReachesOneSubscriptionOnly(t *testing.T) {
	e := startHookflow(t)
	target, other := testenv.NewReceiver(t), testenv.NewReceiver(t)
	sub := e.subscribe(t, "acme", target.URL, "order.*")
	target.SetSecret(sub.Secret)
	e.subscribe(t, "acme", other.URL, "hookflow.test", "order.*")

	adminClient, err := client.New(e.h.URL, adminKey)
	require.NoError(t, err)
	l, err := adminClient.PortalAccess(t.Context(), "acme", 10*time.Minute)
	require.NoError(t, err)
	testenv.RememberSecrets([]byte(l.Token))
	require.WithinDuration(t, time.Now().Add(10*time.Minute), l.ExpiresAt, time.Minute)
	c, err := client.New(e.h.URL, l.Token)
	require.NoError(t, err)
	acme := c.ForApp("acme")

	acc, err := acme.SendTestEvent(t.Context(), sub.ID)
	require.NoError(t, err)
	require.Equal(t, "hookflow.test", acc.Type)
	require.Eventually(t, func() bool { return target.Count() == 1 }, 60*time.Second, 50*time.Millisecond)
	require.NoError(t, target.Requests()[0].VerifyErr)
	var body struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	require.NoError(t, json.Unmarshal(target.Requests()[0].Body, &body))
	require.Equal(t, acc.ID, body.ID)
	require.Equal(t, acc.ID, target.Requests()[0].Header.Get("webhook-id"))
	ids := e.delivered(t, "acme", acc.ID, 1)
	require.Len(t, ids, 1)
	time.Sleep(500 * time.Millisecond)
	require.Zero(t, other.Count(), "no other subscription gets a test event")

	// Another application's subscription, or an unknown one: 404; the
	// top-level route is an admin's.
	other2 := e.subscribe(t, "globex", other.URL, "order.*")
	_, err = acme.SendTestEvent(t.Context(), other2.ID)
	var apiErr *client.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	_, err = c.SendTestEvent(t.Context(), sub.ID)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	// A producer's own hookflow.test event (no target) goes by its type.
	e.publish(t, "acme", "producer-test-1", "hookflow.test")
	require.Eventually(t, func() bool { return other.Count() == 1 }, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, 1, target.Count())
}
