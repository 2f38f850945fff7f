package activities_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/store"
)

// lockedBuffer collects log lines written from the activity's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log records whose msg is msg.
func (l *lockedBuffer) lines(t *testing.T, msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func TestDeliverCountsAttemptsAndEndsAndLogsTheIds(t *testing.T) {
	st, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "hookflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer down.Close()

	now := time.Now().UTC()
	for id, url := range map[string]string{"sub_ok": ok.URL, "sub_down": down.URL} {
		require.NoError(t, st.CreateSubscription(t.Context(), store.Subscription{ApplicationID: store.DefaultApplication,
			ID: id, URL: url, EventTypes: []string{"*"}, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
		}))
	}
	_, _, err = st.CreateEvent(t.Context(), store.Event{ApplicationID: store.DefaultApplication, ID: "evt_1", Type: "t", Payload: []byte(`{"id":"evt_1"}`), BodyHash: "h", WorkflowID: "event:evt_1", CreatedAt: now})
	require.NoError(t, err)
	require.NoError(t, st.AddDeliveries(t.Context(), []store.Delivery{
		{ApplicationID: store.DefaultApplication, ID: ids.Delivery("evt_1", "sub_ok"), EventID: "evt_1", SubscriptionID: "sub_ok", URL: ok.URL, UpdatedAt: now},
		{ApplicationID: store.DefaultApplication, ID: ids.Delivery("evt_1", "sub_down"), EventID: "evt_1", SubscriptionID: "sub_down", URL: down.URL, UpdatedAt: now},
	}))

	m, err := metrics.New(metrics.Options{MaxSubscriptionLabels: 10})
	require.NoError(t, err)
	var logs lockedBuffer
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	env := suite.NewTestActivityEnvironment()
	activities.Register(env, &activities.Activities{Store: st, HTTP: http.DefaultClient, UserAgent: "hookflow/test", Metrics: m})

	deliver := func(sub string) {
		_, _ = env.ExecuteActivity(activities.DeliverName, activities.DeliverInput{
			DeliveryID: ids.Delivery("evt_1", sub), EventID: "evt_1", SubscriptionID: sub,
			Attempt: 1, RoundAttempt: 1, RoundStart: now, Timeout: 5 * time.Second,
			Policy: delivery.Policy{InitialInterval: time.Second, BackoffCoefficient: 2, MaxInterval: time.Second, MaxAttempts: 1},
		})
	}
	deliver("sub_ok")
	deliver("sub_down") // its only attempt fails: the policy gives up

	text := scrape(t, m)
	for _, want := range []string{
		`hookflow_delivery_attempts_total{outcome="succeeded"} 1`,
		`hookflow_delivery_attempts_total{outcome="failed"} 1`,
		`hookflow_deliveries_total{outcome="succeeded"} 1`,
		`hookflow_deliveries_total{outcome="failed"} 1`,
		`hookflow_deliveries_total{outcome="cancelled"} 0`,
		`hookflow_delivery_attempt_duration_seconds_count{subscription="sub_ok"} 1`,
		`hookflow_delivery_attempt_duration_seconds_count{subscription="sub_down"} 1`,
	} {
		require.Contains(t, text, want+"\n")
	}

	succeeded := logs.lines(t, "delivery succeeded")
	require.Len(t, succeeded, 1)
	require.Equal(t, "evt_1:sub_ok", succeeded[0]["delivery"])
	require.Equal(t, "evt_1", succeeded[0]["event"])
	require.Equal(t, "sub_ok", succeeded[0]["subscription"])
	require.NotEmpty(t, succeeded[0]["WorkflowID"], "the activity logger adds the workflow id")
	failed := logs.lines(t, "delivery failed")
	require.Len(t, failed, 1)
	require.Equal(t, "WARN", failed[0]["level"])
	require.Equal(t, "sub_down", failed[0]["subscription"])
	require.EqualValues(t, http.StatusBadGateway, failed[0]["status_code"])

	// A cancel the workflow records counts as a cancelled delivery.
	_, err = env.ExecuteActivity(activities.SetDeliveryStatusName, activities.SetDeliveryStatusInput{
		DeliveryID: ids.Delivery("evt_1", "sub_down"), Status: store.DeliveryCancelled,
	})
	require.NoError(t, err)
	require.Contains(t, scrape(t, m), `hookflow_deliveries_total{outcome="cancelled"} 1`+"\n")
}
