package dispatch_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/hookflow/hookflow/dispatch"
	"github.com/hookflow/hookflow/store"
)

// fakeTemporal is a mocked client whose event workflows stay open until
// closeAll, and whose starts fail while down is set.
type fakeTemporal struct {
	*mocks.Client
	down     atomic.Bool
	mu       sync.Mutex
	starts   map[string]int // workflow id → starts that reached the server
	options  map[string]client.StartWorkflowOptions
	open     int
	maxOpen  int
	closeAll chan struct{}
}

func newFakeTemporal(t *testing.T, existing map[string]string) *fakeTemporal {
	f := &fakeTemporal{Client: &mocks.Client{}, starts: map[string]int{}, options: map[string]client.StartWorkflowOptions{}, closeAll: make(chan struct{})}
	f.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
			if f.down.Load() {
				return nil, serviceerror.NewUnavailable("connection refused")
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.starts[opts.ID]++
			f.options[opts.ID] = opts
			if runID, ok := existing[opts.ID]; ok {
				return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", runID)
			}
			run := &mocks.WorkflowRun{}
			run.On("GetRunID").Return("run-" + opts.ID)
			return run, nil
		})
	f.On("GetWorkflow", mock.Anything, mock.Anything, mock.Anything).Return(
		func(context.Context, string, string) client.WorkflowRun {
			f.mu.Lock()
			f.open++
			f.maxOpen = max(f.maxOpen, f.open)
			f.mu.Unlock()
			run := &mocks.WorkflowRun{}
			run.On("Get", mock.Anything, mock.Anything).Return(func(ctx context.Context, _ any) error {
				defer func() {
					f.mu.Lock()
					f.open--
					f.mu.Unlock()
				}()
				select {
				case <-f.closeAll:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			return run
		})
	return f
}

func (f *fakeTemporal) started() (workflows, starts, maxOpen int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.starts {
		workflows++
		starts += n
	}
	return workflows, starts, f.maxOpen
}

func newStore(t *testing.T, events int) store.Store {
	st, err := store.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "hookflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	for i := range events {
		id := fmt.Sprintf("evt_%02d", i)
		_, _, err := st.CreateEvent(t.Context(), store.Event{ApplicationID: store.DefaultApplication, ID: id, Type: "a.b", Payload: []byte(`{}`), BodyHash: "h",
			WorkflowID: "event:" + id, CreatedAt: time.Now()})
		require.NoError(t, err)
	}
	return st
}

func run(t *testing.T, d *dispatch.Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("the dispatcher did not stop within 10 s")
		}
	})
}

func pending(t *testing.T, st store.Store) int {
	s, err := st.OutboxStats(context.Background())
	require.NoError(t, err)
	return s.Pending
}

// A sweep at start finds events stored before (by a process that
// crashed, say); no more workflows are open at once than the window
// holds, and the rest start as the open ones close.
func TestSweepsAtStartAndKeepsToTheWindow(t *testing.T) {
	st := newStore(t, 10)
	tc := newFakeTemporal(t, nil)
	d := dispatch.New(dispatch.Options{Store: st, Temporal: tc, TaskQueue: "q", Window: 3, Sweep: 20 * time.Millisecond})
	run(t, d)

	require.Eventually(t, func() bool { w, _, _ := tc.started(); return w == 3 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // several sweeps: none may start more
	w, _, maxOpen := tc.started()
	require.Equal(t, 3, w, "the window is full")
	require.Equal(t, 3, maxOpen)
	require.Equal(t, 7, pending(t, st))

	close(tc.closeAll)
	require.Eventually(t, func() bool { return pending(t, st) == 0 }, 5*time.Second, 5*time.Millisecond)
	w, starts, _ := tc.started()
	require.Equal(t, 10, w)
	require.Equal(t, 10, starts, "each event started once")
	ev, err := st.GetEvent(t.Context(), store.DefaultApplication, "evt_07")
	require.NoError(t, err)
	require.Equal(t, "run-event:evt_07", ev.RunID)
}

// While starts fail the dispatcher says it is stalled and leaves the
// events pending and unclaimed; when they work again every event starts.
func TestStallsWhileTemporalIsDownAndRecovers(t *testing.T) {
	st := newStore(t, 0)
	tc := newFakeTemporal(t, map[string]string{"event:evt_old": "run-old"})
	close(tc.closeAll)
	tc.down.Store(true)
	d := dispatch.New(dispatch.Options{Store: st, Temporal: tc, TaskQueue: "q", Sweep: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	run(t, d)
	for _, id := range []string{"evt_new", "evt_old"} {
		_, _, err := st.CreateEvent(t.Context(), store.Event{ApplicationID: store.DefaultApplication, ID: id, Type: "a.b", Payload: []byte(`{}`), BodyHash: "h",
			WorkflowID: "event:" + id, CreatedAt: time.Now()})
		require.NoError(t, err)
		d.Accepted()
	}
	require.Eventually(t, func() bool { return d.Status().Stalled }, 5*time.Second, 5*time.Millisecond)
	st2 := d.Status()
	require.Error(t, st2.Err)
	// Pending is an estimate: an accept that races a count is counted
	// twice until the next count, a sweep later.
	require.Eventually(t, func() bool { return d.Status().Pending == 2 }, 5*time.Second, 5*time.Millisecond)
	// Failed starts give their claims back at once.
	now := time.Now()
	require.Eventually(t, func() bool {
		claimed, err := st.ClaimPendingEvents(t.Context(), now, now, 10)
		require.NoError(t, err)
		return len(claimed) == 2
	}, 5*time.Second, 5*time.Millisecond, "not leased while the dispatcher backs off")

	tc.down.Store(false)
	require.Eventually(t, func() bool { return pending(t, st) == 0 }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return !d.Status().Stalled }, 5*time.Second, 5*time.Millisecond)
	ev, err := st.GetEvent(t.Context(), store.DefaultApplication, "evt_old")
	require.NoError(t, err)
	require.Equal(t, "run-old", ev.RunID, "an event whose workflow was started already gets that run")
	require.Eventually(t, func() bool { return d.Status().Pending == 0 }, 5*time.Second, 5*time.Millisecond)
}

func TestNilDispatcherDispatchesNothing(t *testing.T) {
	var d *dispatch.Dispatcher
	d.Accepted()
	require.Equal(t, dispatch.Status{}, d.Status())
}

// A scheduled event's workflow starts at once with the rest of the wait
// until the stored deliver_at as its start delay (and no eager start), and
// holds no place in the window: scheduled events never stall the ones due.
func TestScheduledEventsStartDelayedOutsideTheWindow(t *testing.T) {
	st := newStore(t, 0)
	tc := newFakeTemporal(t, nil) // workflows stay open
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 4 {
		id := fmt.Sprintf("evt_later_%d", i)
		_, _, err := st.CreateEvent(t.Context(), store.Event{ApplicationID: store.DefaultApplication, ID: id, Type: "a.b", Payload: []byte(`{}`), BodyHash: "h",
			WorkflowID: "event:" + id, DeliverAt: now.Add(time.Duration(i+1) * time.Hour), CreatedAt: now.Add(-time.Minute)})
		require.NoError(t, err)
	}
	_, _, err := st.CreateEvent(t.Context(), store.Event{ApplicationID: store.DefaultApplication, ID: "evt_due", Type: "a.b", Payload: []byte(`{}`), BodyHash: "h",
		WorkflowID: "event:evt_due", DeliverAt: now.Add(-time.Second), CreatedAt: now})
	require.NoError(t, err)
	d := dispatch.New(dispatch.Options{Store: st, Temporal: tc, TaskQueue: "q", Window: 2, Batch: 1, Sweep: 20 * time.Millisecond,
		Now: func() time.Time { return now }})
	run(t, d)
	require.Eventually(t, func() bool { return pending(t, st) == 0 }, 5*time.Second, 5*time.Millisecond,
		"four scheduled events and one due, through a window of two")
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for i := range 4 {
		opts := tc.options[fmt.Sprintf("event:evt_later_%d", i)]
		require.Equal(t, time.Duration(i+1)*time.Hour, opts.StartDelay)
		require.False(t, opts.EnableEagerStart)
	}
	due := tc.options["event:evt_due"]
	require.Zero(t, due.StartDelay, "a deliver_at already passed starts at once")
	require.True(t, due.EnableEagerStart)
}

// An event's fan-out takes turns with other applications' on the fan-out
// queue: its start carries the application as its fairness key, which its
// children and activities inherit.
func TestAnEventStartsWithItsApplicationsFairnessKey(t *testing.T) {
	opts := dispatch.StartOptions("hookflow", store.Event{ApplicationID: "acme", ID: "evt_1", Type: "order.created", WorkflowID: "event:acme/evt_1"})
	if opts.Priority.FairnessKey != "acme" {
		t.Fatalf("fairness key %q, want acme", opts.Priority.FairnessKey)
	}
}
