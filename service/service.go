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

	"github.com/hookflow/hookflow/activities"
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

// Service holds the dependencies of every operation.
type Service struct {
	Store     store.Store
	Temporal  client.Client
	TaskQueue string
	Defaults  activities.Defaults
	// Now is the clock; tests may fix it.
	Now func() time.Time
	// SecretGrace is how long a rotated-out secret keeps signing.
	SecretGrace time.Duration
	// Targets is the outbound guard subscriber URLs must pass when they
	// are set; the zero value is the strict policy.
	Targets netguard.Policy
	// Log receives what operators should hear of, such as refused
	// subscriber URLs; nil is slog.Default().
	Log *slog.Logger
	// Metrics counts accepted events; nil counts nothing.
	Metrics *metrics.Metrics
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// storeErr maps store errors onto the service's.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s: %w", what, ErrConflict)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		return fmt.Errorf("%s: database: %w: %v", what, ErrUnavailable, err)
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
		return fmt.Errorf("%s: temporal: %w: %v", what, ErrUnavailable, err)
	}
}

// Ready reports whether the store and Temporal answer.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w: %v", ErrUnavailable, err)
	}
	if _, err := s.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: %w: %v", ErrUnavailable, err)
	}
	return nil
}
