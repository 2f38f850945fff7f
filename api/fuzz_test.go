package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzRoutes are the ingest and subscription routes FuzzAPI sends to; "{id}"
// is replaced by the fuzzed id, or by a real subscription's id when the
// fuzzed id is "SUB".
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/events"},
	{"GET", "/v1/events/{id}"},
	{"POST", "/v1/subscriptions"},
	{"GET", "/v1/subscriptions"},
	{"GET", "/v1/subscriptions/{id}"},
	{"PATCH", "/v1/subscriptions/{id}"},
	{"DELETE", "/v1/subscriptions/{id}"},
	{"POST", "/v1/subscriptions/{id}/rotate-secret"},
	{"POST", "/v1/event-types"},
	{"GET", "/v1/event-types"},
	{"GET", "/v1/event-types/{id}"},
	{"PUT", "/v1/event-types/{id}"},
}

// FuzzAPI sends arbitrary bodies, ids, query strings, content types and
// idempotency keys to the ingest, subscription and event-type handlers (a
// real SQLite store behind them, Temporal mocked) and fails on any 5xx or
// panic: no input is the server's fault. The seeds run in every `go test`;
// `go test ./api -fuzz FuzzAPI` searches further.
func FuzzAPI(f *testing.F) {
	seeds := []struct {
		route                        uint8
		id, query, contentType, body string
		key                          string
	}{
		{0, "", "", "application/json", `{"type":"order.created","data":{"n":1}}`, "k1"},
		{0, "", "", "application/json", `{"id":"k1","type":"order.created","data":{"n":2}}`, ""},
		{0, "", "", "application/json", `{"type":"order.created","data":{"n":1e400}}`, ""},
		{0, "", "", "application/json", `{"type":"schema.checked","data":{"n":"x"}}`, ""},
		{0, "", "", "application/json", `{"type":"a","data":{"\ud800":"\u0000"}}`, "x:y.z-_"},
		{0, "", "", "application/json", `{"type":"a","data":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`, ""},
		{0, "", "", "text/plain; charset=\x00", `{}`, ""},
		{0, "", "", "application/json", "\xff\xfe", strings.Repeat("k", 200)},
		{1, "k1", "", "", "", ""},
		{1, "../../etc", "", "", "", ""},
		{2, "", "", "application/json", `{"url":"http://[::1]:99999/x","event_types":["*"],"headers":{"":""}}`, ""},
		{2, "", "", "application/json", `{"url":"https://e.com","event_types":["a.*"],"retry":{"initial_interval_seconds":1e308,"max_attempts":1e10},"timeout_seconds":-0}`, ""},
		{2, "", "", "application/json", `{"url":"https://e.com","event_types":["a"],"secret":"whsec_` + strings.Repeat("A", 400) + `"}`, ""},
		{3, "", "limit=-1&cursor=%00&event_type=a.*", "", "", ""},
		{3, "", "limit=99999999999999999999", "", "", ""},
		{4, "SUB", "", "", "", ""},
		{5, "SUB", "", "application/merge-patch+json", `{"status":"paused","headers":null,"retry":{"max_attempts":null},"timeout_seconds":null}`, ""},
		{5, "SUB", "", "application/json", `{"event_types":[null],"url":null}`, ""},
		{5, "SUB", "", "application/json", `{"retry":{"bogus":1}}`, ""},
		{6, "SUB", "", "", "", ""},
		{7, "SUB", "", "application/json", `{"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`, ""},
		{7, "SUB", "", "", "", ""},
		{8, "", "", "application/json", `{"name":"schema.checked","schema":{"properties":{"n":{"type":"integer"}}}}`, ""},
		{8, "", "", "application/json", `{"name":"a.b","schema":{"$ref":"#/$defs/x","$defs":{"x":{"$ref":"#/$defs/x"}}}}`, ""},
		{8, "", "", "application/json", `{"name":"a.c","schema":{"$schema":"http://json-schema.org/draft-04/schema#","id":"http://x"}}`, ""},
		{9, "", "cursor=zzz&limit=100", "", "", ""},
		{11, "a.b", "", "application/json", `{"schema":true}`, ""},
		{11, "a.b", "", "application/json", `{"schema":{"pattern":"\\p{Zz}"}}`, ""},
	}
	for _, s := range seeds {
		f.Add(s.route, s.id, s.query, s.contentType, []byte(s.body), s.key)
	}

	ta := newTestAPI(f, apiOptions{maxBody: 16 << 10})
	var sub subscriptionView
	ta.do(f, "POST", "/v1/subscriptions", map[string]any{"url": "https://example.com/x", "event_types": []string{"*"}}).json(f, &sub)

	f.Fuzz(func(t *testing.T, route uint8, id, query, contentType string, body []byte, key string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if id == "SUB" {
			id = sub.ID
		}
		target := strings.ReplaceAll(rt.path, "{id}", id)
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(rt.method, "http://hookflow.test"+target, bytes.NewReader(body))
		if err != nil {
			return // not an HTTP request at all: no server ever sees it
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if key != "" && !strings.ContainsAny(key, "\r\n\x00") {
			req.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		ta.router.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s (Content-Type %q, body %q) answered %d: %s", rt.method, target, contentType, body, w.Code, w.Body)
		}
	})
}
