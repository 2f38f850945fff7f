package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
)

type attemptResponse struct {
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	DurationMs int64     `json:"duration_ms"`
	// StatusCode is null when no answer came (timeout, connection error,
	// cancelled while sending).
	StatusCode      *int   `json:"status_code"`
	Error           string `json:"error"`
	ResponseExcerpt string `json:"response_excerpt"`
}

type deliveryResponse struct {
	ID             string            `json:"id"`
	EventID        string            `json:"event_id"`
	SubscriptionID string            `json:"subscription_id"`
	URL            string            `json:"url"`
	Status         string            `json:"status"`
	Attempts       []attemptResponse `json:"attempts"`
	// NextAttemptAt is null unless the delivery is waiting to try again.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	WorkflowID    string     `json:"workflow_id"`
	RunID         string     `json:"run_id"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// steeredResponse answers a cancel or a retry: the signal was sent to the
// workflow's run run_id (a new run when a retry revived the delivery).
type steeredResponse struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id,omitempty"`
	Status     string `json:"status"`
}

func (h *handlers) getDelivery(c *gin.Context) {
	view, err := h.svc.GetDelivery(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	d := view.Delivery
	resp := deliveryResponse{
		ID: d.ID, EventID: d.EventID, SubscriptionID: d.SubscriptionID, URL: d.URL, Status: d.Status,
		Attempts: make([]attemptResponse, 0, len(view.Attempts)), WorkflowID: d.WorkflowID, RunID: view.RunID, UpdatedAt: d.UpdatedAt,
	}
	if !d.NextAttemptAt.IsZero() {
		resp.NextAttemptAt = &d.NextAttemptAt
	}
	for _, a := range view.Attempts {
		ar := attemptResponse{
			Attempt: a.Attempt, StartedAt: a.StartedAt, DurationMs: a.DurationMs, Error: a.Error, ResponseExcerpt: a.ResponseExcerpt,
		}
		if a.StatusCode != 0 {
			ar.StatusCode = &a.StatusCode
		}
		resp.Attempts = append(resp.Attempts, ar)
	}
	c.JSON(http.StatusOK, resp)
}

func (h *handlers) cancelDelivery(c *gin.Context) {
	st, err := h.svc.CancelDelivery(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toSteeredResponse(st, "cancel_requested"))
}

func (h *handlers) retryDelivery(c *gin.Context) {
	st, err := h.svc.RetryDelivery(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toSteeredResponse(st, "retry_requested"))
}

func toSteeredResponse(st service.Steered, status string) steeredResponse {
	return steeredResponse{ID: st.ID, WorkflowID: st.WorkflowID, RunID: st.RunID, Status: status}
}

// eventCancelResponse answers POST /v1/events/{id}/cancel.
// cancelled_deliveries counts the deliveries signalled (or, never started,
// marked cancelled); it is absent while the event's fan-out is still
// running, since the fan-out then cancels them itself once it has stopped.
type eventCancelResponse struct {
	ID                  string `json:"id"`
	WorkflowID          string `json:"workflow_id"`
	Status              string `json:"status"`
	CancelledDeliveries *int   `json:"cancelled_deliveries,omitempty"`
}

func (h *handlers) cancelEvent(c *gin.Context) {
	res, err := h.svc.CancelEvent(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	resp := eventCancelResponse{ID: res.ID, WorkflowID: res.WorkflowID, Status: "cancel_requested"}
	if !res.FanOutRunning {
		resp.CancelledDeliveries = &res.Cancelled
	}
	c.JSON(http.StatusAccepted, resp)
}
