package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/client"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/workflows"
)

// The message log through a real Hookflow: events and deliveries listed
// newest first, page by page, with filters that combine; read with package
// client, whose requests and answers are checked against the document.
func TestMessageLogListsWithFiltersAndPages(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.Retry.MaxAttempts = 1 })
	ok, down := testenv.NewReceiver(t), testenv.NewReceiver(t)
	down.Respond = func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }
	okSub := subscribe(t, h, ok, "order.*")
	downSub := subscribe(t, h, down, "order.created")

	var ids []string
	for i := range 5 {
		typ := []string{"order.created", "order.paid"}[i%2]
		acc := publish(t, h, map[string]any{"id": fmt.Sprintf("log-order-%d", i), "type": typ, "data": map[string]any{"n": i}})
		ids = append([]string{acc.ID}, ids...)
		time.Sleep(5 * time.Millisecond) // distinct creation times, though ties would be ordered by id
	}
	// 5 to ok, 3 (the created ones) to down, which fail at their one attempt.
	c, err := client.New(h.URL, "", client.WithHTTPClient(&http.Client{Transport: &documentedTransport{t: t}}))
	require.NoError(t, err)
	ctx := t.Context()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		p, err := c.ListDeliveries(ctx, client.ListDeliveriesParams{ListParams: client.ListParams{Limit: 250}})
		require.NoError(ct, err)
		require.Len(ct, p.Data, 8)
		for _, d := range p.Data {
			assert.Contains(ct, []string{"succeeded", "failed"}, d.Status, d.ID)
		}
	}, 60*time.Second, 200*time.Millisecond)

	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := c.ListEvents(ctx, client.ListEventsParams{ListParams: client.ListParams{Limit: 2, Cursor: cursor}})
		require.NoError(t, err)
		for _, e := range p.Data {
			listed = append(listed, e.ID)
		}
		if !p.HasMore {
			require.Equal(t, 2, pages, "three pages of at most two")
			break
		}
		cursor = p.NextCursor
	}
	require.Equal(t, ids, listed, "newest first, every event once")

	created, err := c.ListEvents(ctx, client.ListEventsParams{Type: "order.created"})
	require.NoError(t, err)
	require.Len(t, created.Data, 3)

	failed, err := c.ListDeliveries(ctx, client.ListDeliveriesParams{SubscriptionID: downSub.ID, Status: "failed"})
	require.NoError(t, err)
	require.Len(t, failed.Data, 3)
	for _, d := range failed.Data {
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, downSub.ID, d.SubscriptionID)
	}
	none, err := c.ListDeliveries(ctx, client.ListDeliveriesParams{SubscriptionID: okSub.ID, Status: "failed"})
	require.NoError(t, err)
	require.Empty(t, none.Data, "the filters combine")
	one, err := c.ListDeliveries(ctx, client.ListDeliveriesParams{EventID: "log-order-2", SubscriptionID: okSub.ID})
	require.NoError(t, err)
	require.Len(t, one.Data, 1)
	require.Equal(t, "succeeded", one.Data[0].Status)

	// The window: since the third event's creation, by its list entry.
	all, err := c.ListEvents(ctx, client.ListEventsParams{})
	require.NoError(t, err)
	since := all.Data[2].CreatedAt // order-2
	win, err := c.ListEvents(ctx, client.ListEventsParams{Window: client.Window{Since: since}})
	require.NoError(t, err)
	require.Equal(t, []string{"log-order-4", "log-order-3", "log-order-2"}, []string{win.Data[0].ID, win.Data[1].ID, win.Data[2].ID})
	require.Len(t, win.Data, 3)

	var bad struct {
		Error client.Error `json:"error"`
	}
	require.Equal(t, http.StatusBadRequest, h.Do(t, http.MethodGet, "/v1/deliveries?status=lost", nil, &bad))
	require.Equal(t, "status", bad.Error.Details[0].Field)
	code := h.Do(t, http.MethodGet, "/v1/events?cursor="+url.QueryEscape("bm90IGEgY3Vyc29y"), nil, nil)
	require.Equal(t, http.StatusBadRequest, code)
}

// An event with deliver_at 5 s ahead is scheduled until then and arrives
// no earlier; one scheduled an hour ahead is cancelled before, and its
// workflow ends at once without delivering anything.
func TestDeliverAtHoldsTheEventUntilThenAndCancels(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	r := testenv.NewReceiver(t)
	subscribe(t, h, r, "reminder.due")

	at := time.Now().Add(5 * time.Second).UTC().Truncate(time.Millisecond)
	acc := publish(t, h, map[string]any{"id": "reminder-1", "type": "reminder.due", "data": map[string]any{}, "deliver_at": at.Format(time.RFC3339Nano)})
	later := publish(t, h, map[string]any{"id": "reminder-2", "type": "reminder.due", "data": map[string]any{},
		"deliver_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})

	var ev struct {
		eventView
		DeliverAt *time.Time `json:"deliver_at"`
	}
	require.Eventually(t, func() bool {
		h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev)
		return ev.RunID != ""
	}, 10*time.Second, 50*time.Millisecond, "the dispatcher starts the delayed workflow at once")
	require.Equal(t, "scheduled", ev.Status)
	require.True(t, at.Equal(*ev.DeliverAt))
	require.Empty(t, ev.Deliveries)
	require.Zero(t, r.Count())

	// Cancel the one an hour ahead. A signal does not wake a workflow
	// waiting for its start delay on this server, so the cancel
	// terminates it: it closes at once, having run nothing.
	require.Eventually(t, func() bool {
		h.Do(t, http.MethodGet, "/v1/events/"+later.ID, nil, &ev)
		return ev.RunID != ""
	}, 10*time.Second, 50*time.Millisecond)
	var cancelled struct {
		Status string `json:"status"`
	}
	require.Equal(t, http.StatusAccepted, h.Do(t, http.MethodPost, "/v1/events/"+later.ID+"/cancel", nil, &cancelled))
	desc, err := tp.Client.DescribeWorkflow(t.Context(), later.WorkflowID, "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, desc.RawResponse.WorkflowExecutionInfo.Status)
	h.Do(t, http.MethodGet, "/v1/events/"+later.ID, nil, &ev)
	require.Equal(t, "cancelled", ev.Status)

	require.Eventually(t, func() bool { return r.Count() == 1 }, 30*time.Second, 50*time.Millisecond)
	got := r.Requests()[0]
	require.False(t, got.At.Before(at), "arrived at %s, before deliver_at %s", got.At, at)
	time.Sleep(time.Second)
	require.Equal(t, 1, r.Count(), "the cancelled event never arrives")
	h.Do(t, http.MethodGet, "/v1/events/"+acc.ID, nil, &ev)
	require.Equal(t, "completed", ev.Status)

	if *updateHistories {
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, testenv.SaveHistory(context.Background(), tp.Client, acc.WorkflowID, "", filepath.Join(dir, "event-deliver-at.json")))
	}
}

// Retention with a short interval purges the finished event and keeps the
// one whose delivery is still retrying, however old.
func TestRetentionPurgesOldFinishedRowsAndKeepsOpenOnes(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
		c.Retention = 3 * time.Second
		c.RetentionInterval = time.Second
		c.Retry.InitialInterval = time.Hour // the failing delivery waits, retrying
		c.Retry.MaxInterval = time.Hour
	})
	ok, down := testenv.NewReceiver(t), testenv.NewReceiver(t)
	down.Respond = func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }
	subscribe(t, h, ok, "a.done")
	subscribe(t, h, down, "a.open")
	done := publish(t, h, map[string]any{"id": "done-1", "type": "a.done", "data": map[string]any{}})
	open := publish(t, h, map[string]any{"id": "open-1", "type": "a.open", "data": map[string]any{}})

	var ev eventView
	require.Eventually(t, func() bool {
		h.Do(t, http.MethodGet, "/v1/events/"+open.ID, nil, &ev)
		return len(ev.Deliveries) == 1 && ev.Deliveries[0].Status == "retrying"
	}, 30*time.Second, 100*time.Millisecond)
	openDelivery := ev.Deliveries[0].ID
	require.Eventually(t, func() bool {
		h.Do(t, http.MethodGet, "/v1/events/"+done.ID, nil, &ev)
		return ev.Status == "completed"
	}, 30*time.Second, 100*time.Millisecond)
	doneDelivery := ev.Deliveries[0].ID

	require.Eventually(t, func() bool {
		return h.Do(t, http.MethodGet, "/v1/events/"+done.ID, nil, nil) == http.StatusNotFound
	}, 30*time.Second, 200*time.Millisecond, "the finished event is purged once older than HOOKFLOW_RETENTION")
	require.Equal(t, http.StatusNotFound, h.Do(t, http.MethodGet, "/v1/deliveries/"+doneDelivery, nil, nil))
	// Several purges later the open one is still there.
	time.Sleep(3 * time.Second)
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+open.ID, nil, &ev))
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/deliveries/"+openDelivery, nil, nil))

	sched := tp.Client.ScheduleClient().GetHandle(t.Context(), workflows.RetentionScheduleID(h.Config.TaskQueue))
	desc, err := sched.Describe(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, desc.Info.RecentActions, "the schedule ran purges")
	// Starting again with another interval updates the schedule in place.
	testenv.StartHookflow(t, tp, app.ModeWorker, func(c *config.Config) {
		c.TaskQueue = h.Config.TaskQueue
		c.DatabaseURL = h.Config.DatabaseURL
		c.Retention = 3 * time.Second
		c.RetentionInterval = time.Minute
	})
	require.Eventually(t, func() bool {
		d, err := sched.Describe(t.Context())
		return err == nil && len(d.Schedule.Spec.Intervals) == 1 && d.Schedule.Spec.Intervals[0].Every == time.Minute
	}, 10*time.Second, 100*time.Millisecond)

	if *updateHistories {
		last := desc.Info.RecentActions[len(desc.Info.RecentActions)-1].StartWorkflowResult
		dir := filepath.Join("..", "workflows", "testdata", "histories")
		require.NoError(t, testenv.SaveHistory(context.Background(), tp.Client, last.WorkflowID, last.FirstExecutionRunID, filepath.Join(dir, "retention-purge.json")))
	}
	// And HOOKFLOW_RETENTION=0 removes it.
	testenv.StartHookflow(t, tp, app.ModeWorker, func(c *config.Config) {
		c.TaskQueue = h.Config.TaskQueue
		c.DatabaseURL = h.Config.DatabaseURL
		c.Retention = 0
	})
	require.Eventually(t, func() bool {
		_, err := sched.Describe(t.Context())
		var notFound *serviceerror.NotFound
		return errors.As(err, &notFound)
	}, 10*time.Second, 100*time.Millisecond, "the schedule is deleted")
}
