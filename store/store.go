// Package store keeps Hookflow's durable records: subscriptions (with their
// signing secrets), accepted events, and the delivery log. Workflows never
// import it; the API and the activities do.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/hookflow/hookflow/delivery"
)

// ErrNotFound is returned when no record has the requested id.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a record with the same id but different
// content already exists.
var ErrConflict = errors.New("store: conflict")

// ErrReserved is returned for a change the store refuses to make to a
// reserved record, such as deleting the application default.
var ErrReserved = errors.New("store: reserved")

// ErrApplicationNotFound is returned when a record is written into an
// application that does not exist (or was deleted meanwhile).
var ErrApplicationNotFound = errors.New("store: application not found")

// The applications that always exist. DefaultApplication holds what the
// top-level routes address and every record made before applications
// existed; OperationalApplication holds Hookflow's own operational events.
const (
	DefaultApplication     = "default"
	OperationalApplication = "_operational"
)

// IsReservedApplication reports whether id names an application that always
// exists and cannot be deleted.
func IsReservedApplication(id string) bool {
	return id == DefaultApplication || id == OperationalApplication
}

// Application is one consumer of the platform: its subscriptions, events
// and deliveries are invisible to every other application.
type Application struct {
	ID        string
	Name      string
	Metadata  map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ListApplicationsParams selects a page of applications.
type ListApplicationsParams struct {
	// After is the cursor: the last id of the previous page.
	After string
	Limit int
}

// Subscription statuses.
const (
	SubscriptionActive = "active"
	SubscriptionPaused = "paused"
	// SubscriptionDisabled is set by Hookflow alone (EndpointHealth), when
	// a subscription kept failing or answered 410 Gone.
	SubscriptionDisabled = "disabled"
)

// TestEventType is the type of the test events the portal sends to one
// subscription (POST .../subscriptions/{id}/test).
const TestEventType = "hookflow.test"

// Delivery statuses: package delivery defines them.
const (
	DeliveryPending    = delivery.StatusPending
	DeliveryDelivering = delivery.StatusDelivering
	DeliveryRetrying   = delivery.StatusRetrying
	DeliveryHeld       = delivery.StatusHeld
	DeliverySucceeded  = delivery.StatusSucceeded
	DeliveryFailed     = delivery.StatusFailed
	DeliveryCancelled  = delivery.StatusCancelled
)

// Subscription is a subscriber endpoint and the event types it receives.
type Subscription struct {
	ID string
	// ApplicationID is the application the subscription belongs to; it
	// never changes.
	ApplicationID string
	URL           string
	EventTypes    []string
	Description   string
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
	// RateLimit is at most how many requests a second go to the
	// subscription, across every worker; 0: no limit.
	RateLimit float64
	// MaxInFlight is at most how many requests to the subscription are in
	// flight at once, across every worker; 0: no limit.
	MaxInFlight int
	// FailingSince is when the subscription's current run of failed
	// attempts began; zero when the last attempt that reached it succeeded.
	FailingSince time.Time
	// DisabledReason says why Hookflow disabled it; empty unless disabled.
	DisabledReason string
}

// RetryOverride is a subscription's own retry schedule (its JSON is the
// column's); package delivery resolves it against the global policy.
type RetryOverride = delivery.PolicyOverride

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
	// ApplicationID is the application the event is addressed to; ids are
	// unique within it.
	ApplicationID string
	ID            string
	Type          string
	Payload       []byte
	BodyHash      string
	WorkflowID    string
	RunID         string
	// Dispatched is set once every matching subscriber has a delivery.
	Dispatched bool
	// DeliverAt, when set, is the time before which nothing of the event
	// is delivered: its workflow starts with the wait as its start delay.
	DeliverAt time.Time
	// Cancelled is set when the event was cancelled before its fan-out
	// ran (while scheduled, say).
	Cancelled bool
	CreatedAt time.Time
	// TargetSubscriptionID, when set, is the one subscription the event
	// goes to, whatever its type: a test event sent from the portal.
	TargetSubscriptionID string
}

// Delivery is one event on its way to one subscription.
type Delivery struct {
	ID             string
	ApplicationID  string
	EventID        string
	SubscriptionID string
	URL            string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	WorkflowID     string
	// CreatedAt orders the message log; zero when added is UpdatedAt.
	CreatedAt time.Time
	UpdatedAt time.Time
	// ResentFrom is the delivery this one resends; empty for the first
	// delivery of its event to its subscription.
	ResentFrom string
	// SupersededBy is the newest resend of the same event to the same
	// subscription, once there is one: a recovery skips this delivery.
	SupersededBy string
	// RecoveryID is the recovery that made this delivery; empty for any
	// other.
	RecoveryID string
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
	// ApplicationID is the application whose subscriptions are listed.
	ApplicationID string
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
//
// Every read of a subscription, an event or a delivery names its
// application: a record of one application asked for under another is
// ErrNotFound, as if it did not exist.
// FlowControl holds the shared state of subscriptions' rate limits and
// concurrency caps, so that every worker process obeys one limit.
type FlowControl interface {
	// AcquireFlight takes one of max slots of the subscription for holder
	// until until, unless max are held by others (false). Slots whose
	// lease ended are free, so a worker that died gives its back. Holding
	// one already renews it.
	AcquireFlight(ctx context.Context, subscriptionID, holder string, max int, now, until time.Time) (bool, error)
	// ReleaseFlight frees holder's slot; one not held is no error.
	ReleaseFlight(ctx context.Context, subscriptionID, holder string) error
	// ReserveSend takes the subscription's next send time at or after now
	// and moves the schedule on by interval: the caller sends then. A next
	// send time after latest is not taken (false): the caller learns when
	// it is and the schedule stays as it was, so that an attempt that
	// cannot wait that long leaves no gap behind it.
	ReserveSend(ctx context.Context, subscriptionID string, interval time.Duration, now, latest time.Time) (time.Time, bool, error)
}

// EndpointHealth tracks whether subscriptions' receivers answer, from
// every worker's attempts, and disables the ones that keep failing.
type EndpointHealth interface {
	// MarkFailing records a failed attempt made at at: a subscription not
	// failing yet fails from then on. It returns since when it fails.
	MarkFailing(ctx context.Context, app, id string, at time.Time) (time.Time, error)
	// MarkHealthy records an attempt that succeeded: the subscription is
	// failing no more.
	MarkHealthy(ctx context.Context, app, id string) error
	// DisableSubscription disables the subscription for reason at at,
	// unless it is disabled already or, when failingBefore is not zero,
	// has not been failing since failingBefore or earlier (an attempt that
	// succeeded meanwhile wins). A subscription disabled while not failing
	// (a 410) fails from at. It returns the subscription as it is now and
	// whether this call disabled it.
	DisableSubscription(ctx context.Context, app, id, reason string, failingBefore, at time.Time) (Subscription, bool, error)
	// ListSubscriptionDeliveries returns up to limit deliveries of the
	// subscription in status, with ids greater than after, by id.
	ListSubscriptionDeliveries(ctx context.Context, app, subscriptionID, status, after string, limit int) ([]Delivery, error)
	// HealthStats counts the held deliveries and the disabled
	// subscriptions of every application.
	HealthStats(ctx context.Context) (held, disabled int, err error)
}

type Store interface {
	ApplicationStore
	FlowControl
	EndpointHealth

	// CreateSubscription stores s in s.ApplicationID; an existing id is
	// ErrConflict, an application that does not exist
	// ErrApplicationNotFound.
	CreateSubscription(ctx context.Context, s Subscription) error
	// GetSubscription returns the subscription with its event types sorted.
	GetSubscription(ctx context.Context, app, id string) (Subscription, error)
	ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) ([]Subscription, error)
	// UpdateSubscription replaces every field of the subscription with
	// s.ID in s.ApplicationID, event types included, except CreatedAt.
	UpdateSubscription(ctx context.Context, s Subscription) error
	// ModifySubscription reads a subscription, lets fn change it and writes
	// it back in one transaction, so concurrent changes (a PATCH and a
	// secret rotation) never undo each other. It returns what it wrote.
	ModifySubscription(ctx context.Context, app, id string, fn SubscriptionModifier) (Subscription, error)
	DeleteSubscription(ctx context.Context, app, id string) error
	// MatchSubscriptions returns up to limit active subscriptions of app
	// whose event types match eventType, with ids greater than after, by
	// id. A limit of zero or less means no bound.
	MatchSubscriptions(ctx context.Context, app, eventType, after string, limit int) ([]Subscription, error)

	// CreateEvent stores e unless an event with its id exists in
	// e.ApplicationID. It returns the stored event and whether this call
	// created it; an existing event with another BodyHash is ErrConflict.
	// An event stored without a RunID is pending in the Outbox until its
	// run is recorded.
	CreateEvent(ctx context.Context, e Event) (Event, bool, error)
	GetEvent(ctx context.Context, app, id string) (Event, error)
	SetEventRun(ctx context.Context, app, id, runID string) error
	MarkEventDispatched(ctx context.Context, app, id string) error
	// MarkEventCancelled records that the event was cancelled before its
	// fan-out ran.
	MarkEventCancelled(ctx context.Context, app, id string) error
	// ListEventLog returns a page of an application's events, newest
	// first (see ListEventsParams).
	ListEventLog(ctx context.Context, p ListEventsParams) (Page[Event], error)
	// DeleteEvent removes the event with its deliveries and their attempts.
	DeleteEvent(ctx context.Context, app, id string) error

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
	// RecordAttempt and SetDeliveryStatus take the delivery id alone:
	// delivery ids are unique across applications (they name a
	// subscription, which belongs to one), and only workflows, which know
	// the delivery they run, call them.
	GetDelivery(ctx context.Context, app, id string) (Delivery, error)
	// ListAttempts returns the kept attempts, oldest first.
	ListAttempts(ctx context.Context, deliveryID string) ([]Attempt, error)
	// ListDeliveries returns the deliveries of an event, by id.
	ListDeliveries(ctx context.Context, app, eventID string) ([]Delivery, error)
	// ListDeliveryLog returns a page of an application's deliveries,
	// newest first (see ListDeliveriesParams).
	ListDeliveryLog(ctx context.Context, p ListDeliveriesParams) (Page[Delivery], error)
	// ListUnfinishedDeliveries returns up to limit deliveries of app that
	// have not ended (neither succeeded, failed nor cancelled), with ids
	// greater than after, by id.
	ListUnfinishedDeliveries(ctx context.Context, app, after string, limit int) ([]Delivery, error)

	EventTypeStore
	TokenStore
	Outbox
	Retention
	RecoveryStore

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

// ApplicationStore keeps the applications.
type ApplicationStore interface {
	// CreateApplication stores a; an existing id is ErrConflict.
	CreateApplication(ctx context.Context, a Application) error
	GetApplication(ctx context.Context, id string) (Application, error)
	ListApplications(ctx context.Context, p ListApplicationsParams) ([]Application, error)
	// UpdateApplication replaces the name, metadata and UpdatedAt of a.ID.
	UpdateApplication(ctx context.Context, a Application) error
	// DeleteApplication removes the application and its subscriptions in
	// one transaction, so that no event is matched to them afterwards.
	// Its events and deliveries stay, for the record and so that its
	// unfinished deliveries can be cancelled (ListUnfinishedDeliveries).
	// A reserved application is ErrReserved.
	DeleteApplication(ctx context.Context, id string) error
}

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

// Retention purges the message log of what has finished long ago.
type Retention interface {
	// PurgeFinished deletes up to limit events created before cutoff that
	// have finished, oldest first, with their deliveries and the attempts
	// of those. An event has finished when its fan-out ran (or it was
	// cancelled before) and each of its deliveries ended (succeeded,
	// failed or cancelled) before cutoff. Nothing unfinished is touched: a
	// delivery resent or retried since cutoff keeps its event.
	PurgeFinished(ctx context.Context, cutoff time.Time, limit int) (Purged, error)
}

// Purged counts what one PurgeFinished deleted.
type Purged struct {
	Events, Deliveries, Attempts int
}
