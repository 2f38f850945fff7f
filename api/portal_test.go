package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/access"
	"github.com/hookflow/hookflow/api"
)

// A portal link opens /portal/ on the host the admin asked, with the
// application and a live token of it in the fragment (never in the path
// or query, which reach logs); the token works on the application's routes
// and is an ordinary, revocable token.
func TestPortalAccessMintsALinkWithATokenInTheFragment(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{adminKey}})
	createApplications(t, ta, "acme")
	admin := []string{"Authorization", "Bearer " + adminKey}

	resp := ta.do(t, http.MethodPost, "/v1/applications/acme/portal-access", nil, admin...)
	require.Equal(t, http.StatusCreated, resp.Code, "body: %s", resp.Body)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var pa struct {
		URL       string    `json:"url"`
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	resp.json(t, &pa)
	require.True(t, access.IsToken(pa.Token))
	require.Equal(t, ta.now.Add(time.Hour), pa.ExpiresAt, "an hour by default")
	u, err := url.Parse(pa.URL)
	require.NoError(t, err)
	require.Equal(t, "/portal/", u.Path)
	require.Empty(t, u.RawQuery)
	require.NotContains(t, strings.Split(pa.URL, "#")[0], pa.Token)
	frag, err := url.ParseQuery(u.Fragment)
	require.NoError(t, err)
	require.Equal(t, pa.Token, frag.Get("token"))
	require.Equal(t, "acme", frag.Get("app"))

	tok := []string{"Authorization", "Bearer " + pa.Token}
	require.Equal(t, http.StatusOK, ta.do(t, http.MethodGet, "/v1/applications/acme/subscriptions", nil, tok...).Code)
	requireError(t, ta.do(t, http.MethodPost, "/v1/applications/acme/portal-access", nil, tok...), http.StatusForbidden, api.CodeForbidden)

	resp = ta.do(t, http.MethodPost, "/v1/applications/acme/portal-access", map[string]any{"expires_in_seconds": 60}, admin...)
	require.Equal(t, http.StatusCreated, resp.Code)
	resp.json(t, &pa)
	require.Equal(t, ta.now.Add(time.Minute), pa.ExpiresAt)
	for _, bad := range []any{map[string]any{"expires_in_seconds": 0}, map[string]any{"expires_in_seconds": 31536001}, map[string]any{"app": "globex"}} {
		requireError(t, ta.do(t, http.MethodPost, "/v1/applications/acme/portal-access", bad, admin...), http.StatusBadRequest, api.CodeValidationFailed)
	}
	requireError(t, ta.do(t, http.MethodPost, "/v1/applications/nope/portal-access", nil, admin...), http.StatusNotFound, "application_not_found")
}

// HOOKFLOW_PUBLIC_URL, when set, is the base of every link, whatever Host
// the request came with.
func TestPortalAccessUsesThePublicURL(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{adminKey}})
	ta.router = api.NewRouter(api.Deps{Service: ta.svc, MaxBodyBytes: 1 << 16, APIKeys: []string{adminKey}, PublicURL: "https://hooks.example.com/"})
	createApplications(t, ta, "acme")
	resp := ta.do(t, http.MethodPost, "/v1/applications/acme/portal-access", nil, "Authorization", "Bearer "+adminKey)
	require.Equal(t, http.StatusCreated, resp.Code, "body: %s", resp.Body)
	var pa struct{ URL string }
	resp.json(t, &pa)
	require.True(t, strings.HasPrefix(pa.URL, "https://hooks.example.com/portal/#"), pa.URL)
}

// A test event goes to the one subscription, whatever types it receives:
// the event is stored with its target and type hookflow.test.
func TestSendTestEventTargetsOneSubscription(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{adminKey}, strictTypes: true})
	createApplications(t, ta, "acme", "globex")
	admin := []string{"Authorization", "Bearer " + adminKey}
	var sub struct{ ID string }
	resp := ta.do(t, http.MethodPost, "/v1/applications/acme/subscriptions", map[string]any{"url": "https://e.com/x", "event_types": []string{"order.*"}}, admin...)
	require.Equal(t, http.StatusCreated, resp.Code, "body: %s", resp.Body)
	resp.json(t, &sub)

	resp = ta.do(t, http.MethodPost, "/v1/applications/acme/subscriptions/"+sub.ID+"/test", nil, admin...)
	require.Equal(t, http.StatusAccepted, resp.Code, "even with unknown types refused, body: %s", resp.Body)
	var acc struct{ ID, Type string }
	resp.json(t, &acc)
	require.Equal(t, "hookflow.test", acc.Type)
	ev, err := ta.store.GetEvent(t.Context(), "acme", acc.ID)
	require.NoError(t, err)
	require.Equal(t, sub.ID, ev.TargetSubscriptionID)
	require.Contains(t, string(ev.Payload), sub.ID)

	requireError(t, ta.do(t, http.MethodPost, "/v1/applications/globex/subscriptions/"+sub.ID+"/test", nil, admin...), http.StatusNotFound, api.CodeNotFound)
	requireError(t, ta.do(t, http.MethodPost, "/v1/subscriptions/"+sub.ID+"/test", nil, admin...), http.StatusNotFound, api.CodeNotFound)
}
