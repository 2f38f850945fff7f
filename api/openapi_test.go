package api_test

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/api"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/metrics"
)

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// The OpenAPI document lists exactly the routes the router serves.
func TestOpenAPIDocumentsExactlyTheRoutes(t *testing.T) {
	doc, err := testenv.OpenAPI()
	require.NoError(t, err)
	ta := newTestAPI(t, apiOptions{})
	// Every optional route mounted.
	m, err := metrics.New(metrics.Options{MaxSubscriptionLabels: 10})
	require.NoError(t, err)
	router := api.NewRouter(api.Deps{Service: ta.svc, MaxBodyBytes: 1024, Codec: http.NotFoundHandler(), Metrics: m})

	var served []string
	for _, r := range router.Routes() {
		served = append(served, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	require.Equal(t, served, documented, "api/openapi.yaml and api.NewRouter must name the same routes")
}

// Answers of the router validate against the document, errors included.
func TestAnswersMatchTheOpenAPIDocument(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{"k"}})
	auth := []string{"Authorization", "Bearer k"}
	check := func(method, path string, body any, headers ...string) response {
		t.Helper()
		r := ta.do(t, method, path, body, append(headers, auth...)...)
		req, err := http.NewRequest(method, "http://hookflow.test"+path, nil)
		require.NoError(t, err)
		testenv.CheckResponse(t, req, r.Code, r.Header, r.Body)
		return r
	}
	var sub subscriptionView
	check("POST", "/v1/subscriptions", map[string]any{"url": "https://e.com/x", "event_types": []string{"a.*"}, "retry": map[string]any{"max_attempts": 3}, "timeout_seconds": 2}).json(t, &sub)
	check("POST", "/v1/subscriptions", map[string]any{"url": "nope"})
	check("GET", "/v1/subscriptions?limit=1", nil)
	check("GET", "/v1/subscriptions/"+sub.ID, nil)
	check("GET", "/v1/subscriptions/sub_nope", nil)
	check("PATCH", "/v1/subscriptions/"+sub.ID, map[string]any{"status": "paused", "headers": map[string]string{"X-A": "b"}})
	check("POST", "/v1/subscriptions/"+sub.ID+"/rotate-secret", nil)
	check("POST", "/v1/event-types", `{"name":"a.b","schema":{"type":"object"}}`)
	check("POST", "/v1/event-types", `{"name":"a.b"}`)
	check("PUT", "/v1/event-types/a.c", `{"description":"c"}`)
	check("GET", "/v1/event-types", nil)
	check("GET", "/v1/event-types/a.b", nil)
	check("POST", "/v1/events", `{"type":"a.b","data":{}}`, "Idempotency-Key", "e1")
	check("POST", "/v1/events", `{"type":"a.b","data":{}}`, "Idempotency-Key", "e1")
	check("POST", "/v1/events", `{"type":"a.b","data":{"x":1}}`, "Idempotency-Key", "e1")
	check("POST", "/v1/events", `{"type":"a.b","data":[]}`)
	check("POST", "/v1/events", `{"type":"a.b","data":{},"deliver_at":"2026-03-01T13:00:00Z"}`, "Idempotency-Key", "later")
	check("GET", "/v1/events/later", nil)
	check("POST", "/v1/events", `{"type":"a.b","data":{},"deliver_at":"soon"}`)
	check("POST", "/v1/events", `{}`, "Content-Type", "text/plain")
	check("GET", "/v1/events/e1", nil)
	check("GET", "/v1/events?limit=1", nil)
	check("GET", "/v1/events?limit=0", nil)
	check("GET", "/v1/deliveries?status=failed", nil)
	check("GET", "/v1/deliveries?status=lost", nil)
	check("DELETE", "/v1/subscriptions/"+sub.ID, nil)
	var tok struct{ ID, Token string }
	check("POST", "/v1/applications/default/tokens", `{"description":"ci","expires_in_seconds":60}`).json(t, &tok)
	check("POST", "/v1/applications/default/tokens", `{"expires_in_seconds":0}`)
	check("GET", "/v1/applications/default/tokens?limit=1", nil)
	check("DELETE", "/v1/applications/default/tokens/"+tok.ID, nil)
	check("DELETE", "/v1/applications/default/tokens/tok_nope", nil)
	check("GET", "/v1/applications/nope/tokens", nil)
	check("POST", "/v1/applications", map[string]any{"id": "acme", "name": "Acme", "metadata": map[string]string{"k": "v"}})
	check("POST", "/v1/applications", map[string]any{"id": "acme", "name": "Acme"})
	check("POST", "/v1/applications", map[string]any{"id": "a b", "name": "Bad"})
	check("GET", "/v1/applications?limit=1", nil)
	check("GET", "/v1/applications/acme", nil)
	check("GET", "/v1/applications/nope", nil)
	check("PATCH", "/v1/applications/acme", map[string]any{"name": "Acme Inc."})
	check("POST", "/v1/applications/acme/subscriptions", map[string]any{"url": "https://e.com/a", "event_types": []string{"*"}})
	check("GET", "/v1/applications/acme/subscriptions", nil)
	check("POST", "/v1/applications/acme/events", `{"type":"a.b","data":{}}`, "Idempotency-Key", "e1")
	check("GET", "/v1/applications/acme/events/e1", nil)
	check("GET", "/v1/applications/acme/events", nil)
	check("GET", "/v1/applications/acme/deliveries?subscription_id=sub_x", nil)
	check("GET", "/v1/applications/nope/events/e1", nil)
	check("DELETE", "/v1/applications/default", nil)
	check("DELETE", "/v1/applications/acme", nil)
	check("GET", "/healthz", nil)
	check("GET", "/openapi.yaml", nil)

	r := ta.do(t, "GET", "/v1/subscriptions", nil)
	req, _ := http.NewRequest("GET", "http://hookflow.test/v1/subscriptions", nil)
	testenv.CheckResponse(t, req, r.Code, r.Header, r.Body)

	// 403: a live token on a route it may not use.
	var live struct{ Token string }
	check("POST", "/v1/applications/default/tokens", nil).json(t, &live)
	r = ta.do(t, "GET", "/v1/subscriptions", nil, "Authorization", "Bearer "+live.Token)
	require.Equal(t, http.StatusForbidden, r.Code)
	testenv.CheckResponse(t, req, r.Code, r.Header, r.Body)
}
