package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/hookflow/hookflow/activities"
)

// DeleteApplicationInput names the deleted application; After and
// Cancelled carry the progress across continue-as-new.
type DeleteApplicationInput struct {
	ApplicationID string
	After         string
	Cancelled     int
}

// DeleteApplicationResult counts what was cancelled.
type DeleteApplicationResult struct {
	Cancelled int `json:"cancelled"`
}

// Tuning of DeleteApplication. A page is one activity that signals each of
// its deliveries, so it is sized to finish well within its timeout; a run
// continues as new after pagesPerRun pages to keep its history short.
const (
	cancelPage  = 200
	pagesPerRun = 100
)

// DeleteApplication cancels every unfinished delivery of a deleted
// application, a page at a time, by id. The application's subscriptions
// were deleted with it, so no delivery is added behind the cursor and the
// paging ends; a delivery that starts after its page was read finds its
// subscription gone at its first attempt and sends nothing.
func DeleteApplication(ctx workflow.Context, in DeleteApplicationInput) (DeleteApplicationResult, error) {
	if in.ApplicationID == "" {
		return DeleteApplicationResult{}, temporal.NewNonRetryableApplicationError("application id is required", "InvalidInput", nil)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		Summary:             "cancel unfinished deliveries of app " + in.ApplicationID,
	})
	for page := 0; page < pagesPerRun; page++ {
		var res activities.CancelApplicationDeliveriesResult
		if err := workflow.ExecuteActivity(actx, activities.CancelApplicationDeliveriesName, activities.CancelApplicationDeliveriesInput{
			ApplicationID: in.ApplicationID, After: in.After, Limit: cancelPage,
		}).Get(ctx, &res); err != nil {
			return DeleteApplicationResult{}, err
		}
		in.Cancelled += res.Cancelled
		if res.Last == "" {
			return DeleteApplicationResult{Cancelled: in.Cancelled}, nil
		}
		in.After = res.Last
	}
	return DeleteApplicationResult{}, workflow.NewContinueAsNewError(ctx, DeleteApplicationWorkflowName, in)
}
