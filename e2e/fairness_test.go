package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
)

// fairnessOffEnv, set to 1, runs TestOneApplicationsBacklogDoesNotHoldUpAnother
// against a dev server of its own with fairness turned off, which hands out
// tasks first in, first out whatever their keys: the comparison README
// "Fairness between applications" reports. It then logs the lag instead of
// asserting it.
const fairnessOffEnv = "HOOKFLOW_E2E_FAIRNESS_OFF"

// One application has 800 events queued behind a slow receiver and a
// worker with few delivery slots; another posts one event right after. With
// task queue fairness the second application's delivery takes the next free
// slot, ahead of the backlog: it arrives within seconds, while most of the
// first application's events still wait.
func TestOneApplicationsBacklogDoesNotHoldUpAnother(t *testing.T) {
	temporal := tp
	fairness := os.Getenv(fairnessOffEnv) != "1"
	if !fairness {
		off, err := testenv.StartDevServerProcess(context.Background(), t.TempDir(),
			"--dynamic-config-value", "matching.enableFairness=false",
			"--dynamic-config-value", "matching.useNewMatcher=false")
		require.NoError(t, err)
		t.Cleanup(func() { _ = off.Stop() })
		temporal = &testenv.Temporal{Address: off.Address}
	}
	// Four slots and 40 ms a request: about 100 deliveries a second at
	// best, so that 800 form a backlog of several seconds in the delivery
	// queue.
	const slots, backlog = 4, 800
	h := testenv.StartHookflow(t, temporal, app.ModeServe, func(c *config.Config) { c.DeliverySlots = slots })
	createApplication(t, h, "busy")
	createApplication(t, h, "quiet")

	busy := testenv.NewReceiver(t)
	busy.Respond = func(_ int, w http.ResponseWriter) {
		time.Sleep(40 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	}
	quiet := testenv.NewReceiver(t)
	subscribeIn(t, h, "busy", busy, "job.done")
	subscribeIn(t, h, "quiet", quiet, "job.done")

	postAll(t, h.URL+"/v1/applications/busy/events", backlog)
	// The backlog has formed in Temporal's delivery queue: every event's
	// workflow has started (the outbox is empty, so the quiet event cannot
	// pass the backlog there), and the busy receiver works through it.
	require.Eventually(t, func() bool {
		st, err := h.App.Store().OutboxStats(context.Background())
		return err == nil && st.Pending == 0
	}, 5*time.Minute, 10*time.Millisecond)
	busyBefore := busy.Count()

	posted := time.Now()
	acc := publishIn(t, h, "quiet", map[string]any{"type": "job.done", "data": map[string]any{"quiet": true}})
	var busyThen int
	require.Eventually(t, func() bool {
		if quiet.Count() == 0 {
			return false
		}
		busyThen = busy.Count()
		return true
	}, 2*time.Minute, 5*time.Millisecond)
	lag := quiet.Requests()[0].At.Sub(posted)
	t.Logf("fairness=%v: the quiet application's event arrived %v after its post; the busy receiver had %d of %d then, %d at the post",
		fairness, lag.Round(time.Millisecond), busyThen, backlog, busyBefore)

	// Where the wait was: before the event's workflow started (the outbox,
	// first in, first out across applications), or after its delivery
	// started (the delivery queue, which fairness orders).
	var ev eventView
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/applications/quiet/events/"+acc.ID, nil, &ev))
	require.Len(t, ev.Deliveries, 1)
	for _, wid := range []string{acc.WorkflowID, ev.Deliveries[0].WorkflowID} {
		d, err := temporalClient(t, temporal).DescribeWorkflow(context.Background(), wid, "")
		require.NoError(t, err)
		t.Logf("%s started %v after the post", wid, d.RawResponse.GetWorkflowExecutionInfo().GetStartTime().AsTime().Sub(posted).Round(time.Millisecond))
	}

	// Fairness costs a delivery no history event: the key rides on the
	// events it always had (started, and on the fan-out's side the child's
	// initiated event), and a first-try delivery is the 7 events it was
	// before (workflows/testdata/histories/delivery-first-try.json).
	require.Eventually(t, func() bool {
		d, err := temporalClient(t, temporal).DescribeWorkflow(context.Background(), ev.Deliveries[0].WorkflowID, "")
		return err == nil && d.RawResponse.GetWorkflowExecutionInfo().GetCloseTime() != nil
	}, 30*time.Second, 20*time.Millisecond)
	hist, err := testenv.History(context.Background(), temporalClient(t, temporal), ev.Deliveries[0].WorkflowID, "")
	require.NoError(t, err)
	assert.Len(t, hist.GetEvents(), 7, "history events of a first-try delivery")
	assert.Equal(t, "quiet", hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetPriority().GetFairnessKey())

	if fairness {
		assert.Less(t, lag, 5*time.Second, "the quiet application waited behind the busy one's backlog")
		assert.Less(t, busyThen, backlog/2, "most of the busy application's backlog should still have been queued")
	}
	// Nothing is lost either way: the whole backlog arrives.
	require.Eventually(t, func() bool { return busy.Count() >= backlog }, 5*time.Minute, 50*time.Millisecond)
}

// temporalClient is a client of temporal.
func temporalClient(t *testing.T, temporal *testenv.Temporal) client.Client {
	if temporal.Client != nil {
		return temporal.Client
	}
	c, err := client.Dial(client.Options{HostPort: temporal.Address})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// publishIn posts one event to app.
func publishIn(t *testing.T, h *testenv.Hookflow, app string, body map[string]any) accepted {
	t.Helper()
	var acc accepted
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, appPrefix(app)+"/events", body, &acc))
	return acc
}

// postAll posts n events of type job.done to url, a few at a time.
func postAll(t *testing.T, url string, n int) {
	t.Helper()
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
	)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				body := fmt.Sprintf(`{"type":"job.done","data":{"job":%d}}`, i)
				resp, err := http.Post(url, "application/json", bytes.NewBufferString(body))
				if err == nil {
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("event %d: %v", i, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, failed)
}
