// Package client is a small typed Go client of Hookflow's HTTP API, the one
// the `hookflow` CLI uses. Its types follow api/openapi.yaml; its tests run
// every method against a real Hookflow and check each request and answer
// against that document.
//
//	c, err := client.New("http://127.0.0.1:8080", os.Getenv("HOOKFLOW_API_KEY"))
//	acc, err := c.SendEvent(ctx, client.NewEvent{Type: "order.created", Data: json.RawMessage(`{"id":1}`)})
//
// An answer that is not 2xx comes back as an *Error carrying the API's code
// and message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one request when New is given no *http.Client.
const DefaultTimeout = 30 * time.Second

// Client calls one Hookflow API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	key       string
	http      *http.Client
	userAgent string
	// app scopes resource routes to /v1/applications/{app}; empty means
	// the top-level routes (the application "default").
	app string
}

// Option changes a Client made by New.
type Option func(*Client)

// WithHTTPClient sends the requests through hc instead of a client with
// DefaultTimeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the API at baseURL (scheme and host, like
// http://127.0.0.1:8080) that authenticates with apiKey; an empty key sends
// no Authorization header.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hookflow URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{Timeout: DefaultTimeout}, userAgent: "hookflow-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// ForApp returns a client whose subscription, event and delivery calls
// reach the application app (routes under /v1/applications/{app}); "" is
// the top-level routes, which serve the application "default".
func (c *Client) ForApp(app string) *Client {
	cp := *c
	cp.app = app
	return &cp
}

// Error is an answer that is not 2xx, in the contract's error shape:
// {"error":{"code":"...","message":"...","details":[...]}}.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int `json:"-"`
	// Code is the API's error code (validation_failed, unauthorized, ...);
	// empty when the body was not in the contract's shape (a proxy's page).
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Details []FieldError `json:"details,omitempty"`
}

// FieldError names one bad field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// Error reads like "unauthorized (401): missing or invalid API key", with
// one "field: message" per bad field after it.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Code != "" {
		fmt.Fprintf(&b, "%s (%d): %s", e.Code, e.StatusCode, e.Message)
	} else {
		fmt.Fprintf(&b, "HTTP %d: %s", e.StatusCode, e.Message)
	}
	for _, d := range e.Details {
		fmt.Fprintf(&b, "\n  %s: %s", d.Field, d.Message)
	}
	return b.String()
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// maxErrorBody bounds how much of a body that is not the contract's error
// shape an Error quotes.
const maxErrorBody = 512

// scoped is the path of a resource route, under the client's application
// when it has one.
func (c *Client) scoped(parts ...string) string {
	p := "/v1"
	if c.app != "" {
		p += "/applications/" + url.PathEscape(c.app)
	}
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// request is one call: method, path (already escaped), query, JSON body,
// extra headers, and where the answer goes.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	header http.Header
	out    any
}

// do sends r and decodes a 2xx answer into r.out (when not nil). Any
// other answer is an *Error.
func (c *Client) do(ctx context.Context, r request) error {
	// r.path is escaped already (see scoped): join it as text.
	target := strings.TrimRight(c.base.String(), "/") + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Say it once: a *url.Error repeats the method and the URL.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s %s: %w", r.method, c.base.Redacted()+r.path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp.StatusCode, raw)
	}
	if r.out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, r.out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
	}
	return nil
}

func apiError(status int, raw []byte) *Error {
	var shaped struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(raw, &shaped) == nil && shaped.Error != nil && shaped.Error.Code != "" {
		shaped.Error.StatusCode = status
		return shaped.Error
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > maxErrorBody {
		msg = msg[:maxErrorBody] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{StatusCode: status, Message: msg}
}

// Page is one page of a list: Data, and NextCursor to ask for the next
// one (empty on the last page).
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
	// HasMore says whether another page follows; only the message log's
	// lists (events, deliveries) give it.
	HasMore bool `json:"has_more"`
}

// ListParams are the paging parameters every list takes.
type ListParams struct {
	// Limit is the page size; 0 is the API's default.
	Limit int
	// Cursor is a NextCursor from the page before; "" is the first page.
	Cursor string
}

func (p ListParams) values() url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// Nullable is a field of a PATCH body that is either left out (its zero
// value), set to a value (Value), or set to null (Null), which clears it.
// It needs the `omitzero` JSON option on the field that holds it.
type Nullable[T any] struct {
	value T
	set   bool
	null  bool
}

// Value is a Nullable set to v.
func Value[T any](v T) Nullable[T] { return Nullable[T]{value: v, set: true} }

// Null is a Nullable set to null.
func Null[T any]() Nullable[T] { return Nullable[T]{set: true, null: true} }

// IsZero reports whether n is left out, for `omitzero`.
func (n Nullable[T]) IsZero() bool { return !n.set }

// MarshalJSON writes null or the value.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.null {
		return []byte("null"), nil
	}
	return json.Marshal(n.value)
}
