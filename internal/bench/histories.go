package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/workflows"
)

// checkedHistories bounds how many histories are read event by event; the
// rest are counted from visibility, whose HistoryLength is the same count.
const checkedHistories = 200

func closedQuery(eventType string) string {
	return fmt.Sprintf("%s = '%s' AND ExecutionStatus != 'Running'", workflows.AttrEventType.GetName(), eventType)
}

// waitClosed waits until visibility shows every delivery workflow of the
// scenario closed and no event workflow running: only then do history
// lengths and CPU times include all the work.
func waitClosed(ctx context.Context, c client.Client, eventType string, deliveries int) error {
	running := fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running'", workflows.AttrEventType.GetName(), eventType)
	closedDeliveries := fmt.Sprintf("WorkflowType = '%s' AND %s", workflows.DeliveryWorkflowName, closedQuery(eventType))
	deadline := time.Now().Add(5 * time.Minute)
	var last string
	for {
		r, err1 := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: running})
		d, err2 := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: closedDeliveries})
		switch {
		case err1 != nil:
			last = err1.Error()
		case err2 != nil:
			last = err2.Error()
		case r.GetCount() == 0 && d.GetCount() >= int64(deliveries):
			return nil
		default:
			last = fmt.Sprintf("%d running, %d of %d deliveries closed", r.GetCount(), d.GetCount(), deliveries)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("workflows did not close: %s", last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("workflows did not close: %s", last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// countHistories sums the history events of every workflow run of the
// scenario (every continue-as-new run of the event workflows and every
// delivery) and reads the event workflows' histories themselves, looking
// for failed workflow tasks.
func countHistories(ctx context.Context, c client.Client, eventType string, res *Result) error {
	var (
		infos []*workflowpb.WorkflowExecutionInfo
		token []byte
	)
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: closedQuery(eventType), PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return fmt.Errorf("list workflows: %w", err)
		}
		infos = append(infos, page.GetExecutions()...)
		if token = page.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	deliveries := 0
	for _, info := range infos {
		switch info.GetType().GetName() {
		case workflows.EventWorkflowName:
			res.EventRuns++
			res.MaxEventRunEvents = max(res.MaxEventRunEvents, info.GetHistoryLength())
			res.MaxEventRunBytes = max(res.MaxEventRunBytes, info.GetHistorySizeBytes())
		case workflows.DeliveryWorkflowName:
			deliveries++
		}
	}
	checked := 0
	for _, info := range infos {
		n := int(info.GetHistoryLength())
		// Every event run is read (they are the ones near Temporal's
		// limits) up to the bound, and a few deliveries besides.
		read := checked < checkedHistories && (info.GetType().GetName() == workflows.EventWorkflowName || checked < 20)
		if read || n == 0 {
			events, failures, err := readHistory(ctx, c, info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId(),
				info.GetType().GetName() == workflows.EventWorkflowName, res)
			if err != nil {
				return err
			}
			if n != 0 && n != events {
				return fmt.Errorf("visibility says %s has %d history events, its history has %d", info.GetExecution().GetWorkflowId(), n, events)
			}
			n = events
			res.WorkflowTaskFailures += failures
			checked++
		}
		res.HistoryEvents += n
		if info.GetType().GetName() == workflows.EventWorkflowName {
			res.EventRunEvents += n
		}
	}
	res.HistoriesChecked = checked
	if deliveries > 0 {
		res.EventsPerDelivery = float64(res.HistoryEvents) / float64(deliveries)
	}
	return nil
}

// readHistory counts a run's history events and its failed workflow tasks
// and child starts, noting their causes in res.
// The event types of the event runs read are counted in
// res.EventRunEventTypes when fanOut is set, to tell where a fan-out's
// events go.
func readHistory(ctx context.Context, c client.Client, workflowID, runID string, fanOut bool, res *Result) (events, failures int, err error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return 0, 0, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		events++
		if fanOut {
			if res.EventRunEventTypes == nil {
				res.EventRunEventTypes = map[string]int{}
			}
			res.EventRunEventTypes[strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_")]++
		}
		cause := ""
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			cause = "workflow task failed: " + ev.GetWorkflowTaskFailedEventAttributes().GetCause().String()
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
			cause = "child start failed: " + ev.GetStartChildWorkflowExecutionFailedEventAttributes().GetCause().String()
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			cause = "workflow task timed out: " + ev.GetWorkflowTaskTimedOutEventAttributes().GetTimeoutType().String()
		}
		if cause != "" {
			failures++
			if res.FailureCauses == nil {
				res.FailureCauses = map[string]int{}
			}
			res.FailureCauses[cause]++
		}
	}
	return events, failures, nil
}

// countRecoveryHistories adds the history events of every run of the
// recovery workflows of subID to res: the cost of the recovery itself,
// beside the deliveries it started.
func countRecoveryHistories(ctx context.Context, c client.Client, subID string, res *Result) error {
	query := fmt.Sprintf("WorkflowType = '%s' AND %s = '%s' AND ExecutionStatus != 'Running'",
		workflows.RecoverWorkflowName, workflows.AttrSubscriptionID.GetName(), subID)
	var token []byte
	for {
		page, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return fmt.Errorf("list recovery workflows: %w", err)
		}
		for _, info := range page.GetExecutions() {
			res.RecoveryRuns++
			res.RecoveryEvents += int(info.GetHistoryLength())
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if res.RecoveryRuns == 0 {
		return fmt.Errorf("no closed recovery workflow of %s in visibility", subID)
	}
	n := max(res.Delivered, 1)
	res.RecoveryEventsPerResend = float64(res.RecoveryEvents) / float64(n)
	res.HistoryEvents += res.RecoveryEvents
	res.EventsPerDelivery = float64(res.HistoryEvents) / float64(n)
	return nil
}
