package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/store"
)

func TestAPIKeysGuardV1AndLeaveOpenRoutesOpen(t *testing.T) {
	ta := newTestAPI(t, apiOptions{keys: []string{"key-one", "key-two"}})

	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic key-one", "Bearer key-one-and-more", "key-one"} {
		r := ta.do(t, http.MethodGet, "/v1/subscriptions", nil, "Authorization", auth)
		requireError(t, r, http.StatusUnauthorized, "unauthorized")
		require.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer", "auth %q", auth)
	}
	r := ta.do(t, http.MethodPost, "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}}, "Authorization", "Bearer nope")
	requireError(t, r, http.StatusUnauthorized, "unauthorized")
	ta.requireNothingAccepted(t, "a refused request stores nothing")

	for _, key := range []string{"key-one", "key-two"} {
		r := ta.do(t, http.MethodGet, "/v1/subscriptions", nil, "Authorization", "Bearer "+key)
		require.Equal(t, http.StatusOK, r.Code, "key %s: %s", key, r.Body)
	}
	require.Equal(t, http.StatusOK, ta.do(t, http.MethodGet, "/v1/subscriptions", nil, "Authorization", "bearer  key-two ").Code,
		"the scheme is case-insensitive and spaces around the key do not matter")

	for _, path := range []string{"/healthz", "/openapi.yaml"} {
		require.Equal(t, http.StatusOK, ta.do(t, http.MethodGet, path, nil).Code, path)
	}
}

func TestWithoutKeysEveryRequestIsLetIn(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	require.Equal(t, http.StatusOK, ta.do(t, http.MethodGet, "/v1/subscriptions", nil).Code)
}

func TestBadInputGetsItsStatusInTheErrorShape(t *testing.T) {
	ta := newTestAPI(t, apiOptions{maxBody: 1024})
	sub := map[string]any{"url": "https://example.com/hooks", "event_types": []string{"order.*"}}

	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code               string
		fields             map[string]string // field → rule, when checked
	}{
		{name: "not JSON", method: "POST", path: "/v1/subscriptions", body: `url=x`, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "unsupported_media_type"},
		{name: "text", method: "POST", path: "/v1/events", body: `{}`, headers: []string{"Content-Type", "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "no content type", method: "POST", path: "/v1/events", body: `{}`, headers: []string{"Content-Type", ""}, status: 415, code: "unsupported_media_type"},
		{name: "too large", method: "POST", path: "/v1/events", body: `{"type":"a.b","data":{"x":"` + strings.Repeat("y", 2000) + `"}}`, status: 413, code: "payload_too_large"},
		{name: "malformed", method: "POST", path: "/v1/subscriptions", body: `{"url":`, status: 400, code: "invalid_json"},
		{name: "empty", method: "POST", path: "/v1/subscriptions", body: ``, status: 400, code: "invalid_json"},
		{name: "two values", method: "POST", path: "/v1/events", body: `{"type":"a.b","data":{}} {}`, status: 400, code: "invalid_json"},
		{name: "unknown field", method: "POST", path: "/v1/subscriptions", body: `{"url":"https://e.com","event_types":["a"],"bogus":1}`, status: 400, code: "validation_failed", fields: map[string]string{"bogus": "unknown"}},
		{name: "wrong type", method: "POST", path: "/v1/subscriptions", body: `{"url":5,"event_types":["a"]}`, status: 400, code: "validation_failed", fields: map[string]string{"url": "type"}},
		{name: "relative url", method: "POST", path: "/v1/subscriptions", body: map[string]any{"url": "/hooks", "event_types": []string{"a"}}, status: 400, code: "validation_failed", fields: map[string]string{"url": "webhook_url"}},
		{name: "ftp url", method: "POST", path: "/v1/subscriptions", body: map[string]any{"url": "ftp://example.com/x", "event_types": []string{"a"}}, status: 400, code: "validation_failed", fields: map[string]string{"url": "webhook_url"}},
		{name: "url with credentials", method: "POST", path: "/v1/subscriptions", body: map[string]any{"url": "https://u:p@example.com/x", "event_types": []string{"a"}}, status: 400, code: "validation_failed", fields: map[string]string{"url": "webhook_url"}},
		{name: "missing fields", method: "POST", path: "/v1/subscriptions", body: map[string]any{}, status: 400, code: "validation_failed", fields: map[string]string{"url": "required", "event_types": "required"}},
		{name: "bad pattern", method: "POST", path: "/v1/subscriptions", body: map[string]any{"url": "https://e.com", "event_types": []string{"order.*.x"}}, status: 400, code: "validation_failed", fields: map[string]string{"event_types[0]": "event_pattern"}},
		{name: "bad retry", method: "POST", path: "/v1/subscriptions", body: map[string]any{"url": "https://e.com", "event_types": []string{"a"}, "retry": map[string]any{"max_attempts": -1}}, status: 400, code: "validation_failed", fields: map[string]string{"retry.max_attempts": "gte"}},
		{name: "bad secret", method: "POST", path: "/v1/subscriptions", body: map[string]any{"url": "https://e.com", "event_types": []string{"a"}, "secret": "hunter2"}, status: 400, code: "validation_failed", fields: map[string]string{"secret": "webhook_secret"}},
		{name: "event without type", method: "POST", path: "/v1/events", body: map[string]any{"data": map[string]any{}}, status: 400, code: "validation_failed", fields: map[string]string{"type": "required"}},
		{name: "event data not object", method: "POST", path: "/v1/events", body: map[string]any{"type": "a.b", "data": []int{1}}, status: 400, code: "validation_failed", fields: map[string]string{"data": "object"}},
		{name: "event bad id", method: "POST", path: "/v1/events", body: map[string]any{"id": "a b", "type": "a.b", "data": map[string]any{}}, status: 400, code: "validation_failed", fields: map[string]string{"id": "event_id"}},
		{name: "bad idempotency key", method: "POST", path: "/v1/events", body: map[string]any{"type": "a.b", "data": map[string]any{}}, headers: []string{"Idempotency-Key", "a/b"}, status: 400, code: "validation_failed", fields: map[string]string{"Idempotency-Key": "event_id"}},
		{name: "id and key differ", method: "POST", path: "/v1/events", body: map[string]any{"id": "x", "type": "a.b", "data": map[string]any{}}, headers: []string{"Idempotency-Key", "y"}, status: 400, code: "validation_failed", fields: map[string]string{"id": "eqfield"}},
		{name: "bad limit", method: "GET", path: "/v1/subscriptions?limit=1000", status: 400, code: "validation_failed", fields: map[string]string{"limit": "lte"}},
		{name: "limit not a number", method: "GET", path: "/v1/subscriptions?limit=x", status: 400, code: "validation_failed"},
		{name: "bad event_type filter", method: "GET", path: "/v1/subscriptions?event_type=a..b", status: 400, code: "validation_failed", fields: map[string]string{"event_type": "event_type"}},
		{name: "unknown subscription", method: "GET", path: "/v1/subscriptions/sub_nope", status: 404, code: "not_found"},
		{name: "patch unknown subscription", method: "PATCH", path: "/v1/subscriptions/sub_nope", body: map[string]any{"description": "x"}, status: 404, code: "not_found"},
		{name: "delete unknown subscription", method: "DELETE", path: "/v1/subscriptions/sub_nope", status: 404, code: "not_found"},
		{name: "rotate unknown subscription", method: "POST", path: "/v1/subscriptions/sub_nope/rotate-secret", status: 404, code: "not_found"},
		{name: "unknown event", method: "GET", path: "/v1/events/nope", status: 404, code: "not_found"},
		{name: "unknown event type", method: "GET", path: "/v1/event-types/nope", status: 404, code: "not_found"},
		{name: "unknown route", method: "GET", path: "/v1/nothing", status: 404, code: "not_found"},
		{name: "wrong method", method: "PUT", path: "/v1/events", body: map[string]any{}, status: 405, code: "method_not_allowed"},
		{name: "patch nothing valid", method: "PATCH", path: "/v1/subscriptions/sub_nope", body: map[string]any{"secret": "whsec_x"}, status: 400, code: "validation_failed", fields: map[string]string{"secret": "unknown"}},
	}
	require.Equal(t, http.StatusCreated, ta.do(t, "POST", "/v1/subscriptions", sub).Code)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := requireError(t, ta.do(t, tc.method, tc.path, tc.body, tc.headers...), tc.status, tc.code)
			for field, rule := range tc.fields {
				require.Contains(t, e.fields(), field, "details: %+v", e.Error.Details)
				require.Equal(t, rule, e.fields()[field], "rule of %s", field)
			}
			for _, d := range e.Error.Details {
				require.NotEmpty(t, d.Message, "every detail says why")
			}
		})
	}
	ta.requireNothingAccepted(t, "no bad request stored an event")
}

func TestSameEventTwiceIsAcceptedOnce(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	body := map[string]any{"type": "order.created", "data": map[string]any{"n": 1}}

	first := ta.do(t, "POST", "/v1/events", body, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, first.Code, "%s", first.Body)
	require.Empty(t, first.Header.Get("Idempotent-Replayed"))
	again := ta.do(t, "POST", "/v1/events", `{ "data": {"n":1},  "type": "order.created" }`, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, again.Code)
	require.JSONEq(t, string(first.Body), string(again.Body), "the repeat gets the first answer")
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))

	byID := ta.do(t, "POST", "/v1/events", map[string]any{"id": "order-1", "type": "order.created", "data": map[string]any{"n": 1}})
	require.Equal(t, http.StatusAccepted, byID.Code)
	require.JSONEq(t, string(first.Body), string(byID.Body), "a body id is the same key as the header")

	e := requireError(t, ta.do(t, "POST", "/v1/events", map[string]any{"type": "order.created", "data": map[string]any{"n": 2}}, "Idempotency-Key", "order-1"),
		http.StatusConflict, "conflict")
	require.Contains(t, e.Error.Message, "order-1")
	ta.eventuallyStarted(t, 1)
}

func TestTemporalDownStillAcceptsAndStartsOnceItIsBack(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	ta.down.Store(true)
	r := ta.do(t, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{"v": 1}}, "Idempotency-Key", "evt-1")
	require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	var acc map[string]any
	r.json(t, &acc)
	require.Equal(t, map[string]any{"id": "evt-1", "type": "a.b", "workflow_id": "event:default/evt-1", "status": "accepted"}, acc,
		"no run id: the workflow starts after the answer")

	var ev struct {
		Status string `json:"status"`
		RunID  string `json:"run_id"`
	}
	get := ta.do(t, "GET", "/v1/events/evt-1", nil)
	require.Equal(t, http.StatusOK, get.Code, "a stored event is accepted: %s", get.Body)
	get.json(t, &ev)
	require.Equal(t, "pending", ev.Status)
	require.Empty(t, ev.RunID)

	var ready map[string]any
	require.Eventually(t, func() bool {
		r := ta.do(t, "GET", "/readyz", nil)
		require.Equal(t, http.StatusOK, r.Code, "ready: events are accepted: %s", r.Body)
		r.json(t, &ready)
		// pending_events is an estimate that an accept racing the
		// periodic count can skew by one until the next count.
		return ready["dispatch"] == "stalled" && ready["pending_events"] == float64(1)
	}, 10*time.Second, 10*time.Millisecond, "readyz says dispatch stalled with one event pending")
	require.Equal(t, "unreachable", ready["temporal"])
	require.Zero(t, ta.started())

	again := ta.do(t, "POST", "/v1/events", `{"data":{"v":1},"type":"a.b"}`, "Idempotency-Key", "evt-1")
	require.Equal(t, http.StatusAccepted, again.Code)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	requireError(t, ta.do(t, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{"v": 2}}, "Idempotency-Key", "evt-1"),
		http.StatusConflict, "conflict")

	ta.down.Store(false)
	ta.eventuallyStarted(t, 1)
	require.Eventually(t, func() bool {
		ta.do(t, "GET", "/v1/events/evt-1", nil).json(t, &ev)
		return ev.RunID == "run-event:default/evt-1"
	}, 10*time.Second, 10*time.Millisecond, "GET shows the run once started")
	require.Eventually(t, func() bool {
		ta.do(t, "GET", "/readyz", nil).json(t, &ready)
		return ready["dispatch"] == "ok" && ready["temporal"] == "up"
	}, 10*time.Second, 10*time.Millisecond)
}

func TestFullBacklogRefusesNewEventsWithRetryAfter(t *testing.T) {
	ta := newTestAPI(t, apiOptions{maxPending: 3})
	ta.down.Store(true)
	for i := range 3 {
		r := ta.do(t, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}}, "Idempotency-Key", fmt.Sprintf("evt-%d", i))
		require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	}
	r := ta.do(t, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}}, "Idempotency-Key", "evt-3")
	e := requireError(t, r, http.StatusServiceUnavailable, "unavailable")
	require.Contains(t, e.Error.Message, "HOOKFLOW_MAX_PENDING_EVENTS")
	require.Equal(t, "10", r.Header.Get("Retry-After"))
	requireError(t, ta.do(t, "GET", "/v1/events/evt-3", nil), http.StatusNotFound, "not_found")
	req, _ := http.NewRequest("POST", "http://hookflow.test/v1/events", nil)
	testenv.CheckResponse(t, req, r.Code, r.Header, r.Body)

	replay := ta.do(t, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}}, "Idempotency-Key", "evt-0")
	require.Equal(t, http.StatusAccepted, replay.Code, "an event accepted before the backlog filled still gets its answer: %s", replay.Body)
	require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))

	ta.down.Store(false)
	ta.eventuallyStarted(t, 3)
	require.Eventually(t, func() bool {
		return ta.do(t, "POST", "/v1/events", map[string]any{"type": "a.b", "data": map[string]any{}}, "Idempotency-Key", "evt-3").Code == http.StatusAccepted
	}, 10*time.Second, 20*time.Millisecond, "accepted again once the backlog drained")
}

type subscriptionView struct {
	ID                      string             `json:"id"`
	URL                     string             `json:"url"`
	EventTypes              []string           `json:"event_types"`
	Description             string             `json:"description"`
	Headers                 map[string]string  `json:"headers"`
	Retry                   map[string]float64 `json:"retry"`
	TimeoutSeconds          *float64           `json:"timeout_seconds"`
	Status                  string             `json:"status"`
	Secret                  string             `json:"secret"`
	PreviousSecretExpiresAt *time.Time         `json:"previous_secret_expires_at"`
}

func TestPatchChangesOnlyWhatItNames(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	var sub subscriptionView
	r := ta.do(t, "POST", "/v1/subscriptions", map[string]any{
		"url": "https://example.com/a", "event_types": []string{"order.*"}, "description": "orders",
		"headers": map[string]string{"X-Team": "billing"}, "retry": map[string]any{"max_attempts": 5}, "timeout_seconds": 5,
	})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	r.json(t, &sub)

	var got subscriptionView
	r = ta.do(t, "PATCH", "/v1/subscriptions/"+sub.ID, map[string]any{"description": "all orders"})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r.json(t, &got)
	require.Equal(t, "all orders", got.Description)
	require.Equal(t, sub.URL, got.URL)
	require.Equal(t, []string{"order.*"}, got.EventTypes)
	require.Equal(t, map[string]string{"X-Team": "billing"}, got.Headers)
	require.Equal(t, map[string]float64{"max_attempts": 5}, got.Retry)
	require.Equal(t, 5.0, *got.TimeoutSeconds)
	require.Empty(t, got.Secret, "a PATCH answer never shows the secret")

	r = ta.do(t, "PATCH", "/v1/subscriptions/"+sub.ID, map[string]any{
		"url": "http://example.com/b", "event_types": []string{"user.created", "invoice.*"}, "status": "paused",
		"headers": nil, "retry": map[string]any{"backoff_coefficient": 3}, "timeout_seconds": nil, "description": nil,
	})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	got = subscriptionView{}
	r.json(t, &got)
	require.Equal(t, "http://example.com/b", got.URL)
	require.ElementsMatch(t, []string{"user.created", "invoice.*"}, got.EventTypes)
	require.Equal(t, "paused", got.Status)
	require.Empty(t, got.Headers, "null removes the headers")
	require.Equal(t, map[string]float64{"backoff_coefficient": 3}, got.Retry, "retry is replaced whole")
	require.Nil(t, got.TimeoutSeconds, "null goes back to the default timeout")
	require.Empty(t, got.Description)

	stored, err := ta.store.GetSubscription(context.Background(), store.DefaultApplication, sub.ID)
	require.NoError(t, err)
	require.Equal(t, sub.Secret, stored.Secret, "a PATCH keeps the secret")
	require.Equal(t, store.SubscriptionPaused, stored.Status)

	for body, field := range map[string]string{
		`{"url":null}`:                                        "url",
		`{"event_types":null}`:                                "event_types",
		`{"status":null}`:                                     "status",
		`{"status":"disabled"}`:                               "status",
		`{"url":"mailto:a@b.c"}`:                              "url",
		`{"url":"http://127.0.0.1:9000/x"}`:                   "url",
		`{"event_types":[]}`:                                  "event_types",
		`{"timeout_seconds":0.5}`:                             "timeout_seconds",
		`{"retry":{"max_attempts":1001}}`:                     "retry.max_attempts",
		`{"headers":{"X-A":5}}`:                               "headers",
		`{"description":"` + strings.Repeat("d", 1025) + `"}`: "description",
	} {
		e := requireError(t, ta.do(t, "PATCH", "/v1/subscriptions/"+sub.ID, body), http.StatusBadRequest, "validation_failed")
		require.Contains(t, e.fields(), field, "%s: %+v", body, e.Error.Details)
	}
	after, err := ta.store.GetSubscription(context.Background(), store.DefaultApplication, sub.ID)
	require.NoError(t, err)
	require.Equal(t, stored, after, "refused patches change nothing")
}

func TestListFiltersByEventTypeAndPagesWithACursor(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	var ids []string
	for i, types := range [][]string{{"order.*"}, {"user.created"}, {"*"}, {"order.created"}, {"order.refunded"}} {
		var s subscriptionView
		r := ta.do(t, "POST", "/v1/subscriptions", map[string]any{"url": fmt.Sprintf("https://e.com/%d", i), "event_types": types})
		require.Equal(t, http.StatusCreated, r.Code)
		r.json(t, &s)
		ids = append(ids, s.ID)
		time.Sleep(2 * time.Millisecond) // ids are ULIDs: creation order
	}
	type page struct {
		Data       []subscriptionView `json:"data"`
		NextCursor string             `json:"next_cursor"`
	}
	var seen []string
	cursor := ""
	for range 10 {
		var p page
		r := ta.do(t, "GET", "/v1/subscriptions?event_type=order.created&limit=2&cursor="+cursor, nil)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		r.json(t, &p)
		for _, s := range p.Data {
			seen = append(seen, s.ID)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	require.Equal(t, []string{ids[0], ids[2], ids[3]}, seen, "order.*, * and order.created receive order.created, in creation order")
}

func TestRotateSecretKeepsTheOldOneSigningForTheGrace(t *testing.T) {
	ta := newTestAPI(t, apiOptions{secretGrace: 24 * time.Hour})
	var sub subscriptionView
	r := ta.do(t, "POST", "/v1/subscriptions", map[string]any{"url": "https://example.com/a", "event_types": []string{"*"}})
	require.Equal(t, http.StatusCreated, r.Code)
	r.json(t, &sub)
	require.Nil(t, sub.PreviousSecretExpiresAt)

	var rotated subscriptionView
	r = ta.do(t, "POST", "/v1/subscriptions/"+sub.ID+"/rotate-secret", nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r.json(t, &rotated)
	require.True(t, strings.HasPrefix(rotated.Secret, "whsec_"))
	require.NotEqual(t, sub.Secret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretExpiresAt)
	require.Equal(t, ta.now.Add(24*time.Hour), rotated.PreviousSecretExpiresAt.UTC())

	stored, err := ta.store.GetSubscription(context.Background(), store.DefaultApplication, sub.ID)
	require.NoError(t, err)
	require.Equal(t, []string{rotated.Secret, sub.Secret}, stored.SigningSecrets(ta.now.Add(23*time.Hour)))
	require.Equal(t, []string{rotated.Secret}, stored.SigningSecrets(ta.now.Add(24*time.Hour)))

	var get subscriptionView
	ta.do(t, "GET", "/v1/subscriptions/"+sub.ID, nil).json(t, &get)
	require.Empty(t, get.Secret, "GET never shows a secret")
	require.NotNil(t, get.PreviousSecretExpiresAt)

	const chosen = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	r = ta.do(t, "POST", "/v1/subscriptions/"+sub.ID+"/rotate-secret", map[string]any{"secret": chosen})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	stored, err = ta.store.GetSubscription(context.Background(), store.DefaultApplication, sub.ID)
	require.NoError(t, err)
	require.Equal(t, []string{chosen, rotated.Secret}, stored.SigningSecrets(ta.now), "rotating again retires the oldest secret")

	e := requireError(t, ta.do(t, "POST", "/v1/subscriptions/"+sub.ID+"/rotate-secret", map[string]any{"secret": "short"}), http.StatusBadRequest, "validation_failed")
	require.Equal(t, "webhook_secret", e.fields()["secret"])
}

// rate_limit and max_in_flight: set on create, changed and removed by
// PATCH, and refused with a 400 naming the field when out of range.
func TestFlowControlFieldsAreValidatedAndPatched(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	type limits struct {
		ID          string   `json:"id"`
		RateLimit   *float64 `json:"rate_limit"`
		MaxInFlight *int     `json:"max_in_flight"`
	}
	var sub limits
	r := ta.do(t, "POST", "/v1/subscriptions", map[string]any{
		"url": "https://example.com/a", "event_types": []string{"order.*"}, "rate_limit": 2.5, "max_in_flight": 3,
	})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	r.json(t, &sub)
	require.Equal(t, 2.5, *sub.RateLimit)
	require.Equal(t, 3, *sub.MaxInFlight)

	var got limits
	r = ta.do(t, "PATCH", "/v1/subscriptions/"+sub.ID, map[string]any{"max_in_flight": 10})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r.json(t, &got)
	require.Equal(t, 10, *got.MaxInFlight)
	require.Equal(t, 2.5, *got.RateLimit, "left out, kept")

	got = limits{}
	r = ta.do(t, "PATCH", "/v1/subscriptions/"+sub.ID, map[string]any{"rate_limit": nil, "max_in_flight": nil})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r.json(t, &got)
	require.Nil(t, got.RateLimit, "null removes the limit")
	require.Nil(t, got.MaxInFlight, "null removes the cap")
	stored, err := ta.store.GetSubscription(context.Background(), store.DefaultApplication, sub.ID)
	require.NoError(t, err)
	require.Zero(t, stored.RateLimit)
	require.Zero(t, stored.MaxInFlight)

	for body, field := range map[string]string{
		`{"rate_limit":0}`:         "rate_limit",
		`{"rate_limit":-1}`:        "rate_limit",
		`{"rate_limit":10001}`:     "rate_limit",
		`{"rate_limit":"fast"}`:    "rate_limit",
		`{"max_in_flight":0}`:      "max_in_flight",
		`{"max_in_flight":1001}`:   "max_in_flight",
		`{"max_in_flight":1.5}`:    "max_in_flight",
		`{"max_in_flight":100000}`: "max_in_flight",
	} {
		e := requireError(t, ta.do(t, "PATCH", "/v1/subscriptions/"+sub.ID, body), http.StatusBadRequest, "validation_failed")
		require.Contains(t, e.fields(), field, "PATCH %s: %+v", body, e.Error.Details)
		create := `{"url":"https://example.com/b","event_types":["a.*"],` + body[1:]
		e = requireError(t, ta.do(t, "POST", "/v1/subscriptions", create), http.StatusBadRequest, "validation_failed")
		require.Contains(t, e.fields(), field, "POST %s: %+v", create, e.Error.Details)
	}
}
