package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
)

type resent struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
}

type recoveryView struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
	Matched    int    `json:"matched"`
	Resent     int    `json:"resent"`
}

func startRecovery(t *testing.T, h *testenv.Hookflow, subID string, body map[string]any) recoveryView {
	t.Helper()
	var rec recoveryView
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/subscriptions/"+subID+"/recover", body, &rec))
	require.True(t, strings.HasPrefix(rec.ID, "rcv_"), rec.ID)
	return rec
}

func waitRecovery(t *testing.T, h *testenv.Hookflow, id, status string, timeout time.Duration) recoveryView {
	t.Helper()
	var rec recoveryView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/recoveries/"+id, nil, &rec))
		require.Equal(c, status, rec.Status)
	}, timeout, 50*time.Millisecond)
	return rec
}

// A receiver that lost what it had acknowledged asks for it again: the
// resend is a new delivery, and arrives with the same webhook-id.
func TestResendOfASucceededDeliveryArrivesAgainWithTheSameWebhookID(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	sub := subscribe(t, h, r, "order.*")
	acc := publish(t, h, map[string]any{"type": "order.paid", "data": map[string]any{"n": 1}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)
	waitDelivery(t, h, id, "succeeded", 1)

	var rs resent
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/applications/default/deliveries/"+id+"/resend", nil, &rs))
	require.True(t, strings.HasPrefix(rs.ID, id+".rs_"), rs.ID)
	require.True(t, ids.Valid(rs.ID))
	require.Equal(t, ids.DeliveryWorkflow("default", rs.ID), rs.WorkflowID)
	d := waitDelivery(t, h, rs.ID, "succeeded", 1)
	require.Equal(t, acc.ID, d.EventID)
	require.Equal(t, sub.ID, d.SubscriptionID)
	require.Equal(t, "succeeded", getDelivery(t, h, id).Status, "the first delivery is left as it was")

	reqs := r.Requests()
	require.Len(t, reqs, 2)
	for _, req := range reqs {
		require.NoError(t, req.VerifyErr)
		require.Equal(t, acc.ID, req.Header.Get(signing.HeaderID))
	}
	require.Equal(t, string(reqs[0].Body), string(reqs[1].Body), "the same event, byte for byte")

	// A resend of the resend is one more delivery of the pair, named
	// after the first.
	var again resent
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/deliveries/"+rs.ID+"/resend", nil, &again))
	require.True(t, strings.HasPrefix(again.ID, id+".rs_"), again.ID)
	waitDelivery(t, h, again.ID, "succeeded", 1)
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodPost, "/v1/deliveries/nope/resend", nil, nil))
}

// An outage: three deliveries fail for good. Once the receiver is back, one
// recover call resends all three, and the recovery says so.
func TestOneRecoverCallResendsWhatFailedDuringAnOutage(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	var healthy atomic.Bool
	r := testenv.NewReceiver(t)
	r.Respond = failing(&healthy)
	sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"max_attempts": 1}}, "invoice.*")
	r.SetSecret(sub.Secret)
	since := time.Now().UTC().Add(-time.Second)
	var failed []string
	for i := range 3 {
		acc := publish(t, h, map[string]any{"type": "invoice.paid", "data": map[string]any{"n": i}})
		failed = append(failed, deliveryIDOf(t, h, acc.ID, sub.ID))
	}
	for _, id := range failed {
		waitDelivery(t, h, id, "failed", 1)
	}

	// Bad windows are refused, naming the field.
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{}, "since"},
		{map[string]any{"since": "yesterday"}, "since"},
		{map[string]any{"since": since.Format(time.RFC3339Nano), "until": "soon"}, "until"},
		{map[string]any{"since": since.Format(time.RFC3339Nano), "until": since.Add(-time.Hour).Format(time.RFC3339)}, "until"},
	} {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Details []struct {
					Field string `json:"field"`
				} `json:"details"`
			} `json:"error"`
		}
		require.Equal(t, http.StatusBadRequest, h.Do(t, http.MethodPost, "/v1/subscriptions/"+sub.ID+"/recover", tc.body, &e), "%v", tc.body)
		require.Equal(t, "validation_failed", e.Error.Code)
		require.Len(t, e.Error.Details, 1)
		require.Equal(t, tc.field, e.Error.Details[0].Field)
	}
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodPost, "/v1/subscriptions/sub_nope/recover", map[string]any{"since": since.Format(time.RFC3339)}, nil))

	healthy.Store(true)
	rec := startRecovery(t, h, sub.ID, map[string]any{"since": since.Format(time.RFC3339Nano)})
	require.Equal(t, "running", rec.Status)
	rec = waitRecovery(t, h, rec.ID, "completed", time.Minute)
	require.Equal(t, 3, rec.Matched)
	require.Equal(t, 3, rec.Resent)
	for _, id := range failed {
		waitDelivery(t, h, ids.Resend(id, rec.ID), "succeeded", 1)
		require.Equal(t, "failed", getDelivery(t, h, id).Status, "the failed delivery stays in the log as it was")
	}
	require.Equal(t, 6, r.Count())

	// The outcome outlives the workflow, and a second recovery of the
	// same window finds nothing left to resend: each pair's newest
	// delivery succeeded.
	run := mustDescribe(t, rec.WorkflowID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, tp.Client.GetWorkflow(ctx, rec.WorkflowID, run).Get(ctx, nil))
	saveHistory(t, rec.WorkflowID, run, "recover-outage.json")
	again := startRecovery(t, h, sub.ID, map[string]any{"since": since.Format(time.RFC3339Nano)})
	require.NotEqual(t, rec.ID, again.ID, "the first has completed: the window may be recovered again")
	again = waitRecovery(t, h, again.ID, "completed", time.Minute)
	require.Zero(t, again.Resent)
	require.Equal(t, 6, r.Count())
	var done recoveryView
	require.Equal(t, http.StatusConflict, h.Do(t, http.MethodPost, "/v1/recoveries/"+rec.ID+"/cancel", nil, &done))
}

// Events published while the subscription was disabled never got a
// delivery to it; a recovery of the window delivers them.
func TestRecoverDeliversWhatADisabledSubscriptionNeverGot(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	sub := subscribe(t, h, r, "ticket.*")
	other := subscribe(t, h, testenv.NewReceiver(t), "ticket.*")
	since := time.Now().UTC().Add(-time.Second)
	_, _, err := h.App.Store().DisableSubscription(context.Background(), store.DefaultApplication, sub.ID, "the receiver answered 410 Gone", time.Time{}, time.Now())
	require.NoError(t, err)
	acc := publish(t, h, map[string]any{"type": "ticket.opened", "data": map[string]any{}})
	skipped := publish(t, h, map[string]any{"type": "invoice.paid", "data": map[string]any{}})
	deliveryIDOf(t, h, acc.ID, other.ID)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+skipped.ID, nil, &ev))
		require.NotEmpty(c, ev.RunID)
	}, 30*time.Second, 50*time.Millisecond)

	var rec recoveryView
	require.Equal(t, http.StatusConflict, h.Do(t, http.MethodPost, "/v1/subscriptions/"+sub.ID+"/recover", map[string]any{"since": since.Format(time.RFC3339Nano)}, &rec),
		"a disabled subscription would get nothing")
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID, map[string]any{"status": "active"}, nil))
	rec = startRecovery(t, h, sub.ID, map[string]any{"since": since.Format(time.RFC3339Nano)})
	rec = waitRecovery(t, h, rec.ID, "completed", time.Minute)
	require.Equal(t, 1, rec.Resent, "the event of another type is not the subscription's")
	waitDelivery(t, h, ids.Delivery(acc.ID, sub.ID), "succeeded", 1)
	reqs := r.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, acc.ID, reqs[0].Header.Get(signing.HeaderID))
	require.NoError(t, reqs[0].VerifyErr)
}

// A recover asked twice while the first runs returns the first; a worker
// stopped in the middle of the recovery and started again resumes it, and
// every failed delivery is resent exactly once.
func TestRecoverTwiceReturnsTheFirstAndSurvivesAWorkerRestart(t *testing.T) {
	// Three pages: the first worker stops after the first.
	const n = 600
	api := testenv.StartHookflow(t, tp, app.ModeAPI, nil)
	share := func(c *config.Config) { c.DatabaseURL, c.TaskQueue = api.Config.DatabaseURL, api.Config.TaskQueue }
	r := testenv.NewReceiver(t)
	sub := subscribe(t, api, r, "bulk.*")
	st := api.App.Store()
	ctx := context.Background()
	since := time.Now().UTC().Add(-time.Hour)
	// The outage, written straight to the store: n events whose only
	// delivery failed.
	ds := make([]store.Delivery, 0, n)
	for i := range n {
		id := fmt.Sprintf("bulk-%04d", i)
		_, _, err := st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication, ID: id, Type: "bulk.item",
			Payload: []byte(`{"id":"` + id + `","type":"bulk.item","timestamp":"2026-03-01T14:00:00Z","data":{}}`), BodyHash: id,
			WorkflowID: ids.EventWorkflow(store.DefaultApplication, id), RunID: "outage", CreatedAt: since.Add(time.Duration(i) * time.Millisecond)})
		require.NoError(t, err)
		require.NoError(t, st.MarkEventDispatched(ctx, store.DefaultApplication, id))
		did := ids.Delivery(id, sub.ID)
		ds = append(ds, store.Delivery{ID: did, ApplicationID: store.DefaultApplication, EventID: id, SubscriptionID: sub.ID, URL: r.URL,
			Status: store.DeliveryFailed, WorkflowID: ids.DeliveryWorkflow(store.DefaultApplication, did), UpdatedAt: since})
	}
	require.NoError(t, st.AddDeliveries(ctx, ds))

	// No worker yet: the recovery cannot move, and asking again joins it.
	body := map[string]any{"since": since.Add(-time.Minute).Format(time.RFC3339Nano)}
	first := startRecovery(t, api, sub.ID, body)
	second := startRecovery(t, api, sub.ID, body)
	require.Equal(t, first.ID, second.ID)
	require.Equal(t, first.WorkflowID, second.WorkflowID)

	t.Run("a worker that stops mid-way", func(t *testing.T) {
		testenv.StartHookflow(t, tp, app.ModeWorker, share)
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var rec recoveryView
			require.Equal(c, http.StatusOK, api.Do(t, http.MethodGet, "/v1/recoveries/"+first.ID, nil, &rec))
			require.Positive(c, rec.Resent)
		}, 2*time.Minute, 10*time.Millisecond)
	})
	var mid recoveryView
	require.Equal(t, http.StatusOK, api.Do(t, http.MethodGet, "/v1/recoveries/"+first.ID, nil, &mid))
	require.Equal(t, "running", mid.Status, "the worker stopped before the recovery was done")
	require.Less(t, mid.Resent, n)

	testenv.StartHookflow(t, tp, app.ModeWorker, share)
	rec := waitRecovery(t, api, first.ID, "completed", 3*time.Minute)
	require.Equal(t, n, rec.Resent)
	require.Equal(t, n, rec.Matched)
	for _, d := range ds {
		got, err := st.ListDeliveries(ctx, store.DefaultApplication, d.EventID)
		require.NoError(t, err)
		require.Len(t, got, 2, "%s: the failed delivery and exactly one resend", d.EventID)
		require.Equal(t, ids.Resend(d.ID, first.ID), got[1].ID)
		require.Equal(t, d.ID, got[1].ResentFrom)
		require.Equal(t, got[1].ID, got[0].SupersededBy)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		seen := map[string]bool{}
		for _, req := range r.Requests() {
			seen[req.Header.Get(signing.HeaderID)] = true
		}
		require.Len(c, seen, n, "every event arrived")
	}, 3*time.Minute, 200*time.Millisecond)
}

// A cancelled recovery resends nothing more and says cancelled, also after
// its workflow has closed.
func TestACancelledRecoveryResendsNothingMore(t *testing.T) {
	api := testenv.StartHookflow(t, tp, app.ModeAPI, nil)
	r := testenv.NewReceiver(t)
	sub := subscribe(t, api, r, "bulk.*")
	st := api.App.Store()
	ctx := context.Background()
	since := time.Now().UTC().Add(-time.Minute)
	_, _, err := st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication, ID: "e1", Type: "bulk.item", Payload: []byte(`{}`),
		BodyHash: "h", WorkflowID: ids.EventWorkflow(store.DefaultApplication, "e1"), RunID: "outage", CreatedAt: since.Add(time.Second)})
	require.NoError(t, err)
	did := ids.Delivery("e1", sub.ID)
	require.NoError(t, st.AddDeliveries(ctx, []store.Delivery{{ID: did, ApplicationID: store.DefaultApplication, EventID: "e1", SubscriptionID: sub.ID,
		URL: r.URL, Status: store.DeliveryFailed, WorkflowID: ids.DeliveryWorkflow(store.DefaultApplication, did), UpdatedAt: since}}))

	// The cancel reaches the recovery before any worker has picked it up.
	rec := startRecovery(t, api, sub.ID, map[string]any{"since": since.Format(time.RFC3339Nano)})
	var cancelled recoveryView
	require.Equal(t, http.StatusAccepted, api.Do(t, http.MethodPost, "/v1/applications/default/recoveries/"+rec.ID+"/cancel", nil, &cancelled))
	require.Equal(t, "cancel_requested", cancelled.Status)
	testenv.StartHookflow(t, tp, app.ModeWorker, func(c *config.Config) {
		c.DatabaseURL, c.TaskQueue = api.Config.DatabaseURL, api.Config.TaskQueue
	})
	done := waitRecovery(t, api, rec.ID, "cancelled", time.Minute)
	require.Zero(t, done.Resent)
	run := mustDescribe(t, rec.WorkflowID)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, tp.Client.GetWorkflow(wctx, rec.WorkflowID, run).Get(wctx, nil))
	saveHistory(t, rec.WorkflowID, run, "recover-cancelled.json")
	got, err := st.ListDeliveries(ctx, store.DefaultApplication, "e1")
	require.NoError(t, err)
	require.Len(t, got, 1, "nothing was resent")
	require.Equal(t, http.StatusAccepted, api.Do(t, http.MethodPost, "/v1/recoveries/"+rec.ID+"/cancel", nil, &cancelled), "cancelling again changes nothing")
	require.Equal(t, "cancelled", cancelled.Status)
	require.Equal(t, http.StatusNotFound, api.Do(t, http.MethodGet, "/v1/recoveries/rcv_nope", nil, nil))
	require.Zero(t, r.Count())
}
