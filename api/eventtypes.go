package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

type createEventTypeRequest struct {
	Name        string          `json:"name" validate:"required,max=256,event_type"`
	Description string          `json:"description" validate:"max=1024"`
	Schema      json.RawMessage `json:"schema"`
}

type putEventTypeRequest struct {
	Description string          `json:"description" validate:"max=1024"`
	Schema      json.RawMessage `json:"schema"`
}

type eventTypeResponse struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

func toEventTypeResponse(t store.EventType) eventTypeResponse {
	return eventTypeResponse{Name: t.Name, Description: t.Description, Schema: t.Schema, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func (h *handlers) createEventType(c *gin.Context) {
	var req createEventTypeRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	t, err := h.svc.CreateEventType(c.Request.Context(), service.NewEventType{Name: req.Name, Description: req.Description, Schema: req.Schema})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, toEventTypeResponse(t))
}

func (h *handlers) putEventType(c *gin.Context) {
	name := c.Param("name")
	if err := h.validate.Var(name, "max=256,event_type"); err != nil {
		writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
			FieldError{Field: "name", Rule: "event_type", Message: messages["event_type"]}))
		return
	}
	var req putEventTypeRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	t, created, err := h.svc.PutEventType(c.Request.Context(), service.NewEventType{Name: name, Description: req.Description, Schema: req.Schema})
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, toEventTypeResponse(t))
}

func (h *handlers) getEventType(c *gin.Context) {
	t, err := h.svc.GetEventType(c.Request.Context(), c.Param("name"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toEventTypeResponse(t))
}

type listEventTypesQuery struct {
	Limit  int    `form:"limit" json:"limit" validate:"omitempty,gte=1,lte=100"`
	Cursor string `form:"cursor" json:"cursor" validate:"omitempty,max=256"`
}

func (h *handlers) listEventTypes(c *gin.Context) {
	var q listEventTypesQuery
	if err := h.bindQuery(c, &q); err != nil {
		writeError(c, err)
		return
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	ts, next, err := h.svc.ListEventTypes(c.Request.Context(), store.ListEventTypesParams{After: q.Cursor, Limit: q.Limit})
	if err != nil {
		writeError(c, err)
		return
	}
	data := make([]eventTypeResponse, 0, len(ts))
	for _, t := range ts {
		data = append(data, toEventTypeResponse(t))
	}
	c.JSON(http.StatusOK, gin.H{"data": data, "next_cursor": next})
}
