package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
)

type subscription struct {
	ID     string `json:"id"`
	Secret string `json:"secret"`
	Status string `json:"status"`
}

type accepted struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
}

type eventView struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	RunID      string `json:"run_id"`
	Deliveries []struct {
		ID             string `json:"id"`
		SubscriptionID string `json:"subscription_id"`
		Status         string `json:"status"`
		Attempts       int    `json:"attempts"`
		WorkflowID     string `json:"workflow_id"`
	} `json:"deliveries"`
}

func subscribe(t *testing.T, h *testenv.Hookflow, r *testenv.Receiver, eventTypes ...string) subscription {
	t.Helper()
	var sub subscription
	code := h.Do(t, http.MethodPost, "/v1/subscriptions", map[string]any{"url": r.URL, "event_types": eventTypes}, &sub)
	require.Equal(t, http.StatusCreated, code)
	require.Equal(t, "active", sub.Status)
	r.SetSecret(sub.Secret)
	return sub
}

func publish(t *testing.T, h *testenv.Hookflow, body map[string]any) accepted {
	t.Helper()
	var acc accepted
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/events", body, &acc))
	return acc
}

func TestEventReachesExactlyTheMatchingSubscribersSigned(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	exact, wildcard, other := testenv.NewReceiver(t), testenv.NewReceiver(t), testenv.NewReceiver(t)
	subscribe(t, h, exact, "order.created")
	subscribe(t, h, wildcard, "order.*")
	subscribe(t, h, other, "user.registered")

	acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"order_id": 42}})
	require.Equal(t, "event:default/"+acc.ID, acc.WorkflowID)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
		require.Len(c, ev.Deliveries, 2)
		assert.Equal(c, "completed", ev.Status)
		for _, d := range ev.Deliveries {
			assert.Equal(c, "succeeded", d.Status)
			assert.Equal(c, 1, d.Attempts)
		}
	}, 30*time.Second, 100*time.Millisecond)

	for _, r := range []*testenv.Receiver{exact, wildcard} {
		reqs := r.Requests()
		require.Len(t, reqs, 1, "each matching receiver gets the event once")
		require.NoError(t, reqs[0].VerifyErr, "the Standard Webhooks library verifies the signature")
		require.Equal(t, acc.ID, reqs[0].Header.Get(signing.HeaderID))
		require.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
		require.Contains(t, reqs[0].Header.Get("User-Agent"), "hookflow/")
		var body struct {
			ID        string          `json:"id"`
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
		require.Equal(t, acc.ID, body.ID)
		require.Equal(t, "order.created", body.Type)
		require.JSONEq(t, `{"order_id":42}`, string(body.Data))
		require.WithinDuration(t, time.Now(), body.Timestamp, time.Minute)
	}
	require.Zero(t, other.Count(), "a subscriber of another type gets nothing")

	if *updateHistories {
		ctx := context.Background()
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		// event-two-subscribers.json is the shape before every batch
		// settled (version 1 of pause-for-child-starts); it stays, for replay.
		require.NoError(t, testenv.SaveHistory(ctx, tp.Client, acc.WorkflowID, "", filepath.Join(dir, "event-two-subscribers-settled.json")))
		var ev eventView
		h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev)
		require.NoError(t, testenv.SaveHistory(ctx, tp.Client, ev.Deliveries[0].WorkflowID, "", filepath.Join(dir, "delivery-first-try.json")))
	}
}

func TestFailingReceiverGetsTheEventOnTheThirdAttempt(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
		c.Retry.InitialInterval = 200 * time.Millisecond
		c.Retry.MaxInterval = time.Second
	})
	r := testenv.NewReceiver(t)
	r.Respond = func(n int, w http.ResponseWriter) {
		if n <= 2 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("boom"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	subscribe(t, h, r, "invoice.paid")
	acc := publish(t, h, map[string]any{"type": "invoice.paid", "data": map[string]any{"amount": 10}})

	var ev eventView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
		require.Len(c, ev.Deliveries, 1)
		assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
	}, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, 3, ev.Deliveries[0].Attempts)
	reqs := r.Requests()
	require.Len(t, reqs, 3)
	for _, req := range reqs {
		require.NoError(t, req.VerifyErr)
		require.Equal(t, acc.ID, req.Header.Get(signing.HeaderID), "webhook-id stays the same on every retry")
	}
	require.Equal(t, string(reqs[0].Body), string(reqs[2].Body), "every attempt sends the same body")

	if *updateHistories {
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, testenv.SaveHistory(context.Background(), tp.Client, ev.Deliveries[0].WorkflowID, "", filepath.Join(dir, "delivery-third-try.json")))
	}
}
