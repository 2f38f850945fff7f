package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
)

// A delivery workflow is started in two places: by the event workflow's
// fan-out, as an abandoned child, and by the API, with signal-with-start,
// when a cancel or a retry reaches a delivery whose workflow is not running.
// Both build the start from here, so its id, queue, summary and search
// attributes cannot drift apart.

// NewDeliveryInput is the input of the delivery of an event of app to a
// target. An empty app is a fan-out started before applications existed:
// its deliveries keep the workflow ids of that time.
func NewDeliveryInput(app, eventID, eventType string, t delivery.Target) DeliveryInput {
	return DeliveryInput{
		ApplicationID:   app,
		DeliveryID:      ids.Delivery(eventID, t.SubscriptionID),
		EventID:         eventID,
		EventType:       eventType,
		SubscriptionID:  t.SubscriptionID,
		URL:             t.URL,
		Policy:          t.Policy,
		AttemptTimeout:  t.AttemptTimeout,
		FailedRetention: t.FailedRetention,
	}
}

// deliveryStart is what every start of a delivery workflow sets.
type deliveryStart struct {
	id, taskQueue, summary string
	attrs                  temporal.SearchAttributes
	priority               temporal.Priority
}

// startOf is the start of the delivery workflow for in, for the event
// workflows of taskQueue.
func startOf(in DeliveryInput, taskQueue string) deliveryStart {
	status := StatusDelivering
	if in.State != nil {
		status = in.State.Status
	}
	return deliveryStart{
		id:        ids.DeliveryWorkflow(in.ApplicationID, in.DeliveryID),
		taskQueue: DeliveryTaskQueue(taskQueue),
		// Says in words what the workflow does, for the list of workflows
		// in the Temporal UI.
		summary: "deliver " + in.EventType + " " + in.EventID + " to " + in.URL + " for app " + applicationOf(in.ApplicationID),
		attrs: temporal.NewSearchAttributes(
			AttrApplicationID.ValueSet(applicationOf(in.ApplicationID)),
			AttrEventType.ValueSet(in.EventType),
			AttrEventID.ValueSet(in.EventID),
			AttrSubscriptionID.ValueSet(in.SubscriptionID),
			AttrStatus.ValueSet(status),
		),
		priority: Priority(in.ApplicationID),
	}
}

// maxFairnessKey is the longest fairness key Temporal takes, in bytes.
const maxFairnessKey = 64

// Priority is the task priority of every workflow and activity of app: its
// fairness key is the application, so that matching hands out tasks of a
// queue round-robin between applications instead of first in, first out,
// and one application's backlog of thousands of deliveries does not hold
// up another's event (README, "Fairness between applications"). Every
// application weighs the same. A priority is part of a start or schedule
// command's attributes, not a command of its own: it costs no history
// event, and a history recorded without it replays unchanged (the SDK
// matches commands by type and id).
func Priority(app string) temporal.Priority {
	return temporal.Priority{FairnessKey: FairnessKey(app)}
}

// FairnessKey is app's fairness key: the application id itself, which
// reads as it is in the Temporal UI, or, for an id longer than Temporal's
// 64 bytes, its first 47 bytes, a dot and 16 hex digits of its SHA-256,
// so that two long ids never share a key by their common prefix.
func FairnessKey(app string) string {
	app = applicationOf(app)
	if len(app) <= maxFairnessKey {
		return app
	}
	sum := sha256.Sum256([]byte(app))
	const hexLen = 16
	return app[:maxFairnessKey-hexLen-1] + "." + hex.EncodeToString(sum[:hexLen/2])
}

// applicationOf is the application of a workflow input: inputs recorded
// before applications existed belong to the application default.
func applicationOf(app string) string {
	if app == "" {
		return DefaultApplication
	}
	return app
}

// DefaultApplication is the application of workflows started before
// applications existed (as store.DefaultApplication; workflows do not
// import the store).
const DefaultApplication = "default"

// EventSummary is the summary of the fan-out of an event of app, for the
// list of workflows in the Temporal UI.
func EventSummary(app, eventType, eventID string) string {
	return "fan out " + eventType + " " + eventID + " for app " + applicationOf(app)
}

// EventSearchAttributes are the search attributes of the fan-out of an
// event of app.
func EventSearchAttributes(app, eventType, eventID string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		AttrEventType.ValueSet(eventType),
		AttrEventID.ValueSet(eventID),
		AttrApplicationID.ValueSet(applicationOf(app)),
	)
}

// DeliveryChildOptions start the delivery for in as a child of the event
// workflow running on taskQueue: abandoned, so that it outlives its parent,
// and never a second time for the same delivery.
func DeliveryChildOptions(in DeliveryInput, taskQueue string) workflow.ChildWorkflowOptions {
	s := startOf(in, taskQueue)
	return workflow.ChildWorkflowOptions{
		WorkflowID:            s.id,
		TaskQueue:             s.taskQueue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         s.summary,
		TypedSearchAttributes: s.attrs,
		Priority:              s.priority,
	}
}

// DeliveryStartOptions start the delivery for in from a client, for the
// event workflows of taskQueue: a running workflow is used as it is (its
// signal goes to it); a closed one is started again only if reuse allows.
func DeliveryStartOptions(in DeliveryInput, taskQueue string, reuse enumspb.WorkflowIdReusePolicy) client.StartWorkflowOptions {
	s := startOf(in, taskQueue)
	return client.StartWorkflowOptions{
		ID:                       s.id,
		TaskQueue:                s.taskQueue,
		WorkflowIDReusePolicy:    reuse,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            s.summary,
		TypedSearchAttributes:    s.attrs,
		Priority:                 s.priority,
	}
}

// RevivedState is where a new run of a failed delivery starts: failed, with
// the attempt count and the newest attempts of its log (oldest first), so
// that attempt numbers go on where they stopped and the retry signal that
// comes with the start begins a new round at now.
func RevivedState(deliveryID string, attempts int, log []delivery.Attempt, now time.Time) *DeliveryState {
	if len(log) > RecentAttempts {
		log = log[len(log)-RecentAttempts:]
	}
	state := &DeliveryState{DeliveryID: deliveryID, Status: StatusFailed, Attempts: attempts, RoundStart: now}
	for _, a := range log {
		state.Attempts = max(state.Attempts, a.Attempt)
		state.Recent = append(state.Recent, a)
	}
	return state
}

// StartResend starts, from a client, the workflow of a delivery that
// resends another (or first delivers an event a subscription missed), for
// the event workflows of taskQueue: a new delivery with its own id and
// workflow, whose requests carry the event id as webhook-id like every
// delivery of the event. A workflow of its id that is running, or has run,
// is left as it is and counts as started: the resend was made already
// (a recovery page run again after a crash, say). It is an
// activities.Starter.
func StartResend(ctx context.Context, c client.Client, taskQueue string, r activities.Resend) error {
	in := NewDeliveryInput(r.ApplicationID, r.EventID, r.EventType, r.Target)
	in.DeliveryID = r.DeliveryID
	opts := DeliveryStartOptions(in, taskQueue, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
	_, err := c.ExecuteWorkflow(ctx, opts, DeliveryWorkflowName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return nil
	}
	return err
}

var _ activities.Starter = StartResend
