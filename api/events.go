package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/service"
)

type postEventRequest struct {
	ID   string          `json:"id" validate:"omitempty,event_id"`
	Type string          `json:"type" validate:"required,max=256,event_type"`
	Data json.RawMessage `json:"data" validate:"required"`
}

type deliverySummary struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscription_id"`
	Status         string `json:"status"`
	Attempts       int    `json:"attempts"`
	WorkflowID     string `json:"workflow_id"`
}

type eventResponse struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
	WorkflowID string            `json:"workflow_id"`
	RunID      string            `json:"run_id"`
	Deliveries []deliverySummary `json:"deliveries"`
}

func (h *handlers) postEvent(c *gin.Context) {
	var req postEventRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if len(req.Data) == 0 || req.Data[0] != '{' {
		writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
			FieldError{Field: "data", Rule: "object", Message: "must be a JSON object"}))
		return
	}
	id := req.ID
	if key := c.GetHeader("Idempotency-Key"); key != "" {
		if !ids.Valid(key) {
			writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
				FieldError{Field: "Idempotency-Key", Rule: "event_id", Message: messages["event_id"]}))
			return
		}
		if id != "" && id != key {
			writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
				FieldError{Field: "id", Rule: "eqfield", Message: "must equal the Idempotency-Key header when both are given"}))
			return
		}
		id = key
	}
	acc, err := h.svc.Publish(c.Request.Context(), appOf(c), service.NewEvent{ID: id, Type: req.Type, Data: req.Data})
	if err != nil {
		writeError(c, err)
		return
	}
	if acc.Replayed {
		// As Stripe does: this answer repeats the one given to an earlier
		// post of the same event.
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusAccepted, acc)
}

func (h *handlers) getEvent(c *gin.Context) {
	view, err := h.svc.GetEvent(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	resp := eventResponse{
		ID: view.Event.ID, Type: view.Event.Type, Status: view.Status, CreatedAt: view.Event.CreatedAt,
		WorkflowID: view.Event.WorkflowID, RunID: view.Event.RunID, Deliveries: make([]deliverySummary, 0, len(view.Deliveries)),
	}
	for _, d := range view.Deliveries {
		resp.Deliveries = append(resp.Deliveries, deliverySummary{
			ID: d.ID, SubscriptionID: d.SubscriptionID, Status: d.Status, Attempts: d.Attempts, WorkflowID: d.WorkflowID,
		})
	}
	c.JSON(http.StatusOK, resp)
}
