package api_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/access"
	"github.com/hookflow/hookflow/api"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/service"
)

const adminKey = "admin-key-1"

// tokens mints, through the service, one token of each kind the matrix
// tries: live for app, live for other, expired and revoked for app. The
// clock moves past the expired one's life.
type matrixTokens struct{ own, other, expired, revoked string }

func mintMatrixTokens(t *testing.T, ta *testAPI, app, other string) matrixTokens {
	t.Helper()
	ctx := t.Context()
	mint := func(app string, life time.Duration) service.MintedToken {
		tok, err := ta.svc.MintAppToken(ctx, app, service.NewAppToken{Description: "matrix", ExpiresIn: life})
		require.NoError(t, err)
		return tok
	}
	var m matrixTokens
	m.own = mint(app, 0).Token
	m.other = mint(other, 0).Token
	m.expired = mint(app, time.Second).Token
	revoked := mint(app, 0)
	require.NoError(t, ta.svc.RevokeAppToken(ctx, app, revoked.ID))
	m.revoked = revoked.Token
	ta.now = ta.now.Add(2 * time.Second)
	return m
}

// contractRule is the rule the contract gives a documented route, written
// apart from the API's table so that the two check each other: public for
// health, metrics, the document and the codec; app for the routes under
// /v1/applications/{app}/ a consumer may use (all but publishing events
// and tokens, and minting a portal link, which is minting a token) and
// reading the application itself; admin for the rest.
func contractRule(method, path string) access.Rule {
	const appPrefix = "/v1/applications/{app}"
	switch {
	case path == "/healthz", path == "/readyz", path == "/metrics", path == "/openapi.yaml",
		strings.HasPrefix(path, "/v1/codec/"):
		return access.Public
	case path == appPrefix:
		if method == http.MethodGet {
			return access.App
		}
		return access.AdminOnly
	case strings.HasPrefix(path, appPrefix+"/tokens"), path == appPrefix+"/portal-access":
		return access.AdminOnly
	case path == appPrefix+"/events" && method == http.MethodPost:
		return access.AdminOnly
	case strings.HasPrefix(path, appPrefix+"/"):
		return access.App
	default:
		return access.AdminOnly
	}
}

var docParam = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// ginTemplate turns a documented path into the template gin names it by.
func ginTemplate(path string) string {
	return docParam.ReplaceAllStringFunc(path, func(p string) string {
		if p == "{path}" {
			return "*path"
		}
		return ":" + strings.Trim(p, "{}")
	})
}

// Every route of the OpenAPI document, called with each kind of
// credential, is let through or refused as its rule says; and the API's
// table gives every route the rule the contract does. A route added without
// a rule is refused to admins too, and fails here.
func TestEveryRouteAuthorizesEveryKindOfCredential(t *testing.T) {
	doc, err := testenv.OpenAPI()
	require.NoError(t, err)
	ta := newTestAPI(t, apiOptions{keys: []string{adminKey}})
	m, err := metrics.New(metrics.Options{MaxSubscriptionLabels: 10})
	require.NoError(t, err)
	ta.router = api.NewRouter(api.Deps{Service: ta.svc, MaxBodyBytes: 1 << 16, APIKeys: []string{adminKey},
		Codec: http.NotFoundHandler(), Metrics: m})
	const app, other = "acme", "globex"
	// scratch is the application the admin deletes: deleting acme would end
	// acme's tokens for the routes after.
	const scratch = "scratch"
	createApplications(t, ta, app, other, scratch)
	toks := mintMatrixTokens(t, ta, app, other)

	type credential struct {
		name      string
		header    string
		principal access.Principal
	}
	creds := []credential{
		{"own-app token", "Bearer " + toks.own, access.Principal{Kind: access.Application, ApplicationID: app}},
		{"other-app token", "Bearer " + toks.other, access.Principal{Kind: access.Application, ApplicationID: other}},
		{"expired token", "Bearer " + toks.expired, access.Principal{Kind: access.Invalid}},
		{"revoked token", "Bearer " + toks.revoked, access.Principal{Kind: access.Invalid}},
		{"no credentials", "", access.Principal{Kind: access.Anonymous}},
		{"unknown key", "Bearer not-a-key", access.Principal{Kind: access.Invalid}},
		{"admin key", "Bearer " + adminKey, access.Principal{Kind: access.Admin}},
	}

	var routes [][2]string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			routes = append(routes, [2]string{strings.ToUpper(method), path})
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i][1]+routes[i][0] < routes[j][1]+routes[j][0] })
	require.NotEmpty(t, routes)

	for _, r := range routes {
		method, path := r[0], r[1]
		rule := contractRule(method, path)
		require.Equal(t, rule, api.RuleFor(method, ginTemplate(path)),
			"%s %s: the decision table (api/access.go) must give this route the contract's rule", method, path)
		concrete := strings.NewReplacer("{app}", app, "{id}", "x-1", "{name}", "a.b", "{path}", "encode").Replace(path)
		for _, c := range creds {
			var body any
			if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
				body = "{}"
			}
			target := concrete
			if c.principal.Kind == access.Admin && method == http.MethodDelete && path == "/v1/applications/{app}" {
				target = "/v1/applications/" + scratch
			}
			resp := ta.do(t, method, target, body, "Authorization", c.header)
			switch access.Allow(rule, c.principal, app) {
			case access.Allowed:
				require.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, resp.Code,
					"%s %s with %s must be let through; body: %s", method, concrete, c.name, resp.Body)
			case access.Unauthenticated:
				requireError(t, resp, http.StatusUnauthorized, api.CodeUnauthorized)
				require.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
			case access.Forbidden:
				requireError(t, resp, http.StatusForbidden, api.CodeForbidden)
			}
		}
	}

	// The routes under another application's path refuse the own token.
	resp := ta.do(t, http.MethodGet, "/v1/applications/"+other+"/tokens", nil, "Authorization", "Bearer "+toks.own)
	requireError(t, resp, http.StatusForbidden, api.CodeForbidden)
}

// A token is read from the Authorization header only: one in the query
// string, under any usual name, is never looked at.
func TestTokenInQueryStringIsNotRead(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{adminKey}})
	createApplications(t, ta, "acme", "globex")
	toks := mintMatrixTokens(t, ta, "acme", "globex")
	for _, q := range []string{"token", "access_token", "api_key", "key", "authorization"} {
		resp := ta.do(t, http.MethodGet, "/v1/applications/acme/tokens?"+q+"="+toks.own, nil)
		requireError(t, resp, http.StatusUnauthorized, api.CodeUnauthorized)
		resp = ta.do(t, http.MethodGet, "/v1/applications/acme/tokens?"+q+"="+adminKey, nil)
		requireError(t, resp, http.StatusUnauthorized, api.CodeUnauthorized)
	}
}

// Without admin keys (development) the API is open as admin, but a request
// presenting an application token is that token, so that tokens can be
// tried on a development server.
func TestDevModeTreatsTokensAsTokens(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	createApplications(t, ta, "acme", "globex")
	toks := mintMatrixTokens(t, ta, "acme", "globex")

	require.Equal(t, http.StatusOK, ta.do(t, http.MethodGet, "/v1/applications/acme/tokens", nil).Code, "no credentials: admin, as before")
	require.Equal(t, http.StatusOK, ta.do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, "Authorization", "Bearer anything").Code,
		"a bearer that is no token: admin, as before")
	requireError(t, ta.do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, "Authorization", "Bearer "+toks.own),
		http.StatusForbidden, api.CodeForbidden)
	requireError(t, ta.do(t, http.MethodGet, "/v1/subscriptions", nil, "Authorization", "Bearer "+toks.own),
		http.StatusForbidden, api.CodeForbidden)
	requireError(t, ta.do(t, http.MethodGet, "/v1/subscriptions", nil, "Authorization", "Bearer "+toks.revoked),
		http.StatusUnauthorized, api.CodeUnauthorized)
	requireError(t, ta.do(t, http.MethodGet, "/v1/subscriptions", nil, "Authorization", "Bearer "+toks.expired),
		http.StatusUnauthorized, api.CodeUnauthorized)
}

// Minting answers the token once; listing shows no value; revoking holds
// from the next request on.
func TestTokensMintListRevoke(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{adminKey}})
	createApplications(t, ta, "acme", "globex")
	admin := []string{"Authorization", "Bearer " + adminKey}

	resp := ta.do(t, http.MethodPost, "/v1/applications/acme/tokens", map[string]any{"description": "ci", "expires_in_seconds": 60}, admin...)
	require.Equal(t, http.StatusCreated, resp.Code, "body: %s", resp.Body)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var minted struct {
		ID        string    `json:"id"`
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	resp.json(t, &minted)
	require.True(t, access.IsToken(minted.Token))
	require.True(t, strings.HasPrefix(minted.ID, "tok_"))
	require.Equal(t, ta.now.Add(time.Minute), minted.ExpiresAt)

	resp = ta.do(t, http.MethodPost, "/v1/applications/acme/tokens", nil, admin...)
	require.Equal(t, http.StatusCreated, resp.Code, "no body: the defaults")
	var dflt struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	resp.json(t, &dflt)
	require.Equal(t, ta.now.Add(24*time.Hour), dflt.ExpiresAt)

	for _, bad := range []any{
		map[string]any{"expires_in_seconds": 0.5},
		map[string]any{"expires_in_seconds": 31536001},
		map[string]any{"expires_in_seconds": "60"},
		map[string]any{"token": "hfat_mine"},
	} {
		requireError(t, ta.do(t, http.MethodPost, "/v1/applications/acme/tokens", bad, admin...), http.StatusBadRequest, api.CodeValidationFailed)
	}

	resp = ta.do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, admin...)
	require.Equal(t, http.StatusOK, resp.Code)
	require.NotContains(t, string(resp.Body), minted.Token, "a listing shows no token value")
	require.NotContains(t, string(resp.Body), access.Hash(minted.Token), "nor its hash")
	var list struct {
		Data []struct {
			ID, Description string
		} `json:"data"`
	}
	resp.json(t, &list)
	require.Len(t, list.Data, 2)
	resp = ta.do(t, http.MethodGet, "/v1/applications/globex/tokens", nil, admin...)
	require.JSONEq(t, `{"data":[],"next_cursor":""}`, string(resp.Body))

	tok := []string{"Authorization", "Bearer " + minted.Token}
	// Live, the token is known (403 on a route it may not use, not 401).
	requireError(t, ta.do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, tok...), http.StatusForbidden, api.CodeForbidden)
	requireError(t, ta.do(t, http.MethodDelete, "/v1/applications/globex/tokens/"+minted.ID, nil, admin...), http.StatusNotFound, api.CodeNotFound)
	require.Equal(t, http.StatusNoContent, ta.do(t, http.MethodDelete, "/v1/applications/acme/tokens/"+minted.ID, nil, admin...).Code)
	requireError(t, ta.do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, tok...), http.StatusUnauthorized, api.CodeUnauthorized)
	require.Equal(t, http.StatusNoContent, ta.do(t, http.MethodDelete, "/v1/applications/acme/tokens/"+minted.ID, nil, admin...).Code, "revoking twice is no error")
}
