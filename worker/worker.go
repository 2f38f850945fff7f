// Package worker runs Hookflow's workflows and activities on a task queue.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/workflows"
)

// New returns a worker with every workflow and activity registered.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		// Deliveries mostly wait on receivers, not on CPU: many may be in
		// flight at once without loading the machine.
		MaxConcurrentActivityExecutionSize:      500,
		MaxConcurrentLocalActivityExecutionSize: 500,
		// A delivery attempt heartbeats every second while its request is
		// in flight, and the answer to a heartbeat is what tells it of a
		// cancel. Without this the SDK sends heartbeats only every 80% of
		// the heartbeat timeout (8 s), and a cancel waits that long.
		MaxHeartbeatThrottleInterval: activities.HeartbeatInterval,
	})
	workflows.Register(w)
	activities.Register(w, acts)
	return w
}
