// Package store keeps Hookflow's durable records: subscriptions (with their
// signing secrets), accepted events, and the delivery log. Workflows never
// import it; the API and the activities do.
package store

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrNotFound is returned when no record has the requested id.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a record with the same id but different
// content already exists.
var ErrConflict = errors.New("store: conflict")

// Subscription statuses.
const (
	SubscriptionActive = "active"
	SubscriptionPaused = "paused"
)

// Delivery statuses, as the contract names them.
const (
	DeliveryPending    = "pending"
	DeliveryDelivering = "delivering"
	DeliveryRetrying   = "retrying"
	DeliverySucceeded  = "succeeded"
	DeliveryFailed     = "failed"
	DeliveryCancelled  = "cancelled"
)

// Subscription is a subscriber endpoint and the event types it receives.
type Subscription struct {
	ID          string
	URL         string
	EventTypes  []string
	Description string
	// Secret is the current signing secret ("whsec_" + base64).
	Secret string
	// PreviousSecret keeps signing beside Secret until PreviousSecretExpiresAt,
	// so that receivers can roll over without dropping a delivery.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	Headers                 map[string]string
	// Retry overrides the global retry policy field by field; nil keeps it.
	Retry *RetryOverride
	// Timeout overrides the global per-attempt timeout when positive.
	Timeout   time.Duration
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RetryOverride is a subscription's own retry schedule. Nil fields fall back
// to the global policy.
type RetryOverride struct {
	InitialIntervalSeconds *float64 `json:"initial_interval_seconds,omitempty"`
	BackoffCoefficient     *float64 `json:"backoff_coefficient,omitempty"`
	MaxIntervalSeconds     *float64 `json:"max_interval_seconds,omitempty"`
	MaxAttempts            *int     `json:"max_attempts,omitempty"`
	MaxDurationSeconds     *float64 `json:"max_duration_seconds,omitempty"`
}

// SigningSecrets returns the secrets that sign a request sent at now: the
// current one, and the previous one while its grace period lasts.
func (s Subscription) SigningSecrets(now time.Time) []string {
	secrets := []string{s.Secret}
	if s.PreviousSecret != "" && now.Before(s.PreviousSecretExpiresAt) {
		secrets = append(secrets, s.PreviousSecret)
	}
	return secrets
}

// Event is an accepted event. Payload is the exact JSON body every
// subscriber receives, so that every attempt signs the same bytes.
type Event struct {
	ID         string
	Type       string
	Payload    []byte
	BodyHash   string
	WorkflowID string
	RunID      string
	// Dispatched is set once every matching subscriber has a delivery.
	Dispatched bool
	CreatedAt  time.Time
}

// Delivery is one event on its way to one subscription.
type Delivery struct {
	ID             string
	EventID        string
	SubscriptionID string
	URL            string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	WorkflowID     string
	UpdatedAt      time.Time
}

// Attempt is one HTTP request of a delivery, as the attempt log shows it.
type Attempt struct {
	DeliveryID      string
	Attempt         int
	StartedAt       time.Time
	DurationMs      int64
	StatusCode      int
	Error           string
	ResponseExcerpt string
}

// ListSubscriptionsParams selects a page of subscriptions.
type ListSubscriptionsParams struct {
	// EventType, when set, keeps the subscriptions that would receive it
	// (exact, "prefix.*" and "*" patterns), paused ones included.
	EventType string
	// After is the cursor: the last id of the previous page.
	After string
	// Limit bounds the page; zero or less means no bound.
	Limit int
}

// Store is what the API and the activities need from the database. Both
// SQLite and PostgreSQL implement it, through Open, and pass the same
// conformance suite (package storetest).
//
// Ids are ordered byte by byte (as Go compares strings) in every database.
// Times come back in UTC, to the microsecond. A method given the id of a
// record that does not exist returns an error wrapping ErrNotFound.
type Store interface {
	// CreateSubscription stores s; an existing id is ErrConflict.
	CreateSubscription(ctx context.Context, s Subscription) error
	// GetSubscription returns the subscription with its event types sorted.
	GetSubscription(ctx context.Context, id string) (Subscription, error)
	ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) ([]Subscription, error)
	// UpdateSubscription replaces every field of the subscription with
	// s.ID, event types included, except CreatedAt.
	UpdateSubscription(ctx context.Context, s Subscription) error
	// ModifySubscription reads a subscription, lets fn change it and writes
	// it back in one transaction, so concurrent changes (a PATCH and a
	// secret rotation) never undo each other. It returns what it wrote.
	ModifySubscription(ctx context.Context, id string, fn SubscriptionModifier) (Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
	// MatchSubscriptions returns up to limit active subscriptions whose
	// event types match eventType, with ids greater than after, by id.
	// A limit of zero or less means no bound.
	MatchSubscriptions(ctx context.Context, eventType, after string, limit int) ([]Subscription, error)

	// CreateEvent stores e unless an event with its id exists. It returns
	// the stored event and whether this call created it; an existing event
	// with another BodyHash is ErrConflict. An event stored without a RunID
	// is pending in the Outbox until SetEventRun.
	CreateEvent(ctx context.Context, e Event) (Event, bool, error)
	GetEvent(ctx context.Context, id string) (Event, error)
	SetEventRun(ctx context.Context, id, runID string) error
	MarkEventDispatched(ctx context.Context, id string) error
	// DeleteEvent removes the event with its deliveries and their attempts.
	DeleteEvent(ctx context.Context, id string) error

	// AddDeliveries records deliveries (with status pending when Status is
	// empty); existing ones are kept as they are.
	AddDeliveries(ctx context.Context, ds []Delivery) error
	// RecordAttempt appends to the attempt log and moves the delivery to
	// status, keeping at most the newest MaxAttemptsKept attempts. Attempt
	// numbers grow over the life of a delivery, across rounds of retries:
	// a number recorded twice keeps its first row, and an attempt older
	// than the newest recorded is logged without moving the status back.
	// Text from outside (Error, ResponseExcerpt) is stored as valid UTF-8,
	// each invalid byte run and NUL replaced by U+FFFD.
	RecordAttempt(ctx context.Context, a Attempt, status string, nextAttemptAt time.Time) error
	// SetDeliveryStatus moves a delivery to status. Neither method moves a
	// cancelled delivery to another status: cancelled is final, even when
	// an attempt that was still running reports after the cancel.
	SetDeliveryStatus(ctx context.Context, id, status string, nextAttemptAt time.Time) error
	GetDelivery(ctx context.Context, id string) (Delivery, error)
	// ListAttempts returns the kept attempts, oldest first.
	ListAttempts(ctx context.Context, deliveryID string) ([]Attempt, error)
	// ListDeliveries returns the deliveries of an event, by id.
	ListDeliveries(ctx context.Context, eventID string) ([]Delivery, error)

	EventTypeStore
	Outbox

	Ping(ctx context.Context) error
	Close() error
}

// MaxAttemptsKept bounds the attempt log of one delivery: a receiver that is
// down for days must not grow the table without end.
const MaxAttemptsKept = 100

// MatchPatterns lists the subscription patterns that receive eventType: the
// type itself, "*", and "prefix.*" for each dotted prefix. Matching by an
// exact list keeps the lookup an index scan in every database.
func MatchPatterns(eventType string) []string {
	patterns := []string{eventType, "*"}
	for i := 0; i < len(eventType); i++ {
		if eventType[i] == '.' {
			patterns = append(patterns, eventType[:i+1]+"*")
		}
	}
	return patterns
}

// Matches reports whether pattern (exact, "*" or "prefix.*") receives eventType.
func Matches(pattern, eventType string) bool {
	if pattern == "*" || pattern == eventType {
		return true
	}
	prefix, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasSuffix(prefix, ".") && strings.HasPrefix(eventType, prefix)
}

// EventType is a registered event type. Schema, when not empty, is a JSON
// Schema (draft 2020-12 unless it says otherwise) for the data of events of
// this type.
type EventType struct {
	Name        string
	Description string
	Schema      []byte
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ListEventTypesParams selects a page of event types.
type ListEventTypesParams struct {
	// After is the cursor: the last name of the previous page.
	After string
	Limit int
}

// SubscriptionModifier changes a subscription in place; an error aborts the
// change.
type SubscriptionModifier func(s *Subscription) error

// EventTypeStore keeps the registered event types.
type EventTypeStore interface {
	// CreateEventType stores t; an event type of that name is ErrConflict.
	CreateEventType(ctx context.Context, t EventType) error
	// PutEventType creates or replaces t and reports whether it created it.
	// CreatedAt of an existing type is kept.
	PutEventType(ctx context.Context, t EventType) (EventType, bool, error)
	GetEventType(ctx context.Context, name string) (EventType, error)
	ListEventTypes(ctx context.Context, p ListEventTypesParams) ([]EventType, error)
}
