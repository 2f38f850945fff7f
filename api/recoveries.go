package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

// resendResponse answers a resend: the new delivery, which GET
// .../deliveries/{id} shows like any other.
type resendResponse struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
}

func (h *handlers) resendDelivery(c *gin.Context) {
	r, err := h.svc.ResendDelivery(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, resendResponse{ID: r.ID, WorkflowID: r.WorkflowID})
}

// recoverRequest is the window of a recovery. The times are strings so
// that a bad one is a 400 naming its field rather than a JSON error.
type recoverRequest struct {
	Since string `json:"since"`
	Until string `json:"until"`
}

type recoveryResponse struct {
	ID             string    `json:"id"`
	SubscriptionID string    `json:"subscription_id"`
	WorkflowID     string    `json:"workflow_id"`
	Status         string    `json:"status"`
	Since          time.Time `json:"since"`
	Until          time.Time `json:"until"`
	Matched        int       `json:"matched"`
	Resent         int       `json:"resent"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func toRecoveryResponse(r store.Recovery) recoveryResponse {
	return recoveryResponse{
		ID: r.ID, SubscriptionID: r.SubscriptionID, WorkflowID: r.WorkflowID, Status: r.Status,
		Since: r.Since, Until: r.Until, Matched: r.Matched, Resent: r.Resent, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func (h *handlers) recoverSubscription(c *gin.Context) {
	var req recoverRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	var sreq service.RecoverRequest
	if req.Since == "" {
		writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "since is required",
			FieldError{Field: "since", Rule: "required", Message: "the start of the window, RFC 3339"}))
		return
	}
	since, err := time.Parse(time.RFC3339Nano, req.Since)
	if err != nil {
		writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "since is not an RFC 3339 time",
			FieldError{Field: "since", Rule: "rfc3339", Message: "an RFC 3339 time such as 2026-03-01T14:00:00Z"}))
		return
	}
	sreq.Since = since
	if req.Until != "" {
		until, err := time.Parse(time.RFC3339Nano, req.Until)
		if err != nil {
			writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "until is not an RFC 3339 time",
				FieldError{Field: "until", Rule: "rfc3339", Message: "an RFC 3339 time such as 2026-03-01T15:00:00Z"}))
			return
		}
		sreq.Until = &until
	}
	rec, err := h.svc.Recover(c.Request.Context(), appOf(c), c.Param("id"), sreq)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, toRecoveryResponse(rec))
}

func (h *handlers) getRecovery(c *gin.Context) {
	rec, err := h.svc.GetRecovery(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toRecoveryResponse(rec))
}

func (h *handlers) cancelRecovery(c *gin.Context) {
	rec, err := h.svc.CancelRecovery(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	resp := toRecoveryResponse(rec)
	if rec.Status == store.RecoveryRunning {
		// The recovery stops at its next step and then says cancelled.
		resp.Status = "cancel_requested"
	}
	c.JSON(http.StatusAccepted, resp)
}
