package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/client"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
)

// documentedTransport checks every request package client sends and every
// answer it gets against api/openapi.yaml, remembers the secrets in them
// (TestMain then looks for them in every history), and keeps the last
// answer's body so that a test can decode it strictly.
type documentedTransport struct {
	t    *testing.T
	mu   sync.Mutex
	last []byte
}

func (d *documentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	testenv.RememberSecrets(body)
	if err := testenv.RequestProblem(req, body); err != nil {
		d.t.Errorf("client sent %s %s, which api/openapi.yaml does not describe: %v\nbody: %s", req.Method, req.URL.Path, err, body)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	testenv.RememberSecrets(raw)
	testenv.CheckResponse(d.t, req, resp.StatusCode, resp.Header, raw)
	d.mu.Lock()
	d.last = raw
	d.mu.Unlock()
	return resp, nil
}

// strictly decodes the last answer into a fresh T refusing unknown
// fields: a field the API sends that the client's type lacks fails here.
func strictly[T any](t *testing.T, d *documentedTransport) {
	t.Helper()
	d.mu.Lock()
	raw := d.last
	d.mu.Unlock()
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), "the client's %T misses a field of %s", v, raw)
}

func apiErrorOf(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	require.True(t, errors.As(err, &e), "want *client.Error, got %v", err)
	return e
}

// Package client, every method, against a running Hookflow: what it sends
// and what it reads are what the OpenAPI document says.
func TestClientAgainstTheDocument(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.APIKeys = []string{"client-key"} })
	receiver := testenv.NewReceiver(t)
	tr := &documentedTransport{t: t}
	c, err := client.New(h.URL, "client-key", client.WithHTTPClient(&http.Client{Transport: tr, Timeout: 30 * time.Second}))
	require.NoError(t, err)
	ctx := t.Context()

	three, two := 3, 2.0
	sub, err := c.CreateSubscription(ctx, client.NewSubscription{
		URL: receiver.URL + "/c", EventTypes: []string{"client.*"}, Description: "client test",
		Headers: map[string]string{"X-A": "b"}, Retry: &client.Retry{MaxAttempts: &three, BackoffCoefficient: &two},
		TimeoutSeconds: 5,
	})
	require.NoError(t, err)
	strictly[client.Subscription](t, tr)
	require.NotEmpty(t, sub.Secret)
	require.Equal(t, 3, *sub.Retry.MaxAttempts)
	require.Equal(t, 5.0, sub.TimeoutSeconds)
	receiver.SetSecret(sub.Secret)

	page, err := c.ListSubscriptions(ctx, client.ListSubscriptionsParams{EventType: "client.made", ListParams: client.ListParams{Limit: 10}})
	require.NoError(t, err)
	strictly[client.Page[client.Subscription]](t, tr)
	require.Len(t, page.Data, 1)
	page, err = c.ListSubscriptions(ctx, client.ListSubscriptionsParams{EventType: "other.made"})
	require.NoError(t, err)
	require.Empty(t, page.Data)

	got, err := c.GetSubscription(ctx, sub.ID)
	require.NoError(t, err)
	strictly[client.Subscription](t, tr)
	require.Empty(t, got.Secret, "only create and rotate answer the secret")

	// Null clears, a value sets, a field left out keeps its value.
	updated, err := c.UpdateSubscription(ctx, sub.ID, client.SubscriptionPatch{
		Headers: client.Null[map[string]string](), Retry: client.Null[client.Retry](),
		TimeoutSeconds: client.Null[float64](), Description: client.Value("changed"),
	})
	require.NoError(t, err)
	strictly[client.Subscription](t, tr)
	require.Empty(t, updated.Headers)
	require.Nil(t, updated.Retry)
	require.Zero(t, updated.TimeoutSeconds)
	require.Equal(t, "changed", updated.Description)
	require.Equal(t, []string{"client.*"}, updated.EventTypes)

	secret, err := c.SubscriptionSecret(ctx, sub.ID)
	require.NoError(t, err)
	require.Equal(t, sub.Secret, secret)
	rotated, err := c.RotateSecret(ctx, sub.ID, "")
	require.NoError(t, err)
	strictly[client.Subscription](t, tr)
	require.NotEqual(t, sub.Secret, rotated.Secret)
	require.NotNil(t, rotated.PreviousSecretExpiresAt)
	receiver.SetSecret(rotated.Secret)

	acc, err := c.SendEvent(ctx, client.NewEvent{Type: "client.made", Data: json.RawMessage(`{"n":1}`), IdempotencyKey: "client-1"})
	require.NoError(t, err)
	strictly[client.Accepted](t, tr)
	require.Equal(t, "client-1", acc.ID)

	var ds []client.DeliverySummary
	require.Eventually(t, func() bool {
		ds, err = c.EventDeliveries(ctx, acc.ID)
		return err == nil && len(ds) == 1 && ds[0].Status == "succeeded"
	}, time.Minute, 200*time.Millisecond)
	strictly[client.Event](t, tr)
	require.Equal(t, acc.ID, ds[0].EventID)
	ev, err := c.GetEvent(ctx, acc.ID)
	require.NoError(t, err)
	require.Equal(t, "client.made", ev.Type)

	d, err := c.GetDelivery(ctx, ds[0].ID)
	require.NoError(t, err)
	strictly[client.Delivery](t, tr)
	require.Equal(t, http.StatusOK, *d.Attempts[0].StatusCode)
	require.Nil(t, d.NextAttemptAt)
	require.Len(t, receiver.Requests(), 1)

	// A succeeded delivery cannot be retried: the API's 409, typed.
	_, err = c.RetryDelivery(ctx, d.ID)
	require.Equal(t, "conflict", apiErrorOf(t, err).Code)
	require.Equal(t, http.StatusConflict, apiErrorOf(t, err).StatusCode)
	_, err = c.CancelDelivery(ctx, d.ID)
	require.Error(t, err)
	_, err = c.CancelEvent(ctx, acc.ID)
	if err != nil {
		require.Equal(t, http.StatusConflict, apiErrorOf(t, err).StatusCode)
	}

	// A succeeded delivery can be resent, and a window recovered.
	rs, err := c.Resend(ctx, d.ID)
	require.NoError(t, err)
	strictly[client.Resent](t, tr)
	require.Eventually(t, func() bool {
		got, err := c.GetDelivery(ctx, rs.ID)
		return err == nil && got.Status == "succeeded"
	}, time.Minute, 200*time.Millisecond)
	require.Len(t, receiver.Requests(), 2)
	rec, err := c.Recover(ctx, sub.ID, client.RecoverWindow{Since: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	strictly[client.Recovery](t, tr)
	require.Eventually(t, func() bool {
		rec, err = c.GetRecovery(ctx, rec.ID)
		return err == nil && rec.Status == "completed"
	}, time.Minute, 200*time.Millisecond)
	strictly[client.Recovery](t, tr)
	require.Zero(t, rec.Resent, "nothing failed")
	_, err = c.CancelRecovery(ctx, rec.ID)
	require.Equal(t, http.StatusConflict, apiErrorOf(t, err).StatusCode)
	_, err = c.Recover(ctx, sub.ID, client.RecoverWindow{Since: time.Now(), Until: time.Now().Add(-time.Hour)})
	require.Equal(t, "until", apiErrorOf(t, err).Details[0].Field)

	// Bad input: each field named.
	_, err = c.CreateSubscription(ctx, client.NewSubscription{URL: "ftp://x", EventTypes: []string{"a"}})
	e := apiErrorOf(t, err)
	require.Equal(t, "validation_failed", e.Code)
	require.NotEmpty(t, e.Details)

	require.NoError(t, c.DeleteSubscription(ctx, sub.ID))
	_, err = c.GetSubscription(ctx, sub.ID)
	require.True(t, client.IsNotFound(err), "%v", err)

	wrong, err := client.New(h.URL, "wrong", client.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	_, err = wrong.GetEvent(ctx, acc.ID)
	require.Equal(t, "unauthorized", apiErrorOf(t, err).Code)
}
