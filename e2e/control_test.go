package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/workflows"
)

type attemptView struct {
	Attempt         int       `json:"attempt"`
	StartedAt       time.Time `json:"started_at"`
	DurationMs      int64     `json:"duration_ms"`
	StatusCode      *int      `json:"status_code"`
	Error           string    `json:"error"`
	ResponseExcerpt string    `json:"response_excerpt"`
}

type deliveryView struct {
	ID             string        `json:"id"`
	EventID        string        `json:"event_id"`
	SubscriptionID string        `json:"subscription_id"`
	URL            string        `json:"url"`
	Status         string        `json:"status"`
	Attempts       []attemptView `json:"attempts"`
	NextAttemptAt  *time.Time    `json:"next_attempt_at"`
	WorkflowID     string        `json:"workflow_id"`
	RunID          string        `json:"run_id"`
}

func (d deliveryView) statusCodes() []int {
	codes := make([]int, 0, len(d.Attempts))
	for _, a := range d.Attempts {
		if a.StatusCode == nil {
			codes = append(codes, 0)
			continue
		}
		codes = append(codes, *a.StatusCode)
	}
	return codes
}

type steered struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Status     string `json:"status"`
}

func subscribeWith(t *testing.T, h *testenv.Hookflow, url string, extra map[string]any, eventTypes ...string) subscription {
	t.Helper()
	body := map[string]any{"url": url, "event_types": eventTypes}
	for k, v := range extra {
		body[k] = v
	}
	var sub subscription
	require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/subscriptions", body, &sub))
	return sub
}

// deliveryIDOf waits until the event's delivery to sub exists and returns its id.
func deliveryIDOf(t *testing.T, h *testenv.Hookflow, eventID, subID string) string {
	t.Helper()
	var id string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+eventID, nil, &ev))
		for _, d := range ev.Deliveries {
			if d.SubscriptionID == subID {
				id = d.ID
			}
		}
		require.NotEmpty(c, id)
	}, 30*time.Second, 50*time.Millisecond)
	return id
}

func getDelivery(t testing.TB, h *testenv.Hookflow, id string) deliveryView {
	var d deliveryView
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/deliveries/"+id, nil, &d))
	return d
}

// waitDelivery waits until the delivery has status and the given number of
// attempts in its log, and returns it.
func waitDelivery(t *testing.T, h *testenv.Hookflow, id, status string, attempts int) deliveryView {
	t.Helper()
	var d deliveryView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/deliveries/"+id, nil, &d))
		require.Equal(c, status, d.Status)
		require.Len(c, d.Attempts, attempts)
	}, 60*time.Second, 50*time.Millisecond)
	return d
}

func steer(t *testing.T, h *testenv.Hookflow, id, action string) steered {
	t.Helper()
	var s steered
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/deliveries/"+id+"/"+action, nil, &s))
	return s
}

// closedResult waits for the delivery workflow's run to close and returns
// its result.
func closedResult(t *testing.T, workflowID, runID string) workflows.DeliveryResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res workflows.DeliveryResult
	require.NoError(t, tp.Client.GetWorkflow(ctx, workflowID, runID).Get(ctx, &res))
	return res
}

func saveHistory(t *testing.T, workflowID, runID, name string) {
	t.Helper()
	if !*updateHistories {
		return
	}
	dir := filepath.Join("..", "workflows", "testdata", "histories")
	require.NoError(t, testenv.SaveHistory(context.Background(), tp.Client, workflowID, runID, filepath.Join(dir, name)))
}

// failing answers 500 with a body until healthy is set, then 200.
func failing(healthy *atomic.Bool) func(int, http.ResponseWriter) {
	return func(_ int, w http.ResponseWriter) {
		if healthy != nil && healthy.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("down for maintenance"))
	}
}

func TestRetryDuringAnHourLongBackoffAttemptsAtOnce(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	r.Respond = failing(nil)
	sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"initial_interval_seconds": 3600}}, "order.*")
	acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"n": 1}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)

	d := waitDelivery(t, h, id, "retrying", 1)
	require.NotNil(t, d.NextAttemptAt)
	// An hour, less the delivery's jitter (at most 20%).
	require.WithinDuration(t, time.Now().Add(time.Hour-time.Duration(float64(time.Hour)*delivery.JitterOf(id, 1))), *d.NextAttemptAt, time.Minute)

	before := time.Now()
	s := steer(t, h, id, "retry")
	require.Equal(t, "retry_requested", s.Status)
	require.Equal(t, d.WorkflowID, s.WorkflowID)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 2, r.Count())
	}, 5*time.Second, 20*time.Millisecond, "the retry signal brings the next attempt now, not in an hour")
	t.Logf("retry signal to the next request: %v", r.Requests()[1].At.Sub(before))

	d = waitDelivery(t, h, id, "retrying", 2)
	require.Equal(t, []int{500, 500}, d.statusCodes())
	require.Equal(t, "down for maintenance", d.Attempts[1].ResponseExcerpt)
	require.Equal(t, []int{1, 2}, []int{d.Attempts[0].Attempt, d.Attempts[1].Attempt})
	require.NotNil(t, d.NextAttemptAt, "attempt 3 is scheduled an hour on")

	// An operator reads the same from Temporal, without the API.
	v, err := tp.Client.QueryWorkflow(context.Background(), d.WorkflowID, "", workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.DeliveryState
	require.NoError(t, v.Get(&st))
	require.Equal(t, workflows.StatusRetrying, st.Status)
	require.Equal(t, 2, st.Attempts)
	require.Len(t, st.Recent, 2)
	require.Equal(t, 500, st.Recent[1].StatusCode)
	require.Equal(t, d.RunID, mustDescribe(t, d.WorkflowID))

	steer(t, h, id, "cancel")
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 2}, closedResult(t, d.WorkflowID, ""))
	saveHistory(t, d.WorkflowID, "", "delivery-retried-in-backoff.json")
}

func mustDescribe(t *testing.T, workflowID string) string {
	t.Helper()
	desc, err := tp.Client.DescribeWorkflow(context.Background(), workflowID, "")
	require.NoError(t, err)
	return desc.WorkflowExecution.RunID
}

func TestCancelDuringBackoffEndsTheDeliveryAndNothingMoreIsSent(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	r.Respond = failing(nil)
	const backoff = 4 * time.Second
	sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"initial_interval_seconds": backoff.Seconds()}}, "order.*")
	acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"n": 2}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)
	waitDelivery(t, h, id, "retrying", 1)

	s := steer(t, h, id, "cancel")
	require.Equal(t, "cancel_requested", s.Status)
	require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: 1}, closedResult(t, s.WorkflowID, ""))
	d := waitDelivery(t, h, id, "cancelled", 1)
	require.Nil(t, d.NextAttemptAt)
	require.Never(t, func() bool { return r.Count() > 1 }, backoff+2*time.Second, 100*time.Millisecond,
		"no request after the cancel, though the backoff has passed")

	// A cancelled delivery stays cancelled.
	var e apiError
	require.Equal(t, http.StatusConflict, h.Do(t, http.MethodPost, "/v1/deliveries/"+id+"/retry", nil, &e))
	require.Equal(t, "conflict", e.Error.Code)
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/deliveries/"+id+"/cancel", nil, nil), "cancelling twice is harmless")
	requireVisible(t, fmt.Sprintf(`HookflowStatus="cancelled" AND HookflowSubscriptionID=%q`, sub.ID), s.WorkflowID)
	saveHistory(t, s.WorkflowID, "", "delivery-cancelled-in-backoff.json")
}

// requireVisible waits until a visibility query finds workflowID.
func requireVisible(t *testing.T, query, workflowID string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := tp.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		require.NoError(c, err)
		var found []string
		for _, e := range resp.GetExecutions() {
			found = append(found, e.GetExecution().GetWorkflowId())
		}
		require.Contains(c, found, workflowID)
	}, 30*time.Second, 200*time.Millisecond, query)
}

// A delivery that exhausts a short policy is failed, and a visibility
// query for failed deliveries finds it. Once the receiver recovers, a retry
// revives it: while its workflow waits in the dead-letter window, and after
// that workflow has closed (signal-with-start opens a new run).
func TestExhaustedDeliveryIsFoundAndRevivedByRetry(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention time.Duration
		history   string
	}{
		{"in its dead-letter window", time.Hour, "delivery-retried-after-giving-up.json"},
		{"after its workflow closed", 0, "delivery-revived.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.FailedRetention = tc.retention })
			var healthy atomic.Bool
			r := testenv.NewReceiver(t)
			r.Respond = failing(&healthy)
			sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"max_attempts": 2, "initial_interval_seconds": 1}}, "invoice.*")
			r.SetSecret(sub.Secret)
			acc := publish(t, h, map[string]any{"type": "invoice.paid", "data": map[string]any{"n": 3}})
			id := deliveryIDOf(t, h, acc.ID, sub.ID)

			d := waitDelivery(t, h, id, "failed", 2)
			require.Equal(t, []int{500, 500}, d.statusCodes())
			require.Nil(t, d.NextAttemptAt)
			requireVisible(t, fmt.Sprintf(`HookflowStatus="failed" AND HookflowSubscriptionID=%q`, sub.ID), d.WorkflowID)
			firstRun := mustDescribe(t, d.WorkflowID)
			if tc.retention == 0 {
				require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusFailed, Attempts: 2}, closedResult(t, d.WorkflowID, firstRun))
			}

			healthy.Store(true)
			s := steer(t, h, id, "retry")
			d = waitDelivery(t, h, id, "succeeded", 3)
			require.Equal(t, []int{500, 500, 200}, d.statusCodes())
			require.Equal(t, 3, d.Attempts[2].Attempt, "attempt numbers go on across rounds and runs")
			for _, req := range r.Requests() {
				require.NoError(t, req.VerifyErr)
			}
			require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusSucceeded, Attempts: 3}, closedResult(t, d.WorkflowID, s.RunID))
			if tc.retention == 0 {
				require.NotEqual(t, firstRun, s.RunID, "the closed run was revived in a new one")
			} else {
				require.Equal(t, firstRun, s.RunID, "the open run took the signal")
			}
			require.Equal(t, s.RunID, getDelivery(t, h, id).RunID)
			requireVisible(t, fmt.Sprintf(`HookflowStatus="succeeded" AND HookflowEventID=%q`, acc.ID), d.WorkflowID)
			saveHistory(t, d.WorkflowID, s.RunID, tc.history)
		})
	}
}

// hangingReceiver answers 500 to the requests before the hanging one and
// never answers that one; it records when the client dropped it.
type hangingReceiver struct {
	*httptest.Server
	count   atomic.Int32
	arrived chan struct{}
	aborted chan time.Time
}

func newHangingReceiver(t *testing.T, hangOn int32) *hangingReceiver {
	r := &hangingReceiver{arrived: make(chan struct{}), aborted: make(chan time.Time, 1)}
	var once sync.Once
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The server notices a dropped connection only once the body is read.
		_, _ = io.Copy(io.Discard, req.Body)
		if r.count.Add(1) != hangOn {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		once.Do(func() { close(r.arrived) })
		select {
		case <-req.Context().Done():
			r.aborted <- time.Now()
		case <-time.After(5 * time.Minute):
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// A cancel aborts the request in flight: a regular attempt learns of it
// from its next heartbeat, the first (local) attempt when the SDK
// heartbeats its workflow task. The attempt timeout is long, so only the
// cancel can be what stops the request.
func TestCancelAbortsTheRequestInFlight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hangOn  int32
		history string
	}{
		{"first attempt, local", 1, ""},
		{"later attempt", 2, "delivery-cancelled-in-flight.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.AttemptTimeout = 2 * time.Minute })
			r := newHangingReceiver(t, tc.hangOn)
			sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"initial_interval_seconds": 1}}, "order.*")
			acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"n": 4}})
			id := deliveryIDOf(t, h, acc.ID, sub.ID)
			select {
			case <-r.arrived:
			case <-time.After(time.Minute):
				t.Fatal("the request that hangs never arrived")
			}

			before := time.Now()
			s := steer(t, h, id, "cancel")
			select {
			case at := <-r.aborted:
				t.Logf("cancel to aborted request: %v", at.Sub(before))
			case <-time.After(time.Minute):
				t.Fatal("the receiver never saw its request aborted")
			}
			require.Equal(t, workflows.DeliveryResult{Status: workflows.StatusCancelled, Attempts: int(tc.hangOn)}, closedResult(t, s.WorkflowID, ""))
			d := waitDelivery(t, h, id, "cancelled", int(tc.hangOn))
			last := d.Attempts[len(d.Attempts)-1]
			require.Nil(t, last.StatusCode)
			require.Equal(t, "cancelled while sending", last.Error)
			require.Equal(t, tc.hangOn, r.count.Load(), "nothing is sent after the cancel")
			if tc.history != "" {
				saveHistory(t, s.WorkflowID, "", tc.history)
			}
		})
	}
}

func TestCancelAnEventCancelsItsUnfinishedDeliveries(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	down1, down2, up := testenv.NewReceiver(t), testenv.NewReceiver(t), testenv.NewReceiver(t)
	down1.Respond, down2.Respond = failing(nil), failing(nil)
	hour := map[string]any{"retry": map[string]any{"initial_interval_seconds": 3600}}
	s1 := subscribeWith(t, h, down1.URL, hour, "order.*")
	s2 := subscribeWith(t, h, down2.URL, hour, "order.*")
	s3 := subscribeWith(t, h, up.URL, hour, "order.*")
	acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"n": 7}})
	d1, d2, d3 := deliveryIDOf(t, h, acc.ID, s1.ID), deliveryIDOf(t, h, acc.ID, s2.ID), deliveryIDOf(t, h, acc.ID, s3.ID)
	waitDelivery(t, h, d1, "retrying", 1)
	waitDelivery(t, h, d2, "retrying", 1)
	waitDelivery(t, h, d3, "succeeded", 1)
	// The fan-out waits up to a second for its deliveries to finish
	// before it closes; the two failing ones do not.
	closeCtx, closeCancel := context.WithTimeout(context.Background(), time.Minute)
	defer closeCancel()
	require.NoError(t, tp.Client.GetWorkflow(closeCtx, acc.WorkflowID, "").Get(closeCtx, nil))

	var resp struct {
		ID                  string `json:"id"`
		Status              string `json:"status"`
		CancelledDeliveries *int   `json:"cancelled_deliveries"`
	}
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/events/"+acc.ID+"/cancel", nil, &resp))
	require.Equal(t, "cancel_requested", resp.Status)
	require.NotNil(t, resp.CancelledDeliveries, "the fan-out had closed: the API cancelled the deliveries itself")
	require.Equal(t, 2, *resp.CancelledDeliveries)
	waitDelivery(t, h, d1, "cancelled", 1)
	waitDelivery(t, h, d2, "cancelled", 1)
	require.Equal(t, "succeeded", getDelivery(t, h, d3).Status)
	var ev eventView
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
	require.Equal(t, "completed", ev.Status)

	var e apiError
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodPost, "/v1/events/evt_nope/cancel", nil, &e))
	require.Equal(t, "not_found", e.Error.Code)
}

func TestSteeringAFinishedOrUnknownDelivery(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	sub := subscribeWith(t, h, r.URL, nil, "order.*")
	acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"n": 8}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)
	d := waitDelivery(t, h, id, "succeeded", 1)
	require.Equal(t, acc.ID, d.EventID)
	require.Equal(t, r.URL, d.URL)
	require.Equal(t, []int{200}, d.statusCodes())
	require.NotEmpty(t, d.RunID)

	for _, action := range []string{"retry", "cancel"} {
		var e apiError
		require.Equal(t, http.StatusConflict, h.Do(t, http.MethodPost, "/v1/deliveries/"+id+"/"+action, nil, &e), action)
		require.Equal(t, "conflict", e.Error.Code)
		require.Contains(t, e.Error.Message, "succeeded")
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/v1/deliveries/" + acc.ID + ":sub_01NOPE"},
		{http.MethodPost, "/v1/deliveries/" + acc.ID + ":sub_01NOPE/retry"},
		{http.MethodPost, "/v1/deliveries/" + acc.ID + ":sub_01NOPE/cancel"},
	} {
		var e apiError
		require.Equal(t, http.StatusNotFound, h.Do(t, req.method, req.path, nil, &e), req.path)
		require.Equal(t, "not_found", e.Error.Code)
	}
	require.Equal(t, 1, r.Count())
}

// Hookflow registers its search attributes at start on a namespace that
// lacks them, so the statuses it upserts can be searched there.
func TestHookflowRegistersItsSearchAttributesOnANewNamespace(t *testing.T) {
	ctx := context.Background()
	ns := fmt.Sprintf("control-%d", time.Now().UnixNano())
	_, err := tp.Client.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	})
	require.NoError(t, err)
	c, err := client.Dial(client.Options{HostPort: tp.Address, Namespace: ns, Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		require.NoError(ct, err)
		_, err = c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns})
		require.NoError(ct, err, "the new namespace is not served yet")
	}, time.Minute, 200*time.Millisecond)
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	require.NoError(t, err)
	require.NotContains(t, have.GetCustomAttributes(), workflows.AttrStatus.GetName())

	h := testenv.StartHookflow(t, tp, app.ModeServe, func(cfg *config.Config) { cfg.TemporalNamespace = ns })
	have, err = c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	require.NoError(t, err)
	for _, key := range workflows.SearchAttributes {
		require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, have.GetCustomAttributes()[key.GetName()], key.GetName())
	}

	r := testenv.NewReceiver(t)
	sub := subscribeWith(t, h, r.URL, nil, "order.*")
	acc := publish(t, h, map[string]any{"type": "order.created", "data": map[string]any{"n": 9}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)
	d := waitDelivery(t, h, id, "succeeded", 1)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: ns, Query: fmt.Sprintf(`HookflowStatus="succeeded" AND HookflowSubscriptionID=%q`, sub.ID),
		})
		require.NoError(ct, err)
		require.Len(ct, resp.GetExecutions(), 1)
		require.Equal(ct, d.WorkflowID, resp.GetExecutions()[0].GetExecution().GetWorkflowId())
	}, 30*time.Second, 200*time.Millisecond)
}

// While an event's fan-out is still running, the API's cancel goes to it,
// and the fan-out stops before it starts anything. No worker runs when the
// event is posted, so its workflow waits; the worker started afterwards
// finds the cancel in the workflow's first task.
func TestCancelReachesAFanOutThatIsStillRunning(t *testing.T) {
	api := testenv.StartHookflow(t, tp, app.ModeAPI, nil)
	r := testenv.NewReceiver(t)
	subscribeWith(t, api, r.URL, nil, "order.*")
	acc := publish(t, api, map[string]any{"type": "order.created", "data": map[string]any{"n": 10}})

	var resp struct {
		Status              string `json:"status"`
		CancelledDeliveries *int   `json:"cancelled_deliveries"`
	}
	require.Equal(t, http.StatusAccepted, api.Do(t, http.MethodPost, "/v1/events/"+acc.ID+"/cancel", nil, &resp))
	require.Equal(t, "cancel_requested", resp.Status)
	require.Nil(t, resp.CancelledDeliveries, "the running fan-out cancels its deliveries itself")

	testenv.StartHookflow(t, tp, app.ModeWorker, func(c *config.Config) { c.DatabaseURL = api.Config.DatabaseURL })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res workflows.EventResult
	require.NoError(t, tp.Client.GetWorkflow(ctx, acc.WorkflowID, "").Get(ctx, &res))
	require.Equal(t, workflows.EventResult{Cancelled: true}, res)
	var ev eventView
	require.Equal(t, http.StatusOK, api.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
	require.Equal(t, "completed", ev.Status)
	require.Empty(t, ev.Deliveries)
	require.Zero(t, r.Count())
	saveHistory(t, acc.WorkflowID, "", "event-cancelled-before-fan-out.json")
}
