package e2e

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
)

// getText fetches url and returns the status and the body.
func getText(t require.TestingT, url string) (int, string) {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestMetricsShowTheDeliveryTheRequestsAndTheSDKWorker(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	r := testenv.NewReceiver(t)
	sub := subscribe(t, h, r, "metrics.checked")
	acc := publish(t, h, map[string]any{"type": "metrics.checked", "data": map[string]any{"n": 1}})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
		require.Len(c, ev.Deliveries, 1)
		assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
	}, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, 1, r.Count())

	series := []string{
		`hookflow_http_requests_total{method="POST",route="/v1/subscriptions",status="201"} 1`,
		`hookflow_http_requests_total{method="POST",route="/v1/events",status="202"} 1`,
		`hookflow_http_request_duration_seconds_count{method="POST",route="/v1/events",status="202"} 1`,
		`hookflow_events_accepted_total 1`,
		`hookflow_deliveries_total{outcome="succeeded"} 1`,
		`hookflow_deliveries_total{outcome="failed"} 0`,
		`hookflow_delivery_attempts_total{outcome="succeeded"} 1`,
		`hookflow_delivery_attempt_duration_seconds_count{subscription="` + sub.ID + `"} 1`,
		// The Temporal SDK's own worker metrics, through its OpenTelemetry
		// integration: the first attempt ran as a local activity.
		`temporal_local_activity_execution_latency_seconds_count{`,
		`temporal_workflow_task_execution_latency_seconds_count{`,
		`temporal_worker_task_slots_available{`,
	}
	// The API serves /metrics (the contract's route), and so does the
	// HOOKFLOW_METRICS_ADDR listener, from the same registry.
	for _, url := range []string{h.URL + "/metrics", "http://" + h.App.MetricsAddr() + "/metrics"} {
		code, body := getText(t, url)
		require.Equal(t, http.StatusOK, code)
		for _, s := range series {
			require.Contains(t, body, s, "at %s", url)
		}
	}
	code, _ := getText(t, "http://"+h.App.MetricsAddr()+"/healthz")
	require.Equal(t, http.StatusOK, code)
}

// A worker-only process has no API, so its metrics are on
// HOOKFLOW_METRICS_ADDR.
func TestWorkerOnlyProcessServesItsMetrics(t *testing.T) {
	w := testenv.StartHookflow(t, tp, app.ModeWorker, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	require.Empty(t, w.URL, "a worker has no API")
	require.NotEmpty(t, w.App.MetricsAddr())
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, body := getText(c, "http://"+w.App.MetricsAddr()+"/metrics")
		require.Equal(c, http.StatusOK, code)
		assert.Contains(c, body, `temporal_worker_task_slots_available{`)
		assert.Contains(c, body, `task_queue="`+w.Config.TaskQueue+`"`)
		assert.Contains(c, body, `hookflow_deliveries_total{outcome="succeeded"} 0`)
	}, 30*time.Second, 200*time.Millisecond)
}
