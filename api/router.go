// Package api is Hookflow's HTTP API (JSON under /v1). Handlers bind and
// validate a request, make one call on the service, and render its result
// or its error in the contract's shape.
package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/service"
)

// Deps is what the API needs.
type Deps struct {
	Service *service.Service
	// MaxBodyBytes caps request bodies; 413 past it.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// APIKeys are the admin keys, accepted as bearer tokens on every route;
	// empty lets every request in as admin, except one that presents an
	// application token, which is that token.
	APIKeys []string
	// Codec, when set, serves the Temporal remote codec protocol under
	// /v1/codec (POST .../encode, .../decode, OPTIONS preflight). It does its
	// own CORS and bearer authentication, so it sits outside any /v1
	// middleware: a browser's preflight carries no credentials.
	Codec http.Handler
	// Metrics, when set, counts and times every request and is served at
	// GET /metrics.
	Metrics *metrics.Metrics
	// PublicURL (HOOKFLOW_PUBLIC_URL) is the base URL of portal links;
	// empty: the scheme and Host of the request that asks for one.
	PublicURL string
}

type handlers struct {
	svc      *service.Service
	validate *validator.Validate
	maxBody  int64
	log      *slog.Logger
	keys     keyring
	// publicURL: see Deps.PublicURL.
	publicURL string
}

// NewRouter builds the API's routes. Who may call which is decided by one
// middleware, authorize, from one table of rules (access.go): health
// checks, metrics, the OpenAPI document and the codec (which does its own
// authentication, and must answer CORS preflight without a key) are open;
// everything else needs an admin key or, on its own application's routes,
// an application token.
func NewRouter(d Deps) *gin.Engine {
	h := &handlers{svc: d.Service, validate: newValidator(), maxBody: d.MaxBodyBytes, log: d.Logger, keys: newKeyring(d.APIKeys), publicURL: d.PublicURL}
	if h.log == nil {
		h.log = slog.Default()
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Metrics first: it sees the status every later handler settles on.
	// authorize last: every route, the open ones included, has its rule in
	// one table (access.go).
	r.Use(d.Metrics.GinMiddleware(), h.recoverJSON, h.logErrors, h.authorize)
	r.NoRoute(func(c *gin.Context) {
		writeError(c, newError(http.StatusNotFound, CodeNotFound, "no route "+c.Request.Method+" "+c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		writeError(c, newError(http.StatusMethodNotAllowed, "method_not_allowed", c.Request.Method+" is not allowed on "+c.Request.URL.Path))
	})

	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	r.GET("/openapi.yaml", serveOpenAPI)
	if d.Metrics != nil {
		r.GET("/metrics", gin.WrapH(d.Metrics.Handler()))
	}

	v1 := r.Group("/v1")
	v1.POST("/event-types", h.createEventType)
	v1.GET("/event-types", h.listEventTypes)
	v1.GET("/event-types/:name", h.getEventType)
	v1.PUT("/event-types/:name", h.putEventType)
	v1.POST("/applications", h.createApplication)
	v1.GET("/applications", h.listApplications)
	v1.GET("/applications/:app", h.getApplication)
	v1.PATCH("/applications/:app", h.patchApplication)
	v1.DELETE("/applications/:app", h.deleteApplication)
	// The routes of an application's resources, twice: at the top level
	// for the application default, and under the application's path.
	h.applicationRoutes(v1)
	app := v1.Group("/applications/:app", h.requireApplication)
	h.applicationRoutes(app)
	app.POST("/tokens", h.mintToken)
	app.GET("/tokens", h.listTokens)
	app.DELETE("/tokens/:id", h.revokeToken)
	app.POST("/portal-access", h.portalAccess)

	if d.Codec != nil {
		r.POST("/v1/codec/*path", gin.WrapH(d.Codec))
		r.OPTIONS("/v1/codec/*path", gin.WrapH(d.Codec))
	}
	return r
}

// applicationRoutes registers every route of one application's
// subscriptions, events and deliveries on g; handlers read the application
// with appOf. This is the one place such a route is added, so both the
// top-level shorthand and the application's own path get it.
func (h *handlers) applicationRoutes(g *gin.RouterGroup) {
	g.POST("/subscriptions", h.createSubscription)
	g.GET("/subscriptions", h.listSubscriptions)
	g.GET("/subscriptions/:id", h.getSubscription)
	g.PATCH("/subscriptions/:id", h.patchSubscription)
	g.DELETE("/subscriptions/:id", h.deleteSubscription)
	g.GET("/subscriptions/:id/secret", h.getSubscriptionSecret)
	g.POST("/subscriptions/:id/rotate-secret", h.rotateSecret)
	g.POST("/subscriptions/:id/test", h.testSubscription)
	g.POST("/events", h.postEvent)
	g.GET("/events", h.listEvents)
	g.GET("/events/:id", h.getEvent)
	g.POST("/events/:id/cancel", h.cancelEvent)
	g.GET("/deliveries", h.listDeliveries)
	g.GET("/deliveries/:id", h.getDelivery)
	g.POST("/deliveries/:id/cancel", h.cancelDelivery)
	g.POST("/deliveries/:id/retry", h.retryDelivery)
	g.POST("/deliveries/:id/resend", h.resendDelivery)
	g.POST("/subscriptions/:id/recover", h.recoverSubscription)
	g.GET("/recoveries/:id", h.getRecovery)
	g.POST("/recoveries/:id/cancel", h.cancelRecovery)
}

// recoverJSON answers a panic with the contract's 500 instead of an empty
// body, and logs it.
func (h *handlers) recoverJSON(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic in handler", "path", c.Request.URL.Path, "panic", p)
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": newError(http.StatusInternalServerError, CodeInternal, "internal error")})
		}
	}()
	c.Next()
}

func (h *handlers) logErrors(c *gin.Context) {
	c.Next()
	for _, err := range c.Errors {
		h.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err.Err)
	}
}

func (h *handlers) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

type readiness struct {
	Status               string  `json:"status"`
	Temporal             string  `json:"temporal"`
	Dispatch             string  `json:"dispatch"`
	PendingEvents        int     `json:"pending_events"`
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
}

// readyz is ready while events can be accepted, that is while the
// database answers; Temporal down stalls dispatch, which the body says,
// but the API keeps accepting.
func (h *handlers) readyz(c *gin.Context) {
	r, err := h.svc.Ready(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, readiness{
		Status: "ready", Temporal: r.Temporal, Dispatch: r.Dispatch,
		PendingEvents: r.PendingEvents, OldestPendingSeconds: r.OldestPending.Seconds(),
	})
}
