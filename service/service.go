// Package service is what the HTTP API does, without HTTP: accept events,
// manage subscriptions, and steer deliveries through the store and
// Temporal. Handlers in package api bind a request, make one call here and
// render the result or the error.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/dispatch"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/store"
)

// Errors the API maps to statuses. Wrapped errors keep their cause.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
	ErrInvalid     = errors.New("invalid")
)

// FieldProblem names one input field at fault, by its JSON name (for event
// data: "data" and the JSON Pointer inside it), the rule it breaks and, in
// words, why.
type FieldProblem struct {
	Field   string
	Rule    string
	Message string
}

// InvalidError is ErrInvalid with the fields at fault.
type InvalidError struct {
	Message string
	Fields  []FieldProblem
}

func (e *InvalidError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(message string, fields ...FieldProblem) error {
	return &InvalidError{Message: message, Fields: fields}
}

// Service holds the dependencies of every operation.
type Service struct {
	Store     store.Store
	Temporal  client.Client
	TaskQueue string
	Defaults  delivery.Defaults
	// Now is the clock; tests may fix it.
	Now func() time.Time
	// SecretGrace is how long a rotated-out secret keeps signing.
	SecretGrace time.Duration
	// AllowUnknownEventTypes accepts events of types not registered with
	// CreateEventType; when false they are ErrInvalid.
	AllowUnknownEventTypes bool

	schemas schemaCache
	// Targets is the outbound guard subscriber URLs must pass when they
	// are set; the zero value is the strict policy.
	Targets netguard.Policy
	// Log receives what operators should hear of, such as refused
	// subscriber URLs; nil is slog.Default().
	Log *slog.Logger
	// Metrics counts accepted events; nil counts nothing.
	Metrics *metrics.Metrics
	// Dispatch starts the workflows of the events Publish stores; nil
	// starts none (the events wait in the store for a dispatcher).
	Dispatch *dispatch.Dispatcher
	// MaxPendingEvents bounds the events waiting for their workflow to
	// start: past it Publish refuses new ones. Zero: no bound.
	MaxPendingEvents int
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// now is the clock, to the microsecond the store keeps, so that an answer
// and a later read show the same times.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// storeErr maps store errors onto the service's.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrApplicationNotFound):
		return fmt.Errorf("%s: %w", what, ErrApplicationNotFound)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s: %w", what, ErrConflict)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		return fmt.Errorf("%s: database: %w: %w", what, ErrUnavailable, err)
	}
}

// temporalErr maps Temporal client errors onto the service's. Anything the
// server did not answer is unavailability, never bad input.
func temporalErr(err error, what string) error {
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	default:
		return fmt.Errorf("%s: temporal: %w: %w", what, ErrUnavailable, err)
	}
}

// Readiness is what /readyz says beyond "ready".
type Readiness struct {
	// Temporal is "up" or "unreachable". The API accepts events either
	// way; while Temporal is unreachable they wait in the database.
	Temporal string
	// Dispatch is "ok"; "stalled" while event workflows cannot be
	// started; "behind" while the oldest accepted event has waited longer
	// than dispatch.BehindAfter for its workflow to start.
	Dispatch string
	// PendingEvents and OldestPending describe the events waiting for
	// their workflow to start.
	PendingEvents int
	OldestPending time.Duration
}

// Readiness values.
const (
	TemporalUp          = "up"
	TemporalUnreachable = "unreachable"
	DispatchOK          = "ok"
	DispatchStalled     = "stalled"
	DispatchBehind      = "behind"
)

// temporalHealthTimeout bounds the readiness probe's question to Temporal,
// so that the probe answers quickly while Temporal is down.
const temporalHealthTimeout = 2 * time.Second

// Ready reports whether events can be accepted, that is whether the
// database answers (an error otherwise), and how Temporal and the
// dispatch of accepted events fare.
func (s *Service) Ready(ctx context.Context) (Readiness, error) {
	if err := s.Store.Ping(ctx); err != nil {
		return Readiness{}, fmt.Errorf("database: %w: %w", ErrUnavailable, err)
	}
	r := Readiness{Temporal: TemporalUp, Dispatch: DispatchOK}
	hctx, cancel := context.WithTimeout(ctx, temporalHealthTimeout)
	defer cancel()
	if _, err := s.Temporal.CheckHealth(hctx, &client.CheckHealthRequest{}); err != nil {
		r.Temporal = TemporalUnreachable
	}
	st := s.Dispatch.Status()
	now := time.Now()
	r.PendingEvents = st.Pending
	if !st.Oldest.IsZero() {
		r.OldestPending = max(0, now.Sub(st.Oldest))
	}
	switch {
	case st.Stalled:
		r.Dispatch = DispatchStalled
	case st.Behind(now):
		r.Dispatch = DispatchBehind
	}
	return r, nil
}
