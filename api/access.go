package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/access"
)

// CodeForbidden is the 403 of a credential that is good but not for the
// route: an application token outside its application's routes.
const CodeForbidden = "forbidden"

// rules is the one decision table of the API: every route, by method and
// template as gin names it (c.FullPath()), and what it asks of a caller.
// A route missing here is refused to everyone (access.NoRule), and the
// route-by-route test in access_test.go fails, so a new route cannot ship
// open by accident.
//
// access.App routes are those a consumer may use on its own application:
// reading it, its subscriptions, reading and cancelling its events, and
// steering its deliveries. Publishing events, managing tokens and
// applications, event types and every top-level route (shorthands for the
// application default, which no token belongs to) need an admin key.
var rules = map[string]access.Rule{
	"GET /healthz":            access.Public,
	"GET /readyz":             access.Public,
	"GET /metrics":            access.Public,
	"GET /openapi.yaml":       access.Public,
	"POST /v1/codec/*path":    access.Public, // the codec authenticates on its own
	"OPTIONS /v1/codec/*path": access.Public, // a browser's preflight carries no credentials

	"POST /v1/subscriptions":                   access.AdminOnly,
	"GET /v1/subscriptions":                    access.AdminOnly,
	"GET /v1/subscriptions/:id":                access.AdminOnly,
	"PATCH /v1/subscriptions/:id":              access.AdminOnly,
	"DELETE /v1/subscriptions/:id":             access.AdminOnly,
	"GET /v1/subscriptions/:id/secret":         access.AdminOnly,
	"POST /v1/subscriptions/:id/rotate-secret": access.AdminOnly,
	"POST /v1/subscriptions/:id/test":          access.AdminOnly,
	"POST /v1/event-types":                     access.AdminOnly,
	"GET /v1/event-types":                      access.AdminOnly,
	"GET /v1/event-types/:name":                access.AdminOnly,
	"PUT /v1/event-types/:name":                access.AdminOnly,
	"POST /v1/events":                          access.AdminOnly,
	"GET /v1/events":                           access.AdminOnly,
	"GET /v1/deliveries":                       access.AdminOnly,
	"GET /v1/events/:id":                       access.AdminOnly,
	"POST /v1/events/:id/cancel":               access.AdminOnly,
	"GET /v1/deliveries/:id":                   access.AdminOnly,
	"POST /v1/deliveries/:id/cancel":           access.AdminOnly,
	"POST /v1/deliveries/:id/retry":            access.AdminOnly,
	"POST /v1/deliveries/:id/resend":           access.AdminOnly,
	"POST /v1/subscriptions/:id/recover":       access.AdminOnly,
	"GET /v1/recoveries/:id":                   access.AdminOnly,
	"POST /v1/recoveries/:id/cancel":           access.AdminOnly,

	"POST /v1/applications":                   access.AdminOnly,
	"GET /v1/applications":                    access.AdminOnly,
	"GET /v1/applications/:app":               access.App,
	"PATCH /v1/applications/:app":             access.AdminOnly,
	"DELETE /v1/applications/:app":            access.AdminOnly,
	"POST /v1/applications/:app/tokens":       access.AdminOnly,
	"GET /v1/applications/:app/tokens":        access.AdminOnly,
	"DELETE /v1/applications/:app/tokens/:id": access.AdminOnly,
	// A portal link is a token: only an admin hands one out.
	"POST /v1/applications/:app/portal-access": access.AdminOnly,

	"POST /v1/applications/:app/subscriptions":                   access.App,
	"GET /v1/applications/:app/subscriptions":                    access.App,
	"GET /v1/applications/:app/subscriptions/:id":                access.App,
	"PATCH /v1/applications/:app/subscriptions/:id":              access.App,
	"DELETE /v1/applications/:app/subscriptions/:id":             access.App,
	"GET /v1/applications/:app/subscriptions/:id/secret":         access.App,
	"POST /v1/applications/:app/subscriptions/:id/rotate-secret": access.App,
	"POST /v1/applications/:app/subscriptions/:id/test":          access.App,
	"POST /v1/applications/:app/events":                          access.AdminOnly,
	"GET /v1/applications/:app/events":                           access.App,
	"GET /v1/applications/:app/deliveries":                       access.App,
	"GET /v1/applications/:app/events/:id":                       access.App,
	"POST /v1/applications/:app/events/:id/cancel":               access.App,
	"GET /v1/applications/:app/deliveries/:id":                   access.App,
	"POST /v1/applications/:app/deliveries/:id/cancel":           access.App,
	"POST /v1/applications/:app/deliveries/:id/retry":            access.App,
	"POST /v1/applications/:app/deliveries/:id/resend":           access.App,
	"POST /v1/applications/:app/subscriptions/:id/recover":       access.App,
	"GET /v1/applications/:app/recoveries/:id":                   access.App,
	"POST /v1/applications/:app/recoveries/:id/cancel":           access.App,
}

// ruleFor is the rule of a route; NoRule when the table has none.
func ruleFor(method, template string) access.Rule {
	return rules[method+" "+template]
}

// authorize is the one authentication and authorization middleware: it
// finds the route's rule, works out who the caller is from the
// Authorization header (never from the query string), and lets access.Allow
// decide. Tokens are looked up on every request, without a cache, so that
// a revoked token is refused on its next request.
func (h *handlers) authorize(c *gin.Context) {
	template := c.FullPath()
	if template == "" {
		// No route matched: NoRoute or NoMethod answers, and serves nothing.
		c.Next()
		return
	}
	rule := ruleFor(c.Request.Method, template)
	if rule == access.Public {
		c.Next()
		return
	}
	p, err := h.principal(c)
	if err != nil {
		writeError(c, err)
		return
	}
	switch access.Allow(rule, p, c.Param("app")) {
	case access.Allowed:
		c.Next()
	case access.Unauthenticated:
		c.Header("WWW-Authenticate", `Bearer realm="hookflow"`)
		writeError(c, newError(http.StatusUnauthorized, CodeUnauthorized,
			"missing, unknown, expired or revoked credentials: send the header Authorization: Bearer KEY, with KEY one of HOOKFLOW_API_KEYS or a live application token"))
	default:
		msg := "an application token reaches only its own application's routes under /v1/applications/{app}/, and neither publishes events nor manages tokens or applications"
		if rule == access.NoRule {
			msg = "no access rule covers " + c.Request.Method + " " + template + ": refused to everyone"
		}
		writeError(c, newError(http.StatusForbidden, CodeForbidden, msg))
	}
}

// principal is who the request comes from. Admin keys are compared in
// constant time (keyring.valid); a bearer credential shaped like an
// application token is looked up by its hash. Without admin keys
// configured (development) a request is admin, as it always was, unless it
// presents an application token: then it is that token, so that tokens can
// be tried on a development server.
func (h *handlers) principal(c *gin.Context) (access.Principal, error) {
	devMode := len(h.keys) == 0
	scheme, cred, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case ok && strings.EqualFold(scheme, "Bearer") && cred != "":
	case devMode:
		return access.Principal{Kind: access.Admin}, nil
	case c.GetHeader("Authorization") == "":
		return access.Principal{Kind: access.Anonymous}, nil
	default:
		return access.Principal{Kind: access.Invalid}, nil
	}
	if h.keys.valid(cred) {
		return access.Principal{Kind: access.Admin}, nil
	}
	if access.IsToken(cred) {
		return h.svc.ResolveToken(c.Request.Context(), cred)
	}
	if devMode {
		return access.Principal{Kind: access.Admin}, nil
	}
	return access.Principal{Kind: access.Invalid}, nil
}
