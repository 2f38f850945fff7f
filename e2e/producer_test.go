package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
)

// rawAnswer is an answer read off the wire, for requests sent from
// goroutines other than the test's (which must not call t.Fatal).
type rawAnswer struct {
	req    *http.Request
	status int
	header http.Header
	body   []byte
	err    error
}

func postEvent(h *testenv.Hookflow, key string, body string) rawAnswer {
	req, err := http.NewRequest(http.MethodPost, h.URL+"/v1/events", strings.NewReader(body))
	if err != nil {
		return rawAnswer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rawAnswer{req: req, err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	return rawAnswer{req: req, status: resp.StatusCode, header: resp.Header, body: raw, err: err}
}

// executions lists every run, open or closed, of a workflow id.
func executions(ctx context.Context, c client.Client, workflowID string) ([]*workflowpb.WorkflowExecutionInfo, error) {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowId = %q", workflowID),
	})
	if err != nil {
		return nil, err
	}
	return resp.GetExecutions(), nil
}

func TestFiftyConcurrentPostsOfOneEventStartOneWorkflowAndDeliverOnce(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	subscribe(t, h, r, "order.created")

	const n = 50
	body := `{"type":"order.created","data":{"order_id":77}}`
	answers := make([]rawAnswer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = postEvent(h, "order-77-created", body)
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent posts of one event answered in %v", n, time.Since(began))

	var first accepted
	replayed := 0
	for i, a := range answers {
		require.NoError(t, a.err)
		require.Equal(t, http.StatusAccepted, a.status, "post %d: %s", i, a.body)
		testenv.CheckResponse(t, a.req, a.status, a.header, a.body)
		var acc accepted
		require.NoError(t, json.Unmarshal(a.body, &acc))
		if i == 0 {
			first = acc
		}
		require.Equal(t, first, acc, "every post gets the same answer")
		if a.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	require.GreaterOrEqual(t, replayed, n-1, "at most one post is the first")

	var ev eventView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/order-77-created", nil, &ev))
		assert.NotEmpty(c, ev.RunID, "the run shows once the dispatcher started it")
		require.Len(c, ev.Deliveries, 1)
		assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
		runs, err := executions(context.Background(), tp.Client, ev.Deliveries[0].WorkflowID)
		require.NoError(c, err)
		assert.Len(c, runs, 1, "the delivery is visible")
	}, time.Minute, 200*time.Millisecond)

	ctx := context.Background()
	runs, err := executions(ctx, tp.Client, first.WorkflowID)
	require.NoError(t, err)
	require.Len(t, runs, 1, "one event workflow")
	require.Equal(t, ev.RunID, runs[0].GetExecution().GetRunId())
	runs, err = executions(ctx, tp.Client, ev.Deliveries[0].WorkflowID)
	require.NoError(t, err)
	require.Len(t, runs, 1, "one delivery workflow")
	require.Equal(t, 1, ev.Deliveries[0].Attempts)
	reqs := r.Requests()
	require.Len(t, reqs, 1, "the receiver got the event once")
	require.NoError(t, reqs[0].VerifyErr)
	require.Equal(t, "order-77-created", reqs[0].Header.Get(signing.HeaderID))
}

func TestRotatedSecretSignsBesideTheNewOne(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	sub := subscribe(t, h, r, "user.*")

	var rotated struct {
		Secret                  string    `json:"secret"`
		PreviousSecretExpiresAt time.Time `json:"previous_secret_expires_at"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodPost, "/v1/subscriptions/"+sub.ID+"/rotate-secret", nil, &rotated))
	require.NotEqual(t, sub.Secret, rotated.Secret)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), rotated.PreviousSecretExpiresAt, time.Minute)

	publish(t, h, map[string]any{"type": "user.registered", "data": map[string]any{"user": 1}})
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, 1, r.Count()) }, 30*time.Second, 100*time.Millisecond)
	req := r.Requests()[0]
	require.Len(t, strings.Fields(req.Header.Get(signing.HeaderSignature)), 2, "two v1 signatures during the grace")
	for name, secret := range map[string]string{"old": sub.Secret, "new": rotated.Secret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(req.Body, req.Header), "a receiver with the %s secret verifies", name)
	}
}

func TestEventTypesAndKeysEndToEnd(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
		c.APIKeys = []string{"producer-key"}
		c.AllowUnknownEventTypes = false
	})
	auth := []string{"Authorization", "Bearer producer-key"}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Details []struct {
				Field, Rule string
			} `json:"details"`
		} `json:"error"`
	}
	require.Equal(t, http.StatusUnauthorized, h.Do(t, http.MethodGet, "/v1/subscriptions", nil, &e))
	require.Equal(t, "unauthorized", e.Error.Code)
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/healthz", nil, nil))
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/openapi.yaml", nil, nil))

	r := testenv.NewReceiver(t)
	var sub subscription
	require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/subscriptions",
		map[string]any{"url": r.URL, "event_types": []string{"payment.*"}}, &sub, auth...))
	r.SetSecret(sub.Secret)

	schema := json.RawMessage(`{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer","minimum":1}}}`)
	require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/event-types",
		map[string]any{"name": "payment.failed", "schema": schema}, nil, auth...))

	e.Error.Details = nil
	require.Equal(t, http.StatusBadRequest, h.Do(t, http.MethodPost, "/v1/events",
		map[string]any{"type": "payment.failed", "data": map[string]any{"amount": 0}}, &e, auth...))
	require.Len(t, e.Error.Details, 1)
	require.Equal(t, "data/amount", e.Error.Details[0].Field)
	require.Equal(t, "minimum", e.Error.Details[0].Rule)
	e.Error.Details = nil
	require.Equal(t, http.StatusBadRequest, h.Do(t, http.MethodPost, "/v1/events",
		map[string]any{"type": "payment.refunded", "data": map[string]any{}}, &e, auth...))
	require.Equal(t, "type", e.Error.Details[0].Field, "unknown types are refused when configured so")

	var acc accepted
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/events",
		map[string]any{"type": "payment.failed", "data": map[string]any{"amount": 5}}, &acc, auth...))
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, 1, r.Count()) }, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, r.Requests()[0].VerifyErr)
	require.Equal(t, acc.ID, r.Requests()[0].Header.Get(signing.HeaderID))
}
