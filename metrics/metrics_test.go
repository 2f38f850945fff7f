package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/metrics"
)

func newMetrics(t *testing.T, opts metrics.Options) *metrics.Metrics {
	t.Helper()
	m, err := metrics.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Shutdown(t.Context())) })
	return m
}

// series finds the one series of family name whose labels include want.
func series(t *testing.T, m *metrics.Metrics, name string, want map[string]string) *dto.Metric {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			return s
		}
		require.Failf(t, "no such series", "%s%v; the family has %v", name, want, f.GetMetric())
	}
	require.Failf(t, "no such family", "%s", name)
	return nil
}

func TestMiddlewareCountsByRouteTemplateAndStatus(t *testing.T) {
	gin.SetMode(gin.TestMode)
	m := newMetrics(t, metrics.Options{})
	r := gin.New()
	r.Use(m.GinMiddleware())
	r.GET("/v1/events/:id", func(c *gin.Context) {
		if c.Param("id") == "missing" {
			c.JSON(http.StatusNotFound, gin.H{})
			return
		}
		time.Sleep(30 * time.Millisecond) // shows in the histogram's sum
		c.JSON(http.StatusOK, gin.H{})
	})

	for _, path := range []string{"/v1/events/a", "/v1/events/b", "/v1/events/missing", "/wp-login.php", "/.env"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}

	ok := map[string]string{"method": "GET", "route": "/v1/events/:id", "status": "200"}
	require.Equal(t, 2.0, series(t, m, "hookflow_http_requests_total", ok).GetCounter().GetValue(),
		"two ids, one route: the id is not a label")
	require.Equal(t, 1.0, series(t, m, "hookflow_http_requests_total",
		map[string]string{"route": "/v1/events/:id", "status": "404"}).GetCounter().GetValue())
	require.Equal(t, 2.0, series(t, m, "hookflow_http_requests_total",
		map[string]string{"route": metrics.UnmatchedRoute, "status": "404"}).GetCounter().GetValue(),
		"paths no route matches share one series")

	h := series(t, m, "hookflow_http_request_duration_seconds", ok).GetHistogram()
	require.Equal(t, uint64(2), h.GetSampleCount())
	require.GreaterOrEqual(t, h.GetSampleSum(), 0.06, "both requests slept 30 ms")
}

func TestAttemptLatencyKeepsAtMostTheBoundOfSubscriptionSeries(t *testing.T) {
	m := newMetrics(t, metrics.Options{MaxSubscriptionLabels: 2})
	m.Attempt("sub_a", 100*time.Millisecond, true)
	m.Attempt("sub_b", 200*time.Millisecond, false)
	m.Attempt("sub_c", 300*time.Millisecond, true)
	m.Attempt("sub_d", 300*time.Millisecond, true)
	m.Attempt("sub_a", 100*time.Millisecond, true) // known: keeps its series

	count := func(sub string) uint64 {
		return series(t, m, "hookflow_delivery_attempt_duration_seconds",
			map[string]string{"subscription": sub}).GetHistogram().GetSampleCount()
	}
	require.Equal(t, uint64(2), count("sub_a"))
	require.Equal(t, uint64(1), count("sub_b"))
	require.Equal(t, uint64(2), count(metrics.OtherSubscriptions))
	require.Equal(t, 4.0, series(t, m, "hookflow_delivery_attempts_total", map[string]string{"outcome": "succeeded"}).GetCounter().GetValue())
	require.Equal(t, 1.0, series(t, m, "hookflow_delivery_attempts_total", map[string]string{"outcome": "failed"}).GetCounter().GetValue())

	off := newMetrics(t, metrics.Options{MaxSubscriptionLabels: 0})
	off.Attempt("sub_a", time.Millisecond, true)
	require.Equal(t, uint64(1), series(t, off, "hookflow_delivery_attempt_duration_seconds",
		map[string]string{"subscription": metrics.OtherSubscriptions}).GetHistogram().GetSampleCount())

	_, err := metrics.New(metrics.Options{MaxSubscriptionLabels: -1})
	require.Error(t, err)
}

func TestEventsAndDeliveriesAreCountedAndStartAtZero(t *testing.T) {
	m := newMetrics(t, metrics.Options{})
	for _, o := range []string{"succeeded", "failed", "cancelled"} {
		require.Zero(t, series(t, m, "hookflow_deliveries_total", map[string]string{"outcome": o}).GetCounter().GetValue(),
			"every outcome is exported before the first delivery ends")
	}
	m.EventAccepted()
	m.EventAccepted()
	m.DeliveryEnded(metrics.OutcomeCancelled)
	require.Equal(t, 2.0, series(t, m, "hookflow_events_accepted_total", nil).GetCounter().GetValue())
	require.Equal(t, 1.0, series(t, m, "hookflow_deliveries_total", map[string]string{"outcome": "cancelled"}).GetCounter().GetValue())

	var none *metrics.Metrics // a process without metrics records nothing and does not panic
	none.EventAccepted()
	none.DeliveryEnded(metrics.OutcomeSucceeded)
	none.Attempt("sub_a", time.Second, true)
	require.Nil(t, none.TemporalHandler())
	require.NoError(t, none.Shutdown(t.Context()))
}

func TestTemporalSDKMetricsShareTheRegistryAndEachMetricsItsOwn(t *testing.T) {
	a := newMetrics(t, metrics.Options{})
	b := newMetrics(t, metrics.Options{}) // a second process in the same binary: no clash
	a.TemporalHandler().WithTags(map[string]string{"task_queue": "hookflow"}).Counter("temporal_request").Inc(3)
	a.TemporalHandler().Timer("temporal_activity_execution_latency").Record(250 * time.Millisecond)

	require.Equal(t, 3.0, series(t, a, "temporal_request_total", map[string]string{"task_queue": "hookflow"}).GetCounter().GetValue(),
		"SDK counters are monotonic counters, named with _total")
	h := series(t, a, "temporal_activity_execution_latency_seconds", nil).GetHistogram()
	require.Equal(t, uint64(1), h.GetSampleCount())
	var bounds []float64
	for _, b := range h.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	require.Contains(t, bounds, 0.25, "SDK timers get buckets in seconds")

	families, err := b.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		require.NotEqual(t, "temporal_request_total", f.GetName(), "b never saw a's SDK metrics")
	}
}

func TestHandlerServesTheExpositionFormat(t *testing.T) {
	m := newMetrics(t, metrics.Options{})
	m.EventAccepted()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "hookflow_events_accepted_total 1\n")
	require.True(t, strings.Contains(string(body), "go_goroutines "), "the Go collector is registered")
}
