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
	// DeliverAt is read as text, so that a bad time is a 400 naming it.
	DeliverAt string `json:"deliver_at"`
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
	DeliverAt  *time.Time        `json:"deliver_at"`
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
	var deliverAt time.Time
	if req.DeliverAt != "" {
		t, err := time.Parse(time.RFC3339Nano, req.DeliverAt)
		if err != nil {
			writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
				FieldError{Field: "deliver_at", Rule: "rfc3339", Message: "must be an RFC 3339 time, like 2026-03-01T14:00:00Z"}))
			return
		}
		deliverAt = t.UTC().Truncate(time.Microsecond) // what the store keeps
	}
	acc, err := h.svc.Publish(c.Request.Context(), appOf(c), service.NewEvent{ID: id, Type: req.Type, Data: req.Data, DeliverAt: deliverAt})
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
	if !view.Event.DeliverAt.IsZero() {
		resp.DeliverAt = &view.Event.DeliverAt
	}
	for _, d := range view.Deliveries {
		resp.Deliveries = append(resp.Deliveries, deliverySummary{
			ID: d.ID, SubscriptionID: d.SubscriptionID, Status: d.Status, Attempts: d.Attempts, WorkflowID: d.WorkflowID,
		})
	}
	c.JSON(http.StatusOK, resp)
}
