package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// fanOutSubscribers is past Temporal's 2,000 pending children per run, and
// not a multiple of the batch, so that the last run starts a partial batch.
const fanOutSubscribers = 4*workflows.FanOutBatch + 100

// One event to 2,100 subscribers: every one gets it, and no run of the
// event workflow meets a Temporal limit (pending children, history length
// or size) or fails a workflow task over one.
func TestEventReachesThousandsOfSubscribers(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	secret, err := signing.NewSecret()
	require.NoError(t, err)
	r.SetSecret(secret)
	createSubscriptions(t, h.App.Store(), r.URL+"/s/%d", "fanout.test", secret, fanOutSubscribers)

	acc := publish(t, h, map[string]any{"type": "fanout.test", "data": map[string]any{"n": 1}})

	// Each subscription has a path of its own on the one receiver.
	got := func() map[string]int {
		n := map[string]int{}
		for _, req := range r.Requests() {
			n[req.Path]++
		}
		return n
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, got(), fanOutSubscribers, "every subscriber got the event")
	}, 10*time.Minute, 500*time.Millisecond)
	var ev eventView
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev))
		assert.Equal(c, "completed", ev.Status)
	}, 2*time.Minute, 500*time.Millisecond)
	require.Len(t, ev.Deliveries, fanOutSubscribers)
	again := 0
	for _, d := range ev.Deliveries {
		require.Equal(t, "succeeded", d.Status, d.ID)
		if d.Attempts > 1 {
			again++ // its first attempt outlived its deadline on a starved worker
		}
	}
	require.LessOrEqual(t, again, fanOutSubscribers/50, "a few deliveries needed a second attempt")
	// At least once, not exactly once: the first attempt runs in the
	// delivery's first workflow task, and a worker starved past that task's
	// timeout (2,100 of them at once under -race on two cores) runs it
	// again, with the same webhook-id for the receiver to drop it by. A
	// fan-out that started a subscriber's delivery twice would double
	// every subscriber, not a few.
	repeats := 0
	for path, n := range got() {
		if n > 1 {
			t.Logf("%s got the event %d times", path, n)
			repeats += n - 1
		}
	}
	t.Logf("%d subscribers, %d repeated requests", fanOutSubscribers, repeats)
	require.LessOrEqual(t, repeats, fanOutSubscribers/50, "repeats are the few a starved worker makes")
	for _, req := range r.Requests() {
		require.NoError(t, req.VerifyErr)
		require.Equal(t, acc.ID, req.Header.Get(signing.HeaderID), "a repeat carries the same webhook-id")
	}

	// Every run of the event workflow: all closed, none failed over a limit.
	ctx := context.Background()
	var runs []string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := tp.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = '%s'", acc.WorkflowID),
		})
		require.NoError(c, err)
		runs = runs[:0]
		for _, info := range resp.GetExecutions() {
			require.NotEqual(c, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, info.GetStatus())
			runs = append(runs, info.GetExecution().GetRunId())
		}
		// One run per full batch, and one for the rest.
		assert.Len(c, runs, fanOutSubscribers/workflows.FanOutBatch+1)
	}, time.Minute, 500*time.Millisecond)
	var last string
	for _, run := range runs {
		hist, err := testenv.History(ctx, tp.Client, acc.WorkflowID, run)
		require.NoError(t, err)
		require.Less(t, len(hist.GetEvents()), 4096, "run %s", run)
		require.Less(t, proto.Size(hist), 10<<20, "run %s", run)
		initiated := 0
		for _, e := range hist.GetEvents() {
			if e.GetEventType() == enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED {
				initiated++
			}
			require.NotEqual(t, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED, e.GetEventType(), "run %s", run)
			if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
				// Two failures are the server asking the run to look again,
				// and it goes on: a child completing while the run's closing
				// task is in flight (UnhandledCommand), and over 100 events
				// arriving while one task is in flight (ForceCloseCommand):
				// the race detector makes a task that takes in 600 events
				// last a second. Anything else, a limit above all, fails.
				require.Contains(t, []enumspb.WorkflowTaskFailedCause{
					enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
					enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
				}, a.GetCause(), "run %s", run)
			}
		}
		require.LessOrEqual(t, initiated, workflows.FanOutBatch, "a run never has more children than a batch, far from Temporal's 2,000 pending")
		if hist.GetEvents()[len(hist.GetEvents())-1].GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
			last = run
		}
	}
	require.NotEmpty(t, last, "one run completed the fan-out")

	if *updateHistories {
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, testenv.SaveHistory(ctx, tp.Client, acc.WorkflowID, last, filepath.Join(dir, "event-fan-out-last-batch.json")))
	}
}

// createSubscriptions writes n subscriptions straight into the store: the
// API would take longer to create them than Hookflow to deliver to them.
// formatURL puts i in url when it has a %d, so that subscriptions to one
// receiver can have paths of their own.
func formatURL(url string, i int) string {
	if strings.Contains(url, "%d") {
		return fmt.Sprintf(url, i)
	}
	return url
}

// createSubscriptions subscribes n times to url, which may hold a %d for
// the subscription's index.
func createSubscriptions(t *testing.T, st store.Store, url, eventType, secret string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				now := time.Now().UTC()
				errs <- st.CreateSubscription(context.Background(), store.Subscription{ApplicationID: store.DefaultApplication,
					ID: ids.NewSubscription(), URL: formatURL(url, i), EventTypes: []string{eventType}, Secret: secret,
					Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
				})
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
