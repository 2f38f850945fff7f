package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

// appOf is the application a request addresses: the :app of a route under
// /v1/applications/:app/, or default for the top-level shorthands.
func appOf(c *gin.Context) string {
	if app := c.Param("app"); app != "" {
		return app
	}
	return store.DefaultApplication
}

// requireApplication answers 404 application_not_found when the :app of
// the path does not exist, before the route's handler runs, so that an
// unknown application is never mistaken for an unknown resource in it.
func (h *handlers) requireApplication(c *gin.Context) {
	if err := h.svc.CheckApplication(c.Request.Context(), appOf(c)); err != nil {
		writeError(c, err)
		return
	}
	c.Next()
}

type createApplicationRequest struct {
	ID       string            `json:"id" validate:"omitempty,url_safe_id"`
	Name     string            `json:"name" validate:"required,max=256"`
	Metadata map[string]string `json:"metadata" validate:"max=32,dive,keys,required,max=256,endkeys,max=4096"`
}

type patchApplicationRequest struct {
	Name     optional[string]            `json:"name" validate:"omitnil,required,max=256"`
	Metadata optional[map[string]string] `json:"metadata" validate:"omitnil,max=32,dive,keys,required,max=256,endkeys,max=4096"`
}

type applicationResponse struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

func toApplicationResponse(a store.Application) applicationResponse {
	r := applicationResponse{ID: a.ID, Name: a.Name, Metadata: a.Metadata, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	return r
}

func (h *handlers) createApplication(c *gin.Context) {
	var req createApplicationRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	a, err := h.svc.CreateApplication(c.Request.Context(), service.NewApplication{ID: req.ID, Name: req.Name, Metadata: req.Metadata})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, toApplicationResponse(a))
}

func (h *handlers) getApplication(c *gin.Context) {
	a, err := h.svc.GetApplication(c.Request.Context(), appOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toApplicationResponse(a))
}

type listApplicationsQuery struct {
	Limit  int    `form:"limit" json:"limit" validate:"omitempty,gte=1,lte=100"`
	Cursor string `form:"cursor" json:"cursor" validate:"omitempty,max=128"`
}

func (h *handlers) listApplications(c *gin.Context) {
	var q listApplicationsQuery
	if err := h.bindQuery(c, &q); err != nil {
		writeError(c, err)
		return
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	apps, next, err := h.svc.ListApplications(c.Request.Context(), store.ListApplicationsParams{After: q.Cursor, Limit: q.Limit})
	if err != nil {
		writeError(c, err)
		return
	}
	data := make([]applicationResponse, 0, len(apps))
	for _, a := range apps {
		data = append(data, toApplicationResponse(a))
	}
	c.JSON(http.StatusOK, gin.H{"data": data, "next_cursor": next})
}

func (h *handlers) patchApplication(c *gin.Context) {
	var req patchApplicationRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Name.Null {
		writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
			FieldError{Field: "name", Rule: "required", Message: "cannot be removed (null); leave it out to keep it"}))
		return
	}
	p := service.ApplicationPatch{SetMetadata: req.Metadata.Set, Metadata: req.Metadata.Value}
	if req.Name.has() {
		p.Name = &req.Name.Value
	}
	a, err := h.svc.UpdateApplication(c.Request.Context(), appOf(c), p)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toApplicationResponse(a))
}

type applicationDeletionResponse struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// deleteApplication answers 202: the application and its subscriptions are
// gone when it answers, and a workflow goes on cancelling the application's
// unfinished deliveries.
func (h *handlers) deleteApplication(c *gin.Context) {
	del, err := h.svc.DeleteApplication(c.Request.Context(), appOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, applicationDeletionResponse{ID: del.ID, Status: "deleted", WorkflowID: del.WorkflowID, RunID: del.RunID})
}
