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

// Application tokens through a real Hookflow: minted by an admin key, kept
// off admin routes and other applications' routes (403), refused on their
// next request once revoked and once expired (401).
func TestApplicationTokensReachOnlyTheirApplicationUntilRevokedOrExpired(t *testing.T) {
	adminKey := randomHex(t, 16)
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.APIKeys = []string{adminKey} })
	admin := []string{"Authorization", "Bearer " + adminKey}

	mint := func(app string, body map[string]any) mintedToken {
		t.Helper()
		var tok mintedToken
		require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications/"+app+"/tokens", body, &tok, admin...))
		require.NotEmpty(t, tok.Token)
		return tok
	}
	acme := mint("default", map[string]any{"description": "e2e"})
	short := mint("default", map[string]any{"expires_in_seconds": 1})
	bearer := func(tok mintedToken) []string { return []string{"Authorization", "Bearer " + tok.Token} }
	var e apiError

	// A token never mints tokens, not even for its own application, and
	// never uses the top-level shorthands, which need an admin key.
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodPost, "/v1/applications/default/tokens", nil, &e, bearer(acme)...))
	require.Equal(t, "forbidden", e.Error.Code)
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, nil, bearer(acme)...))
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodPost, "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}}, nil, bearer(acme)...))
	// Nor reaches another application's routes.
	require.Equal(t, http.StatusForbidden, h.Do(t, http.MethodGet, "/v1/applications/globex/tokens", nil, nil, bearer(acme)...))
	// Nor is read from the query string.
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/applications/default/tokens?access_token="+acme.Token, nil, nil))

	// The admin lists tokens without their values.
	var list struct {
		Data []map[string]any `json:"data"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/default/tokens", nil, &list, admin...))
	require.Len(t, list.Data, 2)
	for _, tok := range list.Data {
		require.NotContains(t, tok, "token")
	}

	// Revoked: refused on its very next request.
	require.Equal(t, http.StatusNoContent, h.Do(t, http.MethodDelete, "/v1/applications/default/tokens/"+acme.ID, nil, nil, admin...))
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, &e, bearer(acme)...))
	require.Equal(t, "unauthorized", e.Error.Code)

	// Expired: refused once its second is over.
	time.Sleep(time.Until(short.ExpiresAt) + 50*time.Millisecond)
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, nil, bearer(short)...))

	// The admin key still reaches everything.
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, nil, admin...))
}
