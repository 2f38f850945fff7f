// Package worker runs Hookflow's workflows and activities.
//
// One process runs two Temporal workers. The fan-out worker polls the
// configured task queue, where the API starts event workflows; the
// delivery worker polls workflows.DeliveryTaskQueue of it, where event
// workflows start their deliveries. Apart, a backlog of thousands of
// deliveries never holds up the workflow tasks of the fan-out that feeds
// them: sharing one queue, pollers and task slots, an event workflow's
// task waited behind every delivery queued before it.
package worker

import (
	"errors"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/workflows"
)

// Workers are the fan-out and delivery workers of one process.
type Workers struct {
	fanOut, deliveries sdkworker.Worker
}

// Worker settings. A delivery is one short workflow task whose first
// attempt runs inside it as a local activity, so a delivery in flight
// holds a workflow task slot and a local activity slot together: the two
// limits are equal, or tasks would wait in the worker for a local
// activity slot while their workflow task's timeout runs.
const (
	// DeliverySlots is the default bound of the deliveries one process
	// works on at once (HOOKFLOW_DELIVERY_SLOTS); they mostly wait on
	// receivers, not on CPU, and the rest wait in the server's queue,
	// which costs the worker no memory.
	DeliverySlots = 256
	// deliveryPollers keep a poll waiting whenever a slot is free, so
	// that the server hands tasks over at once instead of queueing them
	// in its database.
	deliveryPollers = 8
	// fanOutSlots bounds the event workflows' tasks and their local
	// activities (subscriber lookups, pauses).
	fanOutSlots = 64
	// fanOutPollers keep a sticky poll waiting for each event workflow's
	// next task, so that it is handed over at once.
	fanOutPollers = 8
	// fanOutStickyTimeout is how long an event workflow's task may wait on
	// this worker's sticky queue before the server moves it to the normal
	// queue, where it is replayed from the start of its history. Under a
	// burst a server on one database connection (the dev server, a small
	// cluster) takes longer than 20 s to hand tasks over, and a timeout
	// then only adds a failed task and a replay to the load. The price of
	// a long one: tasks queued for a worker that died without stopping
	// wait this long (a worker that stops hands them back at once, and
	// the server stops routing new tasks to a sticky queue that nobody
	// polls).
	fanOutStickyTimeout = 2 * time.Minute
)

// New returns the workers, with every workflow and activity registered on
// both: deliveries started before they had a queue of their own run on
// the fan-out queue. deliverySlots bounds the deliveries in flight (0:
// DeliverySlots).
func New(c client.Client, taskQueue string, acts *activities.Activities, deliverySlots int) *Workers {
	if deliverySlots <= 0 {
		deliverySlots = DeliverySlots
	}
	pollers := min(deliveryPollers, max(2, deliverySlots))
	w := &Workers{
		fanOut: sdkworker.New(c, taskQueue, sdkworker.Options{
			MaxConcurrentWorkflowTaskExecutionSize:  fanOutSlots,
			MaxConcurrentLocalActivityExecutionSize: fanOutSlots,
			MaxConcurrentWorkflowTaskPollers:        fanOutPollers,
			StickyScheduleToStartTimeout:            fanOutStickyTimeout,
			MaxHeartbeatThrottleInterval:            activities.HeartbeatInterval,
		}),
		deliveries: sdkworker.New(c, workflows.DeliveryTaskQueue(taskQueue), sdkworker.Options{
			MaxConcurrentWorkflowTaskExecutionSize:  deliverySlots,
			MaxConcurrentLocalActivityExecutionSize: deliverySlots,
			MaxConcurrentActivityExecutionSize:      deliverySlots,
			// No more polls than slots: a poll that takes a task no slot
			// can run holds it in the worker, out of fairness' reach.
			MaxConcurrentWorkflowTaskPollers: pollers,
			MaxConcurrentActivityTaskPollers: max(1, pollers/2),
			// A delivery attempt heartbeats every second while its request
			// is in flight, and the answer to a heartbeat is what tells it
			// of a cancel. Without this the SDK sends heartbeats only every
			// 80% of the heartbeat timeout (8 s), and a cancel waits that long.
			MaxHeartbeatThrottleInterval: activities.HeartbeatInterval,
		}),
	}
	for _, sw := range []sdkworker.Worker{w.fanOut, w.deliveries} {
		workflows.Register(sw)
		activities.Register(sw, acts)
	}
	return w
}

// Start starts both workers, or neither.
func (w *Workers) Start() error {
	if err := w.fanOut.Start(); err != nil {
		return err
	}
	if err := w.deliveries.Start(); err != nil {
		w.fanOut.Stop()
		return errors.Join(errors.New("start the delivery worker"), err)
	}
	return nil
}

// Stop stops both workers; each finishes or hands back its tasks.
func (w *Workers) Stop() {
	w.fanOut.Stop()
	w.deliveries.Stop()
}
