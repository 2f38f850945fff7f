package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
)

func createApplication(t *testing.T, h *testenv.Hookflow, id string) {
	t.Helper()
	require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications", map[string]any{"id": id, "name": "App " + id}, nil))
}

// subscribeIn subscribes r in app ("" for the top-level shorthand).
func subscribeIn(t *testing.T, h *testenv.Hookflow, app string, r *testenv.Receiver, eventTypes ...string) subscription {
	t.Helper()
	var sub subscription
	code := h.Do(t, http.MethodPost, appPrefix(app)+"/subscriptions", map[string]any{"url": r.URL, "event_types": eventTypes}, &sub)
	require.Equal(t, http.StatusCreated, code)
	r.SetSecret(sub.Secret)
	return sub
}

func appPrefix(app string) string {
	if app == "" {
		return "/v1"
	}
	return "/v1/applications/" + app
}

// Two applications and default each subscribe to the same type and post the
// same idempotency key: each receiver gets its own application's event,
// once, and nothing of the others'.
func TestApplicationsNeverReceiveEachOthersEvents(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	createApplication(t, h, "acme")
	createApplication(t, h, "globex")
	receivers := map[string]*testenv.Receiver{}
	subs := map[string]subscription{}
	apps := []string{"", "acme", "globex"}
	for _, a := range apps {
		receivers[a] = testenv.NewReceiver(t)
		subs[a] = subscribeIn(t, h, a, receivers[a], "order.created")
	}

	accs := map[string]accepted{}
	for _, a := range apps {
		var acc accepted
		code := h.Do(t, http.MethodPost, appPrefix(a)+"/events",
			map[string]any{"type": "order.created", "data": map[string]any{"for": a}}, &acc, "Idempotency-Key", "order-1")
		require.Equal(t, http.StatusAccepted, code)
		require.Equal(t, "order-1", acc.ID)
		accs[a] = acc
	}
	require.Equal(t, "event:default/order-1", accs[""].WorkflowID)
	require.Equal(t, "event:acme/order-1", accs["acme"].WorkflowID)

	for _, a := range apps {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var ev eventView
			require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, appPrefix(a)+"/events/order-1", nil, &ev))
			require.Len(c, ev.Deliveries, 1)
			assert.Equal(c, "completed", ev.Status)
			assert.Equal(c, subs[a].ID, ev.Deliveries[0].SubscriptionID, "app %q", a)
			assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
		}, 60*time.Second, 100*time.Millisecond)
	}
	for _, a := range apps {
		reqs := receivers[a].Requests()
		require.Len(t, reqs, 1, "app %q: its receiver gets its own event once", a)
		require.NoError(t, reqs[0].VerifyErr, "the Standard Webhooks library verifies the signature")
		require.Equal(t, "order-1", reqs[0].Header.Get(signing.HeaderID))
		var body struct {
			Data map[string]string `json:"data"`
		}
		require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
		require.Equal(t, map[string]string{"for": a}, body.Data, "app %q got another application's event", a)
	}

	// A resource of one application asked for under another is 404.
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/applications/globex/subscriptions/"+subs["acme"].ID, nil, &e))
	require.Equal(t, "not_found", e.Error.Code)
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/subscriptions/"+subs["acme"].ID, nil, nil))
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/applications/globex/deliveries/order-1:"+subs["acme"].ID, nil, nil))
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/applications/nope/events/order-1", nil, &e))
	require.Equal(t, "application_not_found", e.Error.Code)
	require.Equal(t, http.StatusConflict, h.Do(t, http.MethodPost, "/v1/applications", map[string]any{"id": "acme", "name": "again"}, nil))
	require.Equal(t, http.StatusBadRequest, h.Do(t, http.MethodPost, "/v1/applications", map[string]any{"id": "no spaces", "name": "bad"}, nil))

	// Every workflow of an application is found by its search attribute.
	ctx := context.Background()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := tp.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("HookflowApplicationID = 'acme' AND TaskQueue = '%s-deliveries'", h.Config.TaskQueue),
		})
		require.NoError(c, err)
		require.Len(c, resp.Executions, 1)
		assert.Equal(c, "delivery:acme/order-1:"+subs["acme"].ID, resp.Executions[0].Execution.WorkflowId)
	}, 30*time.Second, 200*time.Millisecond)

	if *updateHistories {
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, testenv.SaveHistory(ctx, tp.Client, accs["acme"].WorkflowID, "", filepath.Join(dir, "event-in-application.json")))
		require.NoError(t, testenv.SaveHistory(ctx, tp.Client, "delivery:acme/order-1:"+subs["acme"].ID, "", filepath.Join(dir, "delivery-in-application.json")))
	}
}

// Deleting an application while its deliveries are under way: nothing new
// reaches its subscriptions afterwards, its unfinished deliveries end
// cancelled, and another application's are untouched.
func TestDeletingAnApplicationCancelsItsUnfinishedDeliveries(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	createApplication(t, h, "doomed")
	const subscribers = 20
	failing := testenv.NewReceiver(t)
	failing.Respond = func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }
	for i := 0; i < subscribers; i++ {
		var sub subscription
		require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications/doomed/subscriptions",
			map[string]any{"url": failing.URL + "/" + fmt.Sprint(i), "event_types": []string{"order.*"},
				"retry": map[string]any{"initial_interval_seconds": 1, "backoff_coefficient": 1}}, &sub))
	}
	kept := testenv.NewReceiver(t)
	subscribeIn(t, h, "", kept, "order.*")

	var acc accepted
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/applications/doomed/events",
		map[string]any{"type": "order.created", "data": map[string]any{}}, &acc, "Idempotency-Key", "doomed-1"))
	publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{}})

	// Wait until some attempts have failed: deliveries are retrying.
	require.Eventually(t, func() bool { return failing.Count() >= subscribers/2 }, 60*time.Second, 50*time.Millisecond)

	var del struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodDelete, "/v1/applications/doomed", nil, &del))
	require.True(t, strings.HasPrefix(del.WorkflowID, "app-delete:doomed/"), del.WorkflowID)
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/applications/doomed/events/doomed-1", nil, nil))

	ctx := context.Background()
	require.NoError(t, tp.Client.GetWorkflow(ctx, del.WorkflowID, del.RunID).Get(ctx, nil))
	st := h.App.Store()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ds, err := st.ListDeliveries(ctx, "doomed", "doomed-1")
		require.NoError(c, err)
		require.NotEmpty(c, ds)
		for _, d := range ds {
			assert.Contains(c, []string{store.DeliveryCancelled, store.DeliveryFailed}, d.Status, "delivery %s", d.ID)
		}
	}, 60*time.Second, 200*time.Millisecond)
	ds, err := st.ListDeliveries(ctx, "doomed", "doomed-1")
	require.NoError(t, err)
	cancelled := 0
	for _, d := range ds {
		if d.Status == store.DeliveryCancelled {
			cancelled++
		}
		desc, err := tp.Client.DescribeWorkflow(ctx, d.WorkflowID, "")
		if err == nil {
			require.NotEqual(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.Status, "delivery %s still runs", d.ID)
		}
	}
	require.Positive(t, cancelled, "the deletion cancelled the deliveries under way")

	// Nothing more is sent to the deleted application's subscriptions.
	after := failing.Count()
	time.Sleep(3 * time.Second) // three retry intervals
	require.Equal(t, after, failing.Count(), "a deleted application's subscriptions get nothing more")
	require.Equal(t, 1, kept.Count(), "another application's delivery is untouched")
}
