package client_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/client"
)

// The client's calls against a real Hookflow, checked against the OpenAPI
// document, are in e2e/client_test.go; these cover what a server of any
// shape makes the client do.

type seen struct {
	method, path, auth, body, idempotency string
}

func server(t *testing.T, status int, answer string) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*s = seen{method: r.Method, path: r.URL.EscapedPath(), auth: r.Header.Get("Authorization"), body: string(b), idempotency: r.Header.Get("Idempotency-Key")}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func TestNewRefusesWhatIsNotABaseURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://h", "http://", "http://h/?a=1", "::"} {
		_, err := client.New(u, "")
		require.Error(t, err, "%q", u)
	}
	_, err := client.New("https://hookflow.example.com/", "k")
	require.NoError(t, err)
}

func TestErrorsCarryTheAPIsCodeAndMessage(t *testing.T) {
	srv, _ := server(t, 400, `{"error":{"code":"validation_failed","message":"invalid subscription","details":[{"field":"url","rule":"webhook_url","message":"must be http or https"}]}}`)
	c, err := client.New(srv.URL, "k")
	require.NoError(t, err)
	_, err = c.CreateSubscription(t.Context(), client.NewSubscription{URL: "ftp://x", EventTypes: []string{"a"}})
	var e *client.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 400, e.StatusCode)
	require.Equal(t, "validation_failed", e.Code)
	require.Equal(t, "validation_failed (400): invalid subscription\n  url: must be http or https", e.Error())
	require.False(t, client.IsNotFound(err))

	// Not the contract's shape (a proxy in front): the status and the
	// start of the body.
	srv, _ = server(t, 502, "<html>bad gateway</html>")
	c, err = client.New(srv.URL, "k")
	require.NoError(t, err)
	_, err = c.GetEvent(t.Context(), "e")
	require.ErrorAs(t, err, &e)
	require.Equal(t, "HTTP 502: <html>bad gateway</html>", e.Error())

	srv, _ = server(t, 404, `{"error":{"code":"not_found","message":"no such delivery"}}`)
	c, err = client.New(srv.URL, "k")
	require.NoError(t, err)
	_, err = c.GetDelivery(t.Context(), "d")
	require.True(t, client.IsNotFound(err))
}

func TestRoutesKeysAndApplications(t *testing.T) {
	srv, s := server(t, 202, `{"id":"e/1","type":"a.b","workflow_id":"w","run_id":"r","status":"accepted"}`)
	c, err := client.New(srv.URL+"/", "secret-key")
	require.NoError(t, err)

	acc, err := c.SendEvent(t.Context(), client.NewEvent{Type: "a.b", Data: json.RawMessage(`{"x":1}`), IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.Equal(t, "accepted", acc.Status)
	require.Equal(t, seen{method: "POST", path: "/v1/events", auth: "Bearer secret-key", body: `{"type":"a.b","data":{"x":1}}`, idempotency: "k1"}, *s)

	// Ids are path segments, escaped; an application scopes every route.
	_, err = c.ForApp("acme corp").GetEvent(t.Context(), "e/1")
	require.NoError(t, err)
	require.Equal(t, "/v1/applications/acme%20corp/events/e%2F1", s.path)
	_, err = c.RetryDelivery(t.Context(), "d1")
	require.NoError(t, err)
	require.Equal(t, "/v1/deliveries/d1/retry", s.path, "ForApp returns a copy; the client stays top-level")

	anonymous, err := client.New(srv.URL, "")
	require.NoError(t, err)
	_, err = anonymous.CancelEvent(t.Context(), "e")
	require.NoError(t, err)
	require.Empty(t, s.auth, "no key, no Authorization header")
}

// A PATCH says what to clear with null and leaves out what it keeps.
func TestPatchNulls(t *testing.T) {
	b, err := json.Marshal(client.SubscriptionPatch{})
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(b))

	three := 3
	b, err = json.Marshal(client.SubscriptionPatch{
		Headers: client.Null[map[string]string](), Retry: client.Value(client.Retry{MaxAttempts: &three}),
		Description: client.Value(""), TimeoutSeconds: client.Null[float64](), Status: "paused",
	})
	require.NoError(t, err)
	require.JSONEq(t, `{"headers":null,"retry":{"max_attempts":3},"description":"","timeout_seconds":null,"status":"paused"}`, string(b))
}
