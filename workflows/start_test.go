package workflows_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/workflows"
)

// The fan-out and the API start the same workflow for the same delivery:
// same id, queue, summary and search attributes.
func TestTheFanOutAndTheAPIStartADeliveryAlike(t *testing.T) {
	in := workflows.NewDeliveryInput("", "evt_1", "order.created", delivery.Target{
		SubscriptionID: "sub_1", URL: "https://example.com/hook", AttemptTimeout: 15 * time.Second,
	})
	require.Equal(t, "evt_1:sub_1", in.DeliveryID)
	child := workflows.DeliveryChildOptions(in, "hookflow")
	start := workflows.DeliveryStartOptions(in, "hookflow", enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)

	require.Equal(t, "delivery:evt_1:sub_1", child.WorkflowID)
	require.Equal(t, child.WorkflowID, start.ID)
	require.Equal(t, "hookflow-deliveries", child.TaskQueue)
	require.Equal(t, child.TaskQueue, start.TaskQueue)
	require.Equal(t, "deliver order.created evt_1 to https://example.com/hook for app default", child.StaticSummary)
	require.Equal(t, child.StaticSummary, start.StaticSummary)
	require.Equal(t, child.TypedSearchAttributes, start.TypedSearchAttributes)
	require.Equal(t, temporal.Priority{FairnessKey: "default"}, child.Priority, "a delivery takes turns as its application")
	require.Equal(t, child.Priority, start.Priority)
	status, ok := child.TypedSearchAttributes.GetKeyword(workflows.AttrStatus)
	require.True(t, ok)
	require.Equal(t, workflows.StatusDelivering, status)

	require.Equal(t, enumspb.PARENT_CLOSE_POLICY_ABANDON, child.ParentClosePolicy, "a delivery outlives its fan-out")
	require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, child.WorkflowIDReusePolicy)
	require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, start.WorkflowIDReusePolicy)
	require.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, start.WorkflowIDConflictPolicy, "a running delivery gets the signal")

	// A revived delivery starts findable as failed, where its log stopped.
	log := make([]delivery.Attempt, 12)
	for i := range log {
		log[i] = delivery.Attempt{Attempt: i + 1, StatusCode: 500}
	}
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	in.State = workflows.RevivedState(in.DeliveryID, 3, log, now)
	require.Equal(t, workflows.StatusFailed, in.State.Status)
	require.Equal(t, 12, in.State.Attempts, "attempt numbers go on from the log")
	require.Len(t, in.State.Recent, workflows.RecentAttempts)
	require.Equal(t, 3, in.State.Recent[0].Attempt)
	require.Equal(t, now, in.State.RoundStart)
	status, _ = workflows.DeliveryStartOptions(in, "hookflow", enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE).TypedSearchAttributes.GetKeyword(workflows.AttrStatus)
	require.Equal(t, workflows.StatusFailed, status)
}

// A delivery of an application has the application in its workflow id, its
// summary and its search attributes; one of a fan-out recorded before
// applications existed (no application) keeps the id of that time.
func TestADeliveryNamesItsApplication(t *testing.T) {
	target := delivery.Target{SubscriptionID: "sub_1", URL: "https://example.com/hook"}
	in := workflows.NewDeliveryInput("acme", "evt_1", "order.created", target)
	child := workflows.DeliveryChildOptions(in, "hookflow")
	require.Equal(t, "delivery:acme/evt_1:sub_1", child.WorkflowID)
	require.Equal(t, child.WorkflowID, workflows.DeliveryStartOptions(in, "hookflow", enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE).ID)
	require.Equal(t, "deliver order.created evt_1 to https://example.com/hook for app acme", child.StaticSummary)
	app, ok := child.TypedSearchAttributes.GetKeyword(workflows.AttrApplicationID)
	require.True(t, ok)
	require.Equal(t, "acme", app)

	legacy := workflows.DeliveryChildOptions(workflows.NewDeliveryInput("", "evt_1", "order.created", target), "hookflow")
	require.Equal(t, "delivery:evt_1:sub_1", legacy.WorkflowID)
	app, _ = legacy.TypedSearchAttributes.GetKeyword(workflows.AttrApplicationID)
	require.Equal(t, "default", app)

	require.Equal(t, "fan out order.created o-1 for app acme", workflows.EventSummary("acme", "order.created", "o-1"))
	app, _ = workflows.EventSearchAttributes("acme", "order.created", "o-1").GetKeyword(workflows.AttrApplicationID)
	require.Equal(t, "acme", app)
}

// The Temporal UI shows the input as JSON: durations read as operators
// write them, and inputs recorded with nanoseconds still decode.
func TestTheDeliveryInputShowsReadableDurationsAndReadsTheOldForm(t *testing.T) {
	in := deliveryInput()
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var shown map[string]any
	require.NoError(t, json.Unmarshal(b, &shown))
	require.Equal(t, "15s", shown["AttemptTimeout"])
	require.Equal(t, "24h0m0s", shown["FailedRetention"])
	require.Equal(t, "72h0m0s", shown["Policy"].(map[string]any)["max_duration"])
	require.Equal(t, "evt_1:sub_1", shown["DeliveryID"])
	var back workflows.DeliveryInput
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, in, back)

	old := `{"DeliveryID":"evt_1:sub_1","EventID":"evt_1","EventType":"order.created","SubscriptionID":"sub_1",
		"URL":"https://example.com/hook","Policy":{"initial_interval":5000000000,"backoff_coefficient":2,
		"max_interval":3600000000000,"max_attempts":0,"max_duration":259200000000000},
		"AttemptTimeout":15000000000,"FailedRetention":86400000000000,"State":null}`
	var decoded workflows.DeliveryInput
	require.NoError(t, json.Unmarshal([]byte(old), &decoded))
	require.Equal(t, in, decoded)
}

// The fairness key is the application id as it is, which the UI shows;
// one longer than Temporal's 64 bytes is cut and told apart by a hash, so
// that two long ids with a common prefix do not share a turn.
func TestFairnessKeyIsTheApplication(t *testing.T) {
	require.Equal(t, "acme", workflows.FairnessKey("acme"))
	require.Equal(t, "default", workflows.FairnessKey(""), "inputs recorded before applications belong to default")
	long := strings.Repeat("a", 128)
	k1, k2 := workflows.FairnessKey(long), workflows.FairnessKey(long[:127]+"b")
	require.Len(t, k1, 64)
	require.Len(t, k2, 64)
	require.NotEqual(t, k1, k2)
	require.Equal(t, long[:47], k1[:47])
	require.Equal(t, k1, workflows.FairnessKey(long), "the same on every call: replay and every process agree")
	exact := strings.Repeat("x", 64)
	require.Equal(t, exact, workflows.FairnessKey(exact))
	require.Equal(t, temporal.Priority{FairnessKey: "acme"}, workflows.Priority("acme"))
}

// A recovery takes turns as its application too.
func TestARecoveryStartsWithItsApplicationsFairnessKey(t *testing.T) {
	opts := workflows.RecoverStartOptions(workflows.RecoverInput{ApplicationID: "acme", SubscriptionID: "sub_1"}, "recover:acme/sub_1", "hookflow")
	require.Equal(t, temporal.Priority{FairnessKey: "acme"}, opts.Priority)
}
