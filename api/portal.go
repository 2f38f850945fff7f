package api

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

type portalAccessRequest struct {
	ExpiresInSeconds *float64 `json:"expires_in_seconds" validate:"omitempty,gte=1,lte=31536000"`
}

type portalAccessResponse struct {
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// portalAccess mints an application token and the portal link that
// carries it. The token rides in the URL fragment, which a browser never
// sends to a server, so that it reaches no access log or proxy on the way.
func (h *handlers) portalAccess(c *gin.Context) {
	var req portalAccessRequest
	if err := h.bindOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	app := c.Param("app")
	pa, err := h.svc.MintPortalAccess(c.Request.Context(), app, seconds(req.ExpiresInSeconds))
	if err != nil {
		writeError(c, err)
		return
	}
	frag := url.Values{"token": {pa.Token}, "app": {app}}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, portalAccessResponse{
		URL: h.publicBase(c) + "/portal/#" + frag.Encode(), Token: pa.Token, ExpiresAt: pa.ExpiresAt,
	})
}

// publicBase is the base URL portal links start with: HOOKFLOW_PUBLIC_URL
// when set (behind a proxy, where the Host the API sees is not the one
// users reach), else the scheme and Host of the admin's own request, which
// is right when the admin reaches Hookflow the way subscribers will.
func (h *handlers) publicBase(c *gin.Context) string {
	if h.publicURL != "" {
		return strings.TrimRight(h.publicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// testSubscription sends an event of type hookflow.test to the one
// subscription, and to no other (see service.SendTestEvent): 202 with the
// event, whose deliveries GET .../events/{id} shows.
func (h *handlers) testSubscription(c *gin.Context) {
	acc, err := h.svc.SendTestEvent(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, acc)
}
