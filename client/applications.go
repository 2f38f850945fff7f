package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Application is one consumer of the platform: its subscriptions, events,
// deliveries and tokens are its own.
type Application struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Metadata  map[string]string `json:"metadata"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// NewApplication is the body of a create; an empty ID lets Hookflow
// choose one.
type NewApplication struct {
	ID       string            `json:"id,omitempty"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ApplicationPatch is a change; a field left nil keeps its value.
type ApplicationPatch struct {
	Name *string `json:"name,omitempty"`
	// Metadata, when not nil, replaces all of it.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Token is an application token as listed: never its secret part.
type Token struct {
	ID            string     `json:"id"`
	ApplicationID string     `json:"application_id"`
	Description   string     `json:"description"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
}

// MintedToken is the answer to a mint, the only time the token is shown.
type MintedToken struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewToken is the body of a mint; a zero ExpiresIn takes the server's
// default lifetime.
type NewToken struct {
	Description string
	ExpiresIn   time.Duration
}

// Applications are routes of the platform itself, never scoped by ForApp.

// CreateApplication creates an application.
func (c *Client) CreateApplication(ctx context.Context, in NewApplication) (Application, error) {
	var out Application
	err := c.do(ctx, request{method: http.MethodPost, path: "/v1/applications", body: in, out: &out})
	return out, err
}

// ListApplications reads one page of applications.
func (c *Client) ListApplications(ctx context.Context, p ListParams) (Page[Application], error) {
	var out Page[Application]
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/applications", query: p.values(), out: &out})
	return out, err
}

// GetApplication reads one application.
func (c *Client) GetApplication(ctx context.Context, id string) (Application, error) {
	var out Application
	err := c.do(ctx, request{method: http.MethodGet, path: applicationPath(id), out: &out})
	return out, err
}

// UpdateApplication applies p and returns the application as it is now.
func (c *Client) UpdateApplication(ctx context.Context, id string, p ApplicationPatch) (Application, error) {
	var out Application
	err := c.do(ctx, request{method: http.MethodPatch, path: applicationPath(id), body: p, out: &out})
	return out, err
}

// DeleteApplication removes an application with its subscriptions and
// tokens; its unfinished deliveries are cancelled in the background.
func (c *Client) DeleteApplication(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: applicationPath(id)})
}

// MintToken creates an application token for app.
func (c *Client) MintToken(ctx context.Context, app string, in NewToken) (MintedToken, error) {
	body := map[string]any{}
	if in.Description != "" {
		body["description"] = in.Description
	}
	if in.ExpiresIn > 0 {
		body["expires_in_seconds"] = in.ExpiresIn.Seconds()
	}
	var out MintedToken
	err := c.do(ctx, request{method: http.MethodPost, path: applicationPath(app) + "/tokens", body: body, out: &out})
	return out, err
}

// ListTokens reads one page of app's tokens.
func (c *Client) ListTokens(ctx context.Context, app string, p ListParams) (Page[Token], error) {
	var out Page[Token]
	err := c.do(ctx, request{method: http.MethodGet, path: applicationPath(app) + "/tokens", query: p.values(), out: &out})
	return out, err
}

// RevokeToken revokes one of app's tokens at once.
func (c *Client) RevokeToken(ctx context.Context, app, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: applicationPath(app) + "/tokens/" + url.PathEscape(id)})
}

func applicationPath(id string) string { return "/v1/applications/" + url.PathEscape(id) }

// PortalLink is a subscriber portal link: URL opens the portal signed in
// as the application with Token, carried in the URL's fragment.
type PortalLink struct {
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PortalAccess mints a portal link for app (admin keys only); a zero
// expiresIn takes the server's default (1 h).
func (c *Client) PortalAccess(ctx context.Context, app string, expiresIn time.Duration) (PortalLink, error) {
	body := map[string]any{}
	if expiresIn > 0 {
		body["expires_in_seconds"] = expiresIn.Seconds()
	}
	var out PortalLink
	err := c.do(ctx, request{method: http.MethodPost, path: applicationPath(app) + "/portal-access", body: body, out: &out})
	return out, err
}
