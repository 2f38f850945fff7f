package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

type mintTokenRequest struct {
	Description      string   `json:"description" validate:"max=1024"`
	ExpiresInSeconds *float64 `json:"expires_in_seconds" validate:"omitempty,gte=1,lte=31536000"`
}

type mintTokenResponse struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

type tokenResponse struct {
	ID            string     `json:"id"`
	ApplicationID string     `json:"application_id"`
	Description   string     `json:"description"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
}

// mintToken answers the token itself, once: nothing keeps it but its hash.
func (h *handlers) mintToken(c *gin.Context) {
	var req mintTokenRequest
	if err := h.bindOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	t, err := h.svc.MintAppToken(c.Request.Context(), c.Param("app"), service.NewAppToken{
		Description: req.Description, ExpiresIn: seconds(req.ExpiresInSeconds),
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, mintTokenResponse{ID: t.ID, Token: t.Token, ExpiresAt: t.ExpiresAt})
}

type listTokensQuery struct {
	Limit  int    `form:"limit" json:"limit" validate:"omitempty,gte=1,lte=100"`
	Cursor string `form:"cursor" json:"cursor" validate:"omitempty,max=128"`
}

func (h *handlers) listTokens(c *gin.Context) {
	var q listTokensQuery
	if err := h.bindQuery(c, &q); err != nil {
		writeError(c, err)
		return
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	ts, next, err := h.svc.ListAppTokens(c.Request.Context(), store.ListAppTokensParams{
		ApplicationID: c.Param("app"), After: q.Cursor, Limit: q.Limit,
	})
	if err != nil {
		writeError(c, err)
		return
	}
	data := make([]tokenResponse, 0, len(ts))
	for _, t := range ts {
		r := tokenResponse{ID: t.ID, ApplicationID: t.ApplicationID, Description: t.Description, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
		if !t.RevokedAt.IsZero() {
			at := t.RevokedAt
			r.RevokedAt = &at
		}
		data = append(data, r)
	}
	c.JSON(http.StatusOK, gin.H{"data": data, "next_cursor": next})
}

func (h *handlers) revokeToken(c *gin.Context) {
	if err := h.svc.RevokeAppToken(c.Request.Context(), c.Param("app"), c.Param("id")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
