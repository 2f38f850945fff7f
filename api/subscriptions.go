package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

type retryRequest struct {
	InitialIntervalSeconds *float64 `json:"initial_interval_seconds" validate:"omitempty,gte=1,lte=86400"`
	BackoffCoefficient     *float64 `json:"backoff_coefficient" validate:"omitempty,gte=1,lte=10"`
	MaxIntervalSeconds     *float64 `json:"max_interval_seconds" validate:"omitempty,gte=1,lte=86400"`
	MaxAttempts            *int     `json:"max_attempts" validate:"omitempty,gte=0,lte=1000"`
	MaxDurationSeconds     *float64 `json:"max_duration_seconds" validate:"omitempty,gte=1,lte=2592000"`
}

type createSubscriptionRequest struct {
	URL            string            `json:"url" validate:"required,max=2048,webhook_url"`
	EventTypes     []string          `json:"event_types" validate:"required,min=1,max=100,dive,required,max=256,event_pattern"`
	Description    string            `json:"description" validate:"max=1024"`
	Secret         string            `json:"secret" validate:"omitempty,webhook_secret"`
	Headers        map[string]string `json:"headers" validate:"max=32,dive,keys,required,max=256,endkeys,max=4096"`
	Retry          *retryRequest     `json:"retry"`
	TimeoutSeconds *float64          `json:"timeout_seconds" validate:"omitempty,gte=1,lte=60"`
	RateLimit      *float64          `json:"rate_limit" validate:"omitnil,gt=0,lte=10000"`
	MaxInFlight    *int              `json:"max_in_flight" validate:"omitnil,gte=1,lte=1000"`
}

type subscriptionResponse struct {
	ID             string               `json:"id"`
	URL            string               `json:"url"`
	EventTypes     []string             `json:"event_types"`
	Description    string               `json:"description"`
	Headers        map[string]string    `json:"headers"`
	Retry          *store.RetryOverride `json:"retry,omitempty"`
	TimeoutSeconds *float64             `json:"timeout_seconds,omitempty"`
	RateLimit      *float64             `json:"rate_limit,omitempty"`
	MaxInFlight    *int                 `json:"max_in_flight,omitempty"`
	Status         string               `json:"status"`
	Secret         string               `json:"secret,omitempty"`
	// PreviousSecretExpiresAt is when the secret a rotation replaced stops
	// signing; absent when none signs.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	// DisabledReason says why Hookflow disabled it; FailingSince is when
	// its current run of failed attempts began. Both absent when none.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
}

func toSubscriptionResponse(s store.Subscription, withSecret bool) subscriptionResponse {
	r := subscriptionResponse{
		ID: s.ID, URL: s.URL, EventTypes: s.EventTypes, Description: s.Description, Headers: s.Headers,
		Retry: s.Retry, Status: s.Status, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, DisabledReason: s.DisabledReason,
	}
	if !s.FailingSince.IsZero() {
		since := s.FailingSince
		r.FailingSince = &since
	}
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	if s.Timeout > 0 {
		secs := s.Timeout.Seconds()
		r.TimeoutSeconds = &secs
	}
	if s.RateLimit > 0 {
		r.RateLimit = &s.RateLimit
	}
	if s.MaxInFlight > 0 {
		r.MaxInFlight = &s.MaxInFlight
	}
	if withSecret {
		r.Secret = s.Secret
	}
	if s.PreviousSecret != "" && !s.PreviousSecretExpiresAt.IsZero() {
		exp := s.PreviousSecretExpiresAt
		r.PreviousSecretExpiresAt = &exp
	}
	return r
}

func (r *retryRequest) toStore() *store.RetryOverride {
	if r == nil {
		return nil
	}
	return &store.RetryOverride{
		InitialIntervalSeconds: r.InitialIntervalSeconds, BackoffCoefficient: r.BackoffCoefficient,
		MaxIntervalSeconds: r.MaxIntervalSeconds, MaxAttempts: r.MaxAttempts, MaxDurationSeconds: r.MaxDurationSeconds,
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func seconds(f *float64) time.Duration {
	if f == nil {
		return 0
	}
	return time.Duration(*f * float64(time.Second))
}

func (h *handlers) createSubscription(c *gin.Context) {
	var req createSubscriptionRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	sub, err := h.svc.CreateSubscription(c.Request.Context(), appOf(c), service.NewSubscription{
		URL: req.URL, EventTypes: req.EventTypes, Description: req.Description, Secret: req.Secret,
		Headers: req.Headers, Retry: req.Retry.toStore(), Timeout: seconds(req.TimeoutSeconds),
		RateLimit: deref(req.RateLimit), MaxInFlight: deref(req.MaxInFlight),
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, toSubscriptionResponse(sub, true))
}

type secretResponse struct {
	Secret string `json:"secret"`
}

// getSubscriptionSecret hands out the current signing secret: besides the
// answers to creation and rotation, the only place the API shows one.
func (h *handlers) getSubscriptionSecret(c *gin.Context) {
	secret, err := h.svc.GetSubscriptionSecret(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, secretResponse{Secret: secret})
}

func (h *handlers) getSubscription(c *gin.Context) {
	sub, err := h.svc.GetSubscription(c.Request.Context(), appOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toSubscriptionResponse(sub, false))
}

type listSubscriptionsQuery struct {
	Limit     int    `form:"limit" json:"limit" validate:"omitempty,gte=1,lte=100"`
	Cursor    string `form:"cursor" json:"cursor" validate:"omitempty,max=128"`
	EventType string `form:"event_type" json:"event_type" validate:"omitempty,max=256,event_type"`
}

func (h *handlers) listSubscriptions(c *gin.Context) {
	var q listSubscriptionsQuery
	if err := h.bindQuery(c, &q); err != nil {
		writeError(c, err)
		return
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	subs, next, err := h.svc.ListSubscriptions(c.Request.Context(), store.ListSubscriptionsParams{
		ApplicationID: appOf(c),
		EventType:     q.EventType, After: q.Cursor, Limit: q.Limit,
	})
	if err != nil {
		writeError(c, err)
		return
	}
	data := make([]subscriptionResponse, 0, len(subs))
	for _, s := range subs {
		data = append(data, toSubscriptionResponse(s, false))
	}
	c.JSON(http.StatusOK, gin.H{"data": data, "next_cursor": next})
}

func (h *handlers) deleteSubscription(c *gin.Context) {
	if err := h.svc.DeleteSubscription(c.Request.Context(), appOf(c), c.Param("id")); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// patchSubscriptionRequest is a JSON merge patch of a subscription: absent
// fields stay as they are, present ones are checked like on create.
// headers and retry replace the whole value; null removes them (and
// description, and timeout_seconds, which falls back to the default).
type patchSubscriptionRequest struct {
	URL            optional[string]            `json:"url" validate:"omitnil,max=2048,webhook_url"`
	EventTypes     optional[[]string]          `json:"event_types" validate:"omitnil,min=1,max=100,dive,required,max=256,event_pattern"`
	Description    optional[string]            `json:"description" validate:"omitnil,max=1024"`
	Headers        optional[map[string]string] `json:"headers" validate:"omitnil,max=32,dive,keys,required,max=256,endkeys,max=4096"`
	Retry          optional[retryRequest]      `json:"retry" validate:"omitnil"`
	TimeoutSeconds optional[float64]           `json:"timeout_seconds" validate:"omitnil,gte=1,lte=60"`
	RateLimit      optional[float64]           `json:"rate_limit" validate:"omitnil,gt=0,lte=10000"`
	MaxInFlight    optional[int]               `json:"max_in_flight" validate:"omitnil,gte=1,lte=1000"`
	// disabled passes here so that the service says who disables.
	Status optional[string] `json:"status" validate:"omitnil,oneof=active paused disabled"`
}

func (h *handlers) patchSubscription(c *gin.Context) {
	var req patchSubscriptionRequest
	if err := h.bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	var nulls []FieldError
	for name, null := range map[string]bool{"url": req.URL.Null, "event_types": req.EventTypes.Null, "status": req.Status.Null} {
		if null {
			nulls = append(nulls, FieldError{Field: name, Rule: "required", Message: "cannot be removed (null); leave it out to keep it"})
		}
	}
	if len(nulls) > 0 {
		sort.Slice(nulls, func(i, j int) bool { return nulls[i].Field < nulls[j].Field })
		writeError(c, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields", nulls...))
		return
	}
	p := service.SubscriptionPatch{
		SetHeaders: req.Headers.Set, Headers: req.Headers.Value,
		SetRetry: req.Retry.Set, SetTimeout: req.TimeoutSeconds.Set,
		SetRateLimit: req.RateLimit.Set, RateLimit: req.RateLimit.Value,
		SetMaxInFlight: req.MaxInFlight.Set, MaxInFlight: req.MaxInFlight.Value,
	}
	if req.URL.has() {
		p.URL = &req.URL.Value
	}
	if req.EventTypes.has() {
		p.EventTypes = req.EventTypes.Value
	}
	if req.Description.Set {
		p.Description = &req.Description.Value
	}
	if req.Retry.has() {
		p.Retry = req.Retry.Value.toStore()
	}
	if req.TimeoutSeconds.has() {
		p.Timeout = seconds(&req.TimeoutSeconds.Value)
	}
	if req.Status.has() {
		p.Status = &req.Status.Value
	}
	sub, err := h.svc.UpdateSubscription(c.Request.Context(), appOf(c), c.Param("id"), p)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toSubscriptionResponse(sub, false))
}

type rotateSecretRequest struct {
	// Secret is the new secret; empty: generate one.
	Secret string `json:"secret" validate:"omitempty,webhook_secret"`
}

func (h *handlers) rotateSecret(c *gin.Context) {
	var req rotateSecretRequest
	if err := h.bindOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	sub, err := h.svc.RotateSecret(c.Request.Context(), appOf(c), c.Param("id"), req.Secret)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toSubscriptionResponse(sub, true))
}
