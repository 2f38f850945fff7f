package e2e

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/worker"
)

// unrecordedStore fails every RecordAttempt of one attempt number, as a
// database that is down for that attempt would: the attempt posts, cannot
// log what happened, and its activity fails every try with a plain error.
type unrecordedStore struct {
	store.Store
	attempt int
	refused atomic.Int32
}

func (s *unrecordedStore) RecordAttempt(ctx context.Context, a store.Attempt, status string, next time.Time) error {
	if a.Attempt == s.attempt {
		s.refused.Add(1)
		return errors.New("the database is down (test)")
	}
	return s.Store.RecordAttempt(ctx, a, status, next)
}

// An attempt that never reports is decided by the workflow, with retry
// jitter behind GetVersion("retry-jitter"): attempt 1 gets a 500, attempt 2
// (a regular activity) cannot record itself on any of its tries, the
// workflow waits the jittered backoff itself, and attempt 3 succeeds. The
// worker is this test's own, on the same database as the API, so that its
// store can fail; go test ./e2e -run TestAnAttemptThatNeverReported
// -update-histories records delivery-unreported-jitter.json.
func TestAnAttemptThatNeverReportedIsDecidedWithJitter(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "hookflow.db")
	const taskQueue = "hookflow-e2e-unreported-jitter"
	h := testenv.StartHookflow(t, tp, app.ModeAPI, func(c *config.Config) {
		c.DatabaseURL, c.TaskQueue = dbURL, taskQueue
	})

	st, err := store.Open(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	faulty := &unrecordedStore{Store: st, attempt: 2}
	acts := &activities.Activities{
		Store: faulty, UserAgent: "hookflow/e2e",
		Defaults: delivery.Defaults{
			Retry: delivery.Policy{
				InitialInterval: h.Config.Retry.InitialInterval, BackoffCoefficient: h.Config.Retry.BackoffCoefficient,
				MaxInterval: h.Config.Retry.MaxInterval, MaxAttempts: h.Config.Retry.MaxAttempts, MaxDuration: h.Config.Retry.MaxDuration,
			},
			AttemptTimeout: h.Config.AttemptTimeout, FailedRetention: h.Config.FailedRetention,
		},
		HTTP: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	w := worker.New(tp.Client, taskQueue, acts, 8)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	r := testenv.NewReceiver(t)
	r.Respond = func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	sub := subscribeWith(t, h, r.URL, map[string]any{"retry": map[string]any{"initial_interval_seconds": 1, "max_interval_seconds": 2}}, "jitter.checked")
	acc := publish(t, h, map[string]any{"type": "jitter.checked", "data": map[string]any{"n": 1}})
	id := deliveryIDOf(t, h, acc.ID, sub.ID)

	// Attempts 1 and 3 are in the log; attempt 2 never could be.
	d := waitDelivery(t, h, id, "succeeded", 2)
	require.Equal(t, []int{500, 204}, d.statusCodes())
	require.Equal(t, 1, d.Attempts[0].Attempt)
	require.Equal(t, 3, d.Attempts[1].Attempt)
	require.EqualValues(t, 3, faulty.refused.Load(), "attempt 2's three tries each failed to record")
	require.Equal(t, 5, r.Count(), "attempt 2 posted on each of its tries")

	res := closedResult(t, d.WorkflowID, "")
	require.Equal(t, 3, res.Attempts)
	hist, err := testenv.History(context.Background(), tp.Client, d.WorkflowID, "")
	require.NoError(t, err)
	versions, err := testenv.VersionMarkers(hist)
	require.NoError(t, err)
	require.Contains(t, versions, "retry-jitter", "the history has the retry-jitter version marker")
	require.Equal(t, 1, versions["retry-jitter"])
	saveHistory(t, d.WorkflowID, "", "delivery-unreported-jitter.json")
}
