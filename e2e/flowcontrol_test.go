package e2e

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/internal/testenv"
)

// max_in_flight 3 and a receiver taking 400 ms: all 24 events arrive, and
// the receiver never has more than 3 requests at once, though the worker
// has 256 delivery slots.
func TestMaxInFlightCapsConcurrentRequests(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	var inFlight, most atomic.Int32
	r := testenv.NewReceiver(t)
	r.Respond = func(_ int, w http.ResponseWriter) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(400 * time.Millisecond)
		inFlight.Add(-1)
		w.WriteHeader(http.StatusOK)
	}
	sub := subscribeWith(t, h, r.URL, map[string]any{"max_in_flight": 3}, "job.done")
	require.NotEmpty(t, sub.ID)

	const n = 24
	began := time.Now()
	postAll(t, h.URL+"/v1/events", n)
	require.Eventually(t, func() bool { return distinctEvents(r) >= n }, 2*time.Minute, 20*time.Millisecond)
	t.Logf("%d events through max_in_flight 3 in %v; at most %d at once", n, time.Since(began).Round(time.Millisecond), most.Load())
	assert.LessOrEqual(t, most.Load(), int32(3), "never more than max_in_flight at once")
	assert.GreaterOrEqual(t, most.Load(), int32(2), "the cap is a cap, not one at a time")
	assert.Equal(t, n, r.Count(), "each event once: nothing was sent twice or dropped")
}

// rate_limit 4: 24 events arrive at no more than about 4 a second, and all
// of them arrive.
func TestRateLimitSpacesRequests(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	subscribeWith(t, h, r.URL, map[string]any{"rate_limit": 4}, "job.done")

	const n = 24
	postAll(t, h.URL+"/v1/events", n)
	// While they wait, the worker says so.
	waiting := regexp.MustCompile(`(?m)^hookflow_deliveries_throttled\{limit="rate_limit"\} ([0-9]+)`)
	var most int
	require.Eventually(t, func() bool {
		_, text := getText(t, h.URL+"/metrics")
		if m := waiting.FindStringSubmatch(text); m != nil {
			v, _ := strconv.Atoi(m[1])
			most = max(most, v)
		}
		return most > 0
	}, 10*time.Second, 50*time.Millisecond, "hookflow_deliveries_throttled shows the waiting attempts")
	require.Eventually(t, func() bool { return distinctEvents(r) >= n }, 2*time.Minute, 20*time.Millisecond)
	t.Logf("up to %d attempts seen waiting for their turn", most)
	var at []time.Time
	for _, req := range r.Requests() {
		at = append(at, req.At)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	span := at[len(at)-1].Sub(at[0])
	t.Logf("%d requests over %v: %.2f a second", len(at), span.Round(time.Millisecond), float64(len(at)-1)/span.Seconds())
	// Any 5 consecutive requests span at least 4 intervals of 250 ms, less
	// what a loaded machine adds between a send and the receiver's clock
	// (118 ms seen under the full suite): 750 ms, three intervals, where no
	// limit would put them milliseconds apart.
	for i := 0; i+4 < len(at); i++ {
		assert.GreaterOrEqual(t, at[i+4].Sub(at[i]), 750*time.Millisecond, "requests %d to %d", i, i+4)
	}
	assert.GreaterOrEqual(t, span, 5500*time.Millisecond, "23 intervals of 250 ms")
	assert.Equal(t, n, r.Count(), "each event once")
}

// distinctEvents counts the events r received, by webhook-id.
func distinctEvents(r *testenv.Receiver) int {
	seen := map[string]bool{}
	for _, req := range r.Requests() {
		seen[req.Header.Get("webhook-id")] = true
	}
	return len(seen)
}

// A rate_limit turn further out than an attempt can wait (about 7 s) is
// waited for in the workflow: rate_limit 0.1 (one request every 10 s) and
// two events: the second is sent at its turn, 10 s after the first, in one
// attempt, and no turn was lost on the way.
func TestALongRateLimitWaitIsWaitedInTheWorkflow(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	sub := subscribeWith(t, h, r.URL, map[string]any{"rate_limit": 0.1}, "slow.*")
	first := publish(t, h, map[string]any{"id": "slow-turn-1", "type": "slow.item", "data": map[string]any{}})
	waitDelivery(t, h, deliveryIDOf(t, h, first.ID, sub.ID), "succeeded", 1)
	second := publish(t, h, map[string]any{"id": "slow-turn-2", "type": "slow.item", "data": map[string]any{}})
	id := deliveryIDOf(t, h, second.ID, sub.ID)
	d := waitDelivery(t, h, id, "succeeded", 1)
	require.Equal(t, 1, d.Attempts[0].Attempt, "the wait spent no attempt")
	reqs := r.Requests()
	require.Len(t, reqs, 2)
	gap := reqs[1].At.Sub(reqs[0].At)
	t.Logf("the second request came %v after the first", gap.Round(time.Millisecond))
	require.GreaterOrEqual(t, gap, 9500*time.Millisecond, "at its turn, not before")
	require.Less(t, gap, 20*time.Second, "at its turn, not a backoff later")
	saveHistory(t, d.WorkflowID, "", "delivery-throttled-wait.json")
}
