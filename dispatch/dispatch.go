// Package dispatch starts the workflows of accepted events: the other half
// of the transactional outbox (store.Outbox). The API stores an event and
// answers at once; a Dispatcher in the same process, woken by the accept,
// claims the pending events, starts each one's workflow under the id
// derived from the event's, and records the run. It also sweeps the outbox
// when it starts and every second, so that the events of a process that
// crashed between storing and starting, or that no process was woken for,
// start too.
//
// Every API process runs one. Claims are leased in the database, so
// several dispatchers share the work without handing one event to two at
// once; and a start that happens twice anyway (a lease that ran out in the
// middle of a slow start) joins the first, because the workflow id is the
// event's. While Temporal cannot be reached, the dispatcher backs off and
// the events wait in the database; the accept does not wait for Temporal.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// Defaults of Options.
const (
	// DefaultBatch is how many events one claim takes: enough for a burst
	// to cost few claims, few enough that a lease covers their starts.
	DefaultBatch = 64
	// DefaultConcurrency is how many starts run at once. A start is one
	// request that Temporal answers in milliseconds; a few in flight keep
	// the server busy without queueing hundreds of requests in it.
	DefaultConcurrency = 16
	// DefaultLease is how long a claim holds its events. It bounds how
	// long the events of a dispatcher that crashed wait before another
	// claims them, and must cover a batch's starts (each bounded by
	// DefaultStartTimeout).
	DefaultLease = 30 * time.Second
	// DefaultSweep is how often the outbox is swept without being woken.
	DefaultSweep = time.Second
	// DefaultStartTimeout bounds one start; an unreachable Temporal fails
	// it, and the dispatcher backs off.
	DefaultStartTimeout = 5 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait after a round
	// whose starts failed; it doubles with each failed round.
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
	// DefaultWindow bounds the event workflows this dispatcher has started
	// that are still open. Started all at once, a burst of thousands of
	// events left each workflow's next task queued on the worker's sticky
	// queue behind every other's for longer than the sticky timeout:
	// timed-out tasks, each moved to the normal queue and replayed, work
	// done twice when there is least capacity. Within the window the
	// backlog waits in the database instead, in order, and the workflows
	// that run finish at the pace the server allows.
	DefaultWindow = 64
	// DefaultWindowHold is the longest one started workflow holds its
	// place in the window: a fan-out to thousands of subscribers, or one
	// that is stuck, must not keep the next events from starting.
	DefaultWindowHold = 30 * time.Second
	// BehindAfter is how long the oldest pending event may wait before
	// Status says dispatch does not keep up.
	BehindAfter = 30 * time.Second
)

// Options configure a Dispatcher; zero values take the defaults above.
type Options struct {
	Store     store.Outbox
	Temporal  client.Client
	TaskQueue string
	// Metrics receives the backlog gauges and start counts; nil records nothing.
	Metrics *metrics.Metrics
	// Log hears of stalls and recoveries; nil is slog.Default().
	Log *slog.Logger
	// Now is the clock of the leases; nil is time.Now.
	Now func() time.Time

	Batch        int
	Concurrency  int
	Lease        time.Duration
	Sweep        time.Duration
	StartTimeout time.Duration
	MinBackoff   time.Duration
	MaxBackoff   time.Duration
	Window       int
	WindowHold   time.Duration
}

// Dispatcher starts the workflows of pending events. Its methods are safe
// to call concurrently, and on a nil *Dispatcher, which dispatches nothing.
type Dispatcher struct {
	opts Options
	log  *slog.Logger
	wake chan struct{}

	// accepted counts the events this process stored since the backlog
	// was last counted, started those it started since, so that Pending
	// follows this process's own traffic at once.
	accepted, started atomic.Int64

	// open counts the started workflows in the window; freed is signalled
	// when one leaves it. watchers are the goroutines that wait for them.
	open     atomic.Int64
	freed    chan struct{}
	watchers sync.WaitGroup

	mu     sync.Mutex
	status Status
}

// Status is what a dispatcher knows of the backlog.
type Status struct {
	// Pending estimates the accepted events whose workflow has not
	// started, in the whole database: the last count, plus what this
	// process accepted and minus what it started since.
	Pending int
	// Oldest is when the oldest of them was accepted, as last counted;
	// zero when none waits.
	Oldest time.Time
	// CountedAt is when the backlog was last counted; zero: never yet.
	CountedAt time.Time
	// Stalled is set while starts fail (Temporal unreachable, say); Since
	// is when they began to, and Err the last failure.
	Stalled bool
	Since   time.Time
	Err     error
}

// Behind reports whether the oldest pending event has waited longer than
// BehindAfter at now.
func (s Status) Behind(now time.Time) bool {
	return !s.Oldest.IsZero() && now.Sub(s.Oldest) > BehindAfter
}

// New returns a dispatcher; Run makes it work.
func New(opts Options) *Dispatcher {
	opts.Batch = positive(opts.Batch, DefaultBatch)
	opts.Concurrency = positive(opts.Concurrency, DefaultConcurrency)
	opts.Lease = positive(opts.Lease, DefaultLease)
	opts.Sweep = positive(opts.Sweep, DefaultSweep)
	opts.StartTimeout = positive(opts.StartTimeout, DefaultStartTimeout)
	opts.MinBackoff = positive(opts.MinBackoff, DefaultMinBackoff)
	opts.MaxBackoff = positive(opts.MaxBackoff, DefaultMaxBackoff)
	opts.Window = positive(opts.Window, DefaultWindow)
	opts.WindowHold = positive(opts.WindowHold, DefaultWindowHold)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dispatcher{opts: opts, log: opts.Log, wake: make(chan struct{}, 1), freed: make(chan struct{}, 1)}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d
}

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Accepted tells the dispatcher an event was stored: it counts it in
// Pending and wakes the dispatcher, which claims it at once unless it is
// backing off. It never blocks.
func (d *Dispatcher) Accepted() {
	if d == nil {
		return
	}
	d.accepted.Add(1)
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is already due; it will find this event too
	}
}

// Status reports the backlog and whether starts fail.
func (d *Dispatcher) Status() Status {
	if d == nil {
		return Status{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.status
	st.Pending = max(0, st.Pending+int(d.accepted.Load()-d.started.Load()))
	return st
}

// Run dispatches until ctx ends: it sweeps the outbox at once, then
// whenever an accept wakes it and every Sweep; while starts fail it backs
// off, doubling the wait up to MaxBackoff, and lets the events wait.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { d.countLoop(ctx) })
	defer wg.Wait()
	defer d.watchers.Wait()
	sweep := time.NewTicker(d.opts.Sweep)
	defer sweep.Stop()
	failures := 0
	for {
		n, err := d.round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			d.stalled(err)
			if !sleep(ctx, backoff(d.opts.MinBackoff, d.opts.MaxBackoff, failures)) {
				return nil
			}
			continue
		}
		if failures > 0 {
			failures = 0
			d.recovered()
		}
		if n > 0 {
			continue // more may wait, and the window may have room
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-d.freed:
		case <-sweep.C:
		}
	}
}

// round claims one batch and starts its events, a few at a time. The
// first start that fails ends the round: the others would most likely
// fail the same way, each after waiting its whole timeout. Events not
// started are released for the next round.
func (d *Dispatcher) round(ctx context.Context) (int, error) {
	room := min(d.opts.Batch, d.opts.Window-int(d.open.Load()))
	if room <= 0 {
		return 0, nil // a started workflow leaving the window wakes Run
	}
	now := d.opts.Now()
	events, err := d.opts.Store.ClaimPendingEvents(ctx, now, now.Add(d.opts.Lease), room)
	if err != nil {
		return 0, fmt.Errorf("claim pending events: %w", err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		runs     = make(map[store.EventKey]string, len(events))
		failed   []store.EventKey
		firstErr error
		sem      = make(chan struct{}, d.opts.Concurrency)
	)
	for _, ev := range events {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			runID, err := d.dispatch(ctx, rctx, ev)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				runs[ev.Key()] = runID
				return
			}
			failed = append(failed, ev.Key())
			if firstErr == nil {
				firstErr = err
				cancel(err)
			}
		})
	}
	wg.Wait()
	d.opts.Metrics.OutboxStarts(metrics.OutcomeStarted, len(runs))
	// The workflows run now: their runs are recorded even when another
	// start failed or the process is stopping, or the next sweep would
	// start them again only to find them started.
	recCtx, recCancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer recCancel()
	if err := d.opts.Store.RecordEventRuns(recCtx, runs); err != nil {
		// Their claims run out and they are started again, which finds
		// them started and records them then.
		return len(events), fmt.Errorf("record the runs of %d started events: %w", len(runs), err)
	}
	d.started.Add(int64(len(runs)))
	if len(failed) == 0 {
		return len(events), nil
	}
	d.opts.Metrics.OutboxStarts(metrics.OutcomeFailed, len(failed))
	// Released even when ctx ended (the process stops): the next process
	// need not wait for the lease.
	relCtx, relCancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer relCancel()
	if err := d.opts.Store.ReleaseEvents(relCtx, failed); err != nil {
		d.log.Warn("cannot release the claims on events not started; they wait for their lease to end", "events", len(failed), "err", err)
	}
	return len(events), firstErr
}

// dispatch starts one event's workflow and returns its run. ctx is Run's,
// rctx the round's, which the round's first failure cancels.
func (d *Dispatcher) dispatch(ctx, rctx context.Context, ev store.Event) (string, error) {
	if err := rctx.Err(); err != nil {
		return "", context.Cause(rctx)
	}
	sctx, cancel := context.WithTimeout(rctx, d.opts.StartTimeout)
	defer cancel()
	runID, err := StartAt(sctx, d.opts.Temporal, d.opts.TaskQueue, ev, d.opts.Now())
	if err != nil {
		return "", err
	}
	// A scheduled event's workflow waits for deliver_at before its first
	// task: holding a place in the window for it would only stall the
	// events behind it.
	if !ev.DeliverAt.After(d.opts.Now()) {
		d.watch(ctx, ev.WorkflowID, runID)
	}
	d.log.Debug("event workflow started", "application", ev.ApplicationID, "event", ev.ID, "workflow_id", ev.WorkflowID, "run_id", runID,
		"waited_ms", d.opts.Now().Sub(ev.CreatedAt).Milliseconds())
	return runID, nil
}

// watch holds a place in the window for the workflow until it closes,
// WindowHold ends, or the dispatcher stops.
func (d *Dispatcher) watch(ctx context.Context, workflowID, runID string) {
	d.open.Add(1)
	d.watchers.Go(func() {
		defer func() {
			d.open.Add(-1)
			select {
			case d.freed <- struct{}{}:
			default:
			}
		}()
		wctx, cancel := context.WithTimeout(ctx, d.opts.WindowHold)
		defer cancel()
		// Its result does not matter here, only that it closed; an error
		// (Temporal gone, the hold over) frees the place as well.
		_ = d.opts.Temporal.GetWorkflow(wctx, workflowID, runID).Get(wctx, nil)
	})
}

// StartOptions are the options an event's workflow starts with, from the
// dispatcher and from a cancel that comes before it started.
func StartOptions(taskQueue string, ev store.Event) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:        ev.WorkflowID,
		TaskQueue: taskQueue,
		// A start that happens twice (two dispatchers, or a lease that ran
		// out during a slow start) joins the running workflow; a finished
		// one is never run again.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		EnableEagerStart:         true,
		StaticSummary:            workflows.EventSummary(ev.ApplicationID, ev.Type, ev.ID),
		TypedSearchAttributes:    workflows.EventSearchAttributes(ev.ApplicationID, ev.Type, ev.ID),
		// The fan-out's tasks, and its local activities' workflow tasks,
		// take turns between applications on the fan-out queue.
		Priority: workflows.Priority(ev.ApplicationID),
	}
}

// Input is the event workflow's input for ev.
func Input(ev store.Event) workflows.EventInput {
	return workflows.EventInput{ApplicationID: ev.ApplicationID, EventID: ev.ID, EventType: ev.Type}
}

// StartDelay is how long the workflow of ev, started at now, waits before
// its first task: until the event's deliver_at, read from the store, so
// that a dispatcher that restarts (or another that takes over) does not
// shift it; zero when it is due.
func StartDelay(ev store.Event, now time.Time) time.Duration {
	return max(0, ev.DeliverAt.Sub(now))
}

// Start starts the workflow of ev, or finds it started (or finished), and
// returns its run id.
func Start(ctx context.Context, c client.Client, taskQueue string, ev store.Event) (string, error) {
	return StartAt(ctx, c, taskQueue, ev, time.Now())
}

// StartAt is Start at now: an event with a deliver_at ahead of now starts
// with Temporal's start delay, so its workflow exists (and can be
// cancelled, or found by id) at once, but runs nothing before then. The
// workflow's input is the same as without a delay, so histories recorded
// before deliver_at existed replay unchanged.
func StartAt(ctx context.Context, c client.Client, taskQueue string, ev store.Event, now time.Time) (string, error) {
	opts := StartOptions(taskQueue, ev)
	if delay := StartDelay(ev, now); delay > 0 {
		opts.StartDelay = delay
		// Eager start hands the first task to this worker at once, which
		// is what a delay forbids.
		opts.EnableEagerStart = false
	}
	run, err := c.ExecuteWorkflow(ctx, opts, workflows.EventWorkflowName, Input(ev))
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return run.GetRunID(), nil
	case errors.As(err, &already):
		return already.RunId, nil
	default:
		return "", fmt.Errorf("start the workflow of event %s: %w", ev.ID, err)
	}
}

// countLoop counts the backlog every Sweep, for Status and the metrics.
func (d *Dispatcher) countLoop(ctx context.Context) {
	t := time.NewTicker(d.opts.Sweep)
	defer t.Stop()
	for {
		d.count(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) count(ctx context.Context) {
	// Taken before the count, so that what this process does while the
	// query runs is neither lost nor counted twice, give or take the
	// events it touches during the query.
	accepted, started := d.accepted.Load(), d.started.Load()
	st, err := d.opts.Store.OutboxStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("cannot count the pending events", "err", err)
		}
		return
	}
	now := d.opts.Now()
	d.mu.Lock()
	d.status.Pending, d.status.Oldest, d.status.CountedAt = st.Pending, st.Oldest, now
	d.accepted.Add(-accepted)
	d.started.Add(-started)
	d.mu.Unlock()
	var age time.Duration
	if !st.Oldest.IsZero() {
		age = max(0, now.Sub(st.Oldest))
	}
	d.opts.Metrics.Outbox(st.Pending, age)
}

func (d *Dispatcher) stalled(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.status.Stalled {
		d.status.Stalled, d.status.Since = true, d.opts.Now()
		d.log.Warn("dispatch stalled: cannot start event workflows; accepted events wait in the database and start when it works again", "err", err)
	}
	d.status.Err = err
}

func (d *Dispatcher) recovered() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log.Info("dispatch works again", "stalled_for", d.opts.Now().Sub(d.status.Since).Round(time.Millisecond).String())
	d.status.Stalled, d.status.Since, d.status.Err = false, time.Time{}, nil
}

// backoff is the wait after the n-th failed round in a row.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// sleep waits for d or until ctx ends, and reports whether ctx is alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
