// Package workflows holds Hookflow's Temporal workflows: Event fans an event
// out to one Delivery child workflow per matching subscription; Delivery owns
// the attempts, backoff, and the cancel and retry signals of one delivery.
//
// Workflow code here is deterministic: time comes from workflow.Now, waiting
// from timers and channels, and every I/O goes through the activities.
package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/delivery"
)

// Registered names. They are part of running histories and of the CLI
// commands operators type, so they never follow Go renames.
const (
	EventWorkflowName    = "hookflow.Event"
	DeliveryWorkflowName = "hookflow.Delivery"
	// DeleteApplicationWorkflowName cancels a deleted application's
	// unfinished deliveries.
	DeleteApplicationWorkflowName = "hookflow.DeleteApplication"
	// RetentionWorkflowName purges finished records; the schedule
	// RetentionScheduleID starts it.
	RetentionWorkflowName = "hookflow.Retention"
	// RecoverWorkflowName resends what a subscription missed over a window.
	RecoverWorkflowName = "hookflow.Recover"

	SignalCancel = delivery.SignalCancel
	SignalRetry  = delivery.SignalRetry
	QueryStatus  = "status"
	// QueryProgress is the query of a recovery: RecoverProgress.
	QueryProgress = "progress"
)

// DeliveryTaskQueue is the task queue of the deliveries an event workflow
// running on taskQueue starts. Deliveries have a queue of their own so that
// thousands of them waiting never delay the fan-out's own workflow tasks.
func DeliveryTaskQueue(taskQueue string) string { return taskQueue + "-deliveries" }

// Search attributes, registered on the namespace by `make run` and by
// hookflow at start.
var (
	AttrEventType      = temporal.NewSearchAttributeKeyKeyword("HookflowEventType")
	AttrEventID        = temporal.NewSearchAttributeKeyKeyword("HookflowEventID")
	AttrSubscriptionID = temporal.NewSearchAttributeKeyKeyword("HookflowSubscriptionID")
	AttrStatus         = temporal.NewSearchAttributeKeyKeyword("HookflowStatus")
	// AttrApplicationID is set on every event, delivery and
	// application-deletion workflow, so that an operator finds one
	// application's workflows (its stuck deliveries, say) in the UI.
	AttrApplicationID = temporal.NewSearchAttributeKeyKeyword("HookflowApplicationID")
)

// SearchAttributes lists every custom search attribute Hookflow uses.
var SearchAttributes = []temporal.SearchAttributeKeyKeyword{AttrEventType, AttrEventID, AttrSubscriptionID, AttrStatus, AttrApplicationID}

// Register adds every workflow to r under its pinned name. The worker, the
// unit tests and the replayer all call it, so the set cannot drift.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Event, workflow.RegisterOptions{Name: EventWorkflowName})
	r.RegisterWorkflowWithOptions(Delivery, workflow.RegisterOptions{Name: DeliveryWorkflowName})
	r.RegisterWorkflowWithOptions(DeleteApplication, workflow.RegisterOptions{Name: DeleteApplicationWorkflowName})
	r.RegisterWorkflowWithOptions(Retention, workflow.RegisterOptions{Name: RetentionWorkflowName})
	r.RegisterWorkflowWithOptions(Recover, workflow.RegisterOptions{Name: RecoverWorkflowName})
	r.RegisterWorkflowWithOptions(Wake, workflow.RegisterOptions{Name: WakeWorkflowName})
}

// RetentionScheduleID is the id of the Temporal Schedule that runs
// Retention for the deployment on taskQueue: "hookflow-retention" for the
// default task queue, and one of its own for every other, so that
// deployments sharing a namespace (tests do) each purge their own store.
func RetentionScheduleID(taskQueue string) string {
	if taskQueue == "hookflow" {
		return "hookflow-retention"
	}
	return "hookflow-retention-" + taskQueue
}
