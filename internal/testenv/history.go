package testenv

import (
	"context"
	"os"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

// History fetches the whole history of a workflow's latest run.
func History(ctx context.Context, c client.Client, workflowID, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, 0)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, ev)
	}
	return h, nil
}

// SaveHistory writes a workflow's history as JSON, in the form
// worker.WorkflowReplayer reads.
func SaveHistory(ctx context.Context, c client.Client, workflowID, runID, path string) error {
	h, err := History(ctx, c, workflowID, runID)
	if err != nil {
		return err
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// VersionMarkers returns the change ids and versions of the
// workflow.GetVersion markers in h, so that a test can check that a
// recorded history covers a versioned branch.
func VersionMarkers(h *historypb.History) (map[string]int, error) {
	versions := map[string]int{}
	dc := converter.GetDefaultDataConverter()
	for _, ev := range h.GetEvents() {
		m := ev.GetMarkerRecordedEventAttributes()
		if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED || m.GetMarkerName() != "Version" {
			continue
		}
		var change string
		var version int
		if err := dc.FromPayloads(m.GetDetails()["change-id"], &change); err != nil {
			return nil, err
		}
		if err := dc.FromPayloads(m.GetDetails()["version"], &version); err != nil {
			return nil, err
		}
		versions[change] = version
	}
	return versions, nil
}
