package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
)

// The fan-out's pacing: how a run of Event gathers the events of the
// children it starts into few workflow tasks, and waits for them to settle
// before it closes.
//
// Every child that starts, and every child that completes while the run is
// open (first-try deliveries complete within milliseconds), is an event
// that asks for a workflow task. Answered one at a time, a batch of 500
// children costs several hundred workflow tasks. So the run holds each task
// open for a short pause (the Pause local activity, which only sleeps)
// sized, from the rate events arrive at, to gather about pauseEvents, and
// handles them together in the next task: a batch then costs a handful of
// tasks. The pause stays well under the 100 events the server buffers for a
// task in flight.
//
// Before it closes, a run that started many children also waits a moment
// for them to complete: a child completing while the run's last task is in
// flight makes the server refuse the close (UnhandledCommand), which costs
// a failed task and a replay of the whole history.

// changePauseForChildStarts is the workflow.GetVersion change id of the
// pauses and the settling in awaitStarted.
const changePauseForChildStarts = "pause-for-child-starts"

// The pacing's tuning. Each of these decides which commands a run emits
// (whether it pauses, for how long, whether it sets the settle timer), so
// changing one changes the workflow: it needs a new workflow.GetVersion
// (a new change id or a new maximum version for changePauseForChildStarts,
// with the old values kept for runs that recorded them) and a recorded
// history of the new version under testdata/histories.
const (
	// pauseEvents is how many events one pause aims to gather. The server
	// fails a task in flight past 100 buffered events (ForceCloseCommand),
	// so the aim leaves room for the rate to jump fivefold mid-pause.
	pauseEvents = 20
	// Pauses shorter than minPause are not taken: events that come that
	// fast gather by themselves while a task is in flight.
	minPause = 10 * time.Millisecond
	maxPause = 200 * time.Millisecond
	// A run that started settleFrom children or more waits up to
	// settleFor for them to complete before it closes.
	settleFrom = 100
	settleFor  = time.Second
)

// awaitStarted waits until every child has started: an abandoned child
// that has not started when its parent's run closes is never started. It
// paces the wait as the top of this file says.
func (r *eventRun) awaitStarted(ctx workflow.Context, futures []workflow.ChildWorkflowFuture, targets []delivery.Target) error {
	if len(futures) == 0 {
		return nil
	}
	w := &batchWait{
		futures: futures, targets: targets, startSeen: make([]bool, len(futures)), closedSeen: make([]bool, len(futures)),
	}
	// Runs recorded before pausing existed replay without it: the version
	// is asked only where the new behaviour would first differ, so runs
	// that never need it (one subscriber, say) carry no marker.
	version, asked := workflow.DefaultVersion, false
	paced := func() bool {
		if !asked {
			version, asked = workflow.GetVersion(ctx, changePauseForChildStarts, workflow.DefaultVersion, 1), true
		}
		return version >= 1
	}
	for {
		// Blocking here ends the current workflow task, so that the next
		// one brings whatever arrived during the pause. (A selector over
		// a thousand futures costs too much CPU per task; scanning them
		// for readiness does not.) While settling, a cancel signal ends
		// the wait: every child has started, and run cancels them at once.
		if err := workflow.Await(ctx, func() bool {
			return w.changed() || w.settle != nil && r.cancelCh.Len() > 0
		}); err != nil {
			return err
		}
		added := w.take(ctx)
		r.status.Deliveries += added
		if w.err != nil {
			return w.err
		}
		if w.started == len(futures) {
			if !needsSettling(len(futures), w.closed) || w.settled() || r.cancelCh.Len() > 0 || !paced() {
				return nil
			}
			if w.settle == nil {
				// Not cancelled when the run closes first: a timer left
				// pending costs no event, a cancelled one does.
				w.settle = workflow.NewTimerWithOptions(ctx, settleFor, workflow.TimerOptions{Summary: "let the deliveries of this batch finish"})
			}
		} else if !paced() {
			continue
		}
		if err := r.pause(ctx, w); err != nil {
			return err
		}
	}
}

// needsSettling reports whether a run that started children, closed of
// which have closed, waits for the rest before it closes.
func needsSettling(children, closed int) bool {
	return children >= settleFrom && closed < children
}

// batchWait follows the children one run started.
type batchWait struct {
	futures               []workflow.ChildWorkflowFuture
	targets               []delivery.Target
	startSeen, closedSeen []bool
	started, closed       int // closed: completed, failed or cancelled
	settle                workflow.Future
	err                   error
	lastWake              time.Time
	rate                  float64 // events per second seen at the last wake
}

// changed reports whether a child started or closed, or the settling time
// ran out, since take last looked.
func (w *batchWait) changed() bool {
	if w.settled() {
		return true
	}
	for i, f := range w.futures {
		if !w.startSeen[i] && f.GetChildWorkflowExecution().IsReady() || !w.closedSeen[i] && f.IsReady() {
			return true
		}
	}
	return false
}

func (w *batchWait) settled() bool { return w.settle != nil && w.settle.IsReady() }

// take counts what changed, notes the first failed start, updates the rate
// of events, and returns how many children started.
func (w *batchWait) take(ctx workflow.Context) int {
	before := w.started + w.closed
	added := 0
	for i, f := range w.futures {
		if !w.startSeen[i] && f.GetChildWorkflowExecution().IsReady() {
			w.startSeen[i] = true
			w.started++
			added++
			var already *temporal.ChildWorkflowExecutionAlreadyStartedError
			if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil && !errors.As(err, &already) && w.err == nil {
				w.err = fmt.Errorf("start delivery to %s: %w", w.targets[i].SubscriptionID, err)
			}
		}
		if !w.closedSeen[i] && f.IsReady() {
			w.closedSeen[i] = true
			w.closed++
		}
	}
	w.observe(workflow.Now(ctx), w.started+w.closed-before)
	return added
}

// observe updates the rate from the events seen at a wake at now.
func (w *batchWait) observe(now time.Time, events int) {
	// The first wake follows the wait for the first child to start, which
	// says nothing of the rate at which the rest will come.
	if dt := now.Sub(w.lastWake); !w.lastWake.IsZero() && dt > 0 {
		w.rate = float64(events) / dt.Seconds()
	}
	w.lastWake = now
}

// pauseLength is how long to hold a task open for about pauseEvents events
// to arrive at rate events per second (minPause when the rate is not known
// yet), at most maxPause; ok is false when they come fast enough to gather
// without a pause.
func pauseLength(rate float64) (d time.Duration, ok bool) {
	d = minPause
	if rate > 0 {
		d = time.Duration(float64(pauseEvents) / rate * float64(time.Second))
		if d < minPause {
			return 0, false
		}
	}
	return min(d, maxPause).Round(time.Millisecond), true
}

// pause holds the workflow task open for pauseLength at the rate seen at
// the last wake.
func (r *eventRun) pause(ctx workflow.Context, w *batchWait) error {
	d, ok := pauseLength(w.rate)
	if !ok {
		return nil
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: d + 5*time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		Summary:             fmt.Sprintf("gather events: %d of %d deliveries started, %d finished", w.started, len(w.futures), w.closed),
	})
	return workflow.ExecuteLocalActivity(lctx, activities.PauseName, d).Get(ctx, nil)
}
