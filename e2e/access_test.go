package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
)

type mintedToken struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Application tokens through a real Hookflow: minted by an admin key, a
// token reads its application's subscriptions, events and deliveries, is
// kept off admin routes and other applications' routes (403), and is
// refused on its next request once revoked and once expired (401).
func TestApplicationTokensReachOnlyTheirApplicationUntilRevokedOrExpired(t *testing.T) {
	adminKey := randomHex(t, 16)
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.APIKeys = []string{adminKey} })
	admin := []string{"Authorization", "Bearer " + adminKey}
	for _, id := range []string{"acme", "globex"} {
		require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications", map[string]any{"id": id, "name": id}, nil, admin...))
	}
	recv := testenv.NewReceiver(t)
	var sub subscription
	require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications/acme/subscriptions",
		map[string]any{"url": recv.URL, "event_types": []string{"order.*"}}, &sub, admin...))
	recv.SetSecret(sub.Secret)
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/applications/acme/events",
		map[string]any{"id": "access-order-1", "type": "order.created", "data": map[string]any{"n": 1}}, nil, admin...,
	), "an admin publishes")

	mint := func(app string, body map[string]any) mintedToken {
		t.Helper()
		var tok mintedToken
		require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications/"+app+"/tokens", body, &tok, admin...))
		require.NotEmpty(t, tok.Token)
		return tok
	}
	acme := mint("acme", map[string]any{"description": "e2e"})
	short := mint("acme", map[string]any{"expires_in_seconds": 1})
	bearer := func(tok mintedToken) []string { return []string{"Authorization", "Bearer " + tok.Token} }
	var e apiError

	// The token reads its application: the application, its subscriptions,
	// the event and its delivery.
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/acme", nil, nil, bearer(acme)...))
	var subs struct {
		Data []subscription `json:"data"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions", nil, &subs, bearer(acme)...))
	require.Len(t, subs.Data, 1)
	require.Equal(t, sub.ID, subs.Data[0].ID)
	var ev eventView
	require.Eventually(t, func() bool {
		code := h.Do(t, http.MethodGet, "/v1/applications/acme/events/access-order-1", nil, &ev, bearer(acme)...)
		return code == http.StatusOK && len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "succeeded"
	}, 60*time.Second, 100*time.Millisecond)
	var d struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/acme/deliveries/"+ev.Deliveries[0].ID, nil, &d, bearer(acme)...))
	require.Equal(t, "succeeded", d.Status)
	require.Equal(t, 1, recv.Count())

	// A token never publishes, never mints tokens, not even for its own
	// application, and never uses the top-level shorthands.
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodPost, "/v1/applications/acme/events",
		map[string]any{"type": "order.created", "data": map[string]any{}}, &e, bearer(acme)...))
	require.Equal(t, "forbidden", e.Error.Code)
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodPost, "/v1/applications/acme/tokens", nil, nil, bearer(acme)...))
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, nil, bearer(acme)...))
	// Nor reaches another application.
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodGet, "/v1/applications/globex/subscriptions", nil, &e, bearer(acme)...))
	require.Equal(t, "forbidden", e.Error.Code)
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodGet, "/v1/applications/globex", nil, nil, bearer(acme)...))
	// Nor is read from the query string.
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions?access_token="+acme.Token, nil, nil))

	// The admin lists tokens without their values.
	var list struct {
		Data []map[string]any `json:"data"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, &list, admin...))
	require.Len(t, list.Data, 2)
	for _, tok := range list.Data {
		require.NotContains(t, tok, "token")
	}

	// Revoked: refused on its very next request.
	require.Equal(t, http.StatusNoContent, h.Do(t, http.MethodDelete, "/v1/applications/acme/tokens/"+acme.ID, nil, nil, admin...))
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions", nil, &e, bearer(acme)...))
	require.Equal(t, "unauthorized", e.Error.Code)

	// Expired: refused once its second is over.
	time.Sleep(time.Until(short.ExpiresAt) + 50*time.Millisecond)
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions", nil, nil, bearer(short)...))

	// The admin key still reaches everything.
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions", nil, nil, admin...))
}
