package e2e

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/operational"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// A paused subscription holds its deliveries: nothing is sent, no attempt
// is spent, their status is held (and the gauge counts them); cancel
// works on a held one and retry is taken; resuming sends every held one
// at once, each in one attempt.
func TestPausedHoldsDeliveriesUntilResumed(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	sub := subscribe(t, h, r, "held.*")
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID, map[string]any{"status": "paused"}, nil))

	var dids []string
	for i := range 6 {
		acc := publish(t, h, map[string]any{"id": "held-" + strconv.Itoa(i), "type": "held.item", "data": map[string]any{"n": i}})
		dids = append(dids, deliveryIDOf(t, h, acc.ID, sub.ID))
	}
	for _, id := range dids {
		waitDelivery(t, h, id, "held", 0)
	}
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/deliveries/"+dids[5]+"/cancel", nil, nil), "cancel works while held")
	waitDelivery(t, h, dids[5], "cancelled", 0)
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/deliveries/"+dids[0]+"/retry", nil, nil), "retry is taken while held")
	heldGauge := regexp.MustCompile(`(?m)^hookflow_deliveries_held ([0-9]+)`)
	require.Eventually(t, func() bool {
		_, text := getText(t, h.URL+"/metrics")
		m := heldGauge.FindStringSubmatch(text)
		return m != nil && m[1] == "5"
	}, 30*time.Second, 100*time.Millisecond, "hookflow_deliveries_held counts the held deliveries")
	time.Sleep(3 * time.Second)
	require.Zero(t, r.Count(), "nothing is sent while paused")
	for _, id := range dids[:5] {
		waitDelivery(t, h, id, "held", 0)
	}

	resumed := time.Now()
	var view struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID, map[string]any{"status": "active"}, &view))
	for _, id := range dids[:5] {
		waitDelivery(t, h, id, "succeeded", 1)
	}
	wake := ids.WakeWorkflow(store.DefaultApplication, sub.ID, activities.WakeResume, view.UpdatedAt.UnixMicro())
	var woke workflows.WakeResult
	require.NoError(t, tp.Client.GetWorkflow(t.Context(), wake, "").Get(t.Context(), &woke))
	require.Equal(t, 5, woke.Woken, "one wake-up signalled the 5 held deliveries")
	saveHistory(t, wake, "", "wake-resume.json")
	saveHistory(t, ids.DeliveryWorkflow(store.DefaultApplication, dids[1]), "", "delivery-held-then-resumed.json")
	t.Logf("5 held deliveries sent %v after the resume", time.Since(resumed).Round(time.Millisecond))
	require.Equal(t, 5, r.Count(), "each held delivery once, the cancelled one never")
	for _, req := range r.Requests() {
		require.NoError(t, req.VerifyErr)
	}
}

// subscribeOperational subscribes r to _operational's events of types.
func subscribeOperational(t *testing.T, h *testenv.Hookflow, r *testenv.Receiver, types ...string) {
	t.Helper()
	subscribeIn(t, h, store.OperationalApplication, r, types...)
}

// operationalEvent waits for r's first webhook and decodes its data.
func operationalEvent[T any](t *testing.T, r *testenv.Receiver, eventType string) T {
	t.Helper()
	require.Eventually(t, func() bool { return r.Count() > 0 }, time.Minute, 50*time.Millisecond, "no %s webhook", eventType)
	req := r.Requests()[0]
	require.NoError(t, req.VerifyErr, "operational webhooks are signed like any other")
	var env struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data T      `json:"data"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &env))
	require.Equal(t, eventType, env.Type)
	require.Equal(t, env.ID, req.Header.Get(signing.HeaderID))
	return env.Data
}

// 410 Gone disables the subscription at once: its delivery fails with no
// retry, _operational hears of it, a retry is refused and new events skip
// it until it is set active again.
func TestGoneDisablesTheSubscriptionAndTellsOperational(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	ops := testenv.NewReceiver(t)
	subscribeOperational(t, h, ops, operational.TypeSubscriptionDisabled)
	r := testenv.NewReceiver(t)
	r.Respond = func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) }
	sub := subscribeWith(t, h, r.URL, nil, "gone.*")
	acc := publish(t, h, map[string]any{"id": "gone-1", "type": "gone.created", "data": map[string]any{}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)
	d := waitDelivery(t, h, id, "failed", 1)
	require.Equal(t, []int{410}, d.statusCodes())

	var s struct {
		Status         string     `json:"status"`
		DisabledReason string     `json:"disabled_reason"`
		FailingSince   *time.Time `json:"failing_since"`
	}
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/subscriptions/"+sub.ID, nil, &s))
	require.Equal(t, "disabled", s.Status)
	require.Equal(t, "the receiver answered 410 Gone", s.DisabledReason)
	require.NotNil(t, s.FailingSince)

	got := operationalEvent[operational.SubscriptionDisabled](t, ops, operational.TypeSubscriptionDisabled)
	require.Equal(t, operational.SubscriptionDisabled{ApplicationID: store.DefaultApplication, SubscriptionID: sub.ID, URL: r.URL,
		Reason: "the receiver answered 410 Gone", FailingSince: s.FailingSince.UTC()}, got)

	var e apiError
	require.Equal(t, http.StatusConflict, h.Do(t, http.MethodPost, "/v1/deliveries/"+id+"/retry", nil, &e))
	require.Contains(t, e.Error.Message, "disabled")
	require.Equal(t, http.StatusBadRequest, h.Do(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID, map[string]any{"status": "disabled"}, &e))
	require.Contains(t, e.Error.Message+fieldMessages(e), "only Hookflow disables")

	next := publish(t, h, map[string]any{"id": "gone-2", "type": "gone.created", "data": map[string]any{}})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+next.ID, nil, &ev))
		require.Equal(c, "completed", ev.Status)
		require.Empty(c, ev.Deliveries, "a disabled subscription gets no new events")
	}, 30*time.Second, 50*time.Millisecond)

	r.Respond = nil
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID, map[string]any{"status": "active"}, nil))
	third := publish(t, h, map[string]any{"id": "gone-3", "type": "gone.created", "data": map[string]any{}})
	waitDelivery(t, h, deliveryIDOf(t, h, third.ID, sub.ID), "succeeded", 1)
	require.Equal(t, 1, ops.Count(), "one disable, one operational event")
}

// A subscription failing past HOOKFLOW_DISABLE_AFTER is disabled: the
// attempt that finds it so ends failed, a wake-up ends its other
// unfinished delivery at once rather than at its next attempt an hour
// later, and _operational receives subscription.disabled naming it.
func TestFailingPastDisableAfterDisablesTheSubscription(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.DisableAfter = 2 * time.Second })
	ops := testenv.NewReceiver(t)
	subscribeOperational(t, h, ops, "subscription.*")
	r := testenv.NewReceiver(t)
	r.Respond = failing(nil)
	sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"initial_interval_seconds": 3600}}, "flaky.*")
	// The policy is fixed when a delivery starts: this one waits an hour
	// after its first failure...
	slow := publish(t, h, map[string]any{"id": "flaky-slow", "type": "flaky.created", "data": map[string]any{}})
	slowID := deliveryIDOf(t, h, slow.ID, sub.ID)
	waitDelivery(t, h, slowID, "retrying", 1)
	// ...and this one retries every second.
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodPatch, "/v1/subscriptions/"+sub.ID,
		map[string]any{"retry": map[string]any{"initial_interval_seconds": 1, "backoff_coefficient": 1}}, nil))
	fast := publish(t, h, map[string]any{"id": "flaky-fast", "type": "flaky.created", "data": map[string]any{}})
	waitStatus(t, h, deliveryIDOf(t, h, fast.ID, sub.ID), "failed")

	got := operationalEvent[operational.SubscriptionDisabled](t, ops, operational.TypeSubscriptionDisabled)
	require.Equal(t, sub.ID, got.SubscriptionID)
	require.Contains(t, got.Reason, "every attempt failed for 2s")
	var s subscription
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/subscriptions/"+sub.ID, nil, &s))
	require.Equal(t, "disabled", s.Status)
	d := waitStatus(t, h, slowID, "failed")
	saveHistory(t, ids.DeliveryWorkflow(store.DefaultApplication, slowID), "", "delivery-ended-by-disable.json")
	require.Equal(t, []int{500}, d.statusCodes()[:1], "the hour-long backoff was cut short by the wake-up, with nothing sent")
	sent := r.Count()
	time.Sleep(2 * time.Second)
	require.Equal(t, sent, r.Count(), "a disabled subscription is sent nothing")
}

// waitStatus waits for the delivery id to reach status, however many
// attempts it took.
func waitStatus(t *testing.T, h *testenv.Hookflow, id, status string) deliveryView {
	t.Helper()
	var d deliveryView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/deliveries/"+id, nil, &d))
		require.Equal(c, status, d.Status)
	}, 60*time.Second, 50*time.Millisecond)
	return d
}

// fieldMessages joins the messages of an error's field details.
func fieldMessages(e apiError) string {
	var s string
	for _, d := range e.Error.Details {
		s += " " + d.Field + ": " + d.Message
	}
	return s
}
