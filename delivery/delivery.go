// Package delivery is what a delivery is, apart from how it runs: its
// statuses, the record of one attempt, the retry policy and how a
// subscription's overrides resolve it, and Decide, the one function that
// says what follows an attempt. It imports no Temporal, SQL or HTTP code, so
// the workflow (deterministic), the attempt activity and the store all use
// the same definitions.
package delivery

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Delivery statuses, as the contract, the store and the HookflowStatus
// search attribute name them.
const (
	StatusPending    = "pending"
	StatusDelivering = "delivering"
	StatusRetrying   = "retrying"
	// StatusHeld: the subscription is paused; the delivery waits for it to
	// resume without spending attempts (Outcome Hold).
	StatusHeld      = "held"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// Signals a delivery's workflow takes, by their registered names: the API
// sends them, the event workflow sends cancel to the deliveries it started,
// and running histories hold them, so they never change.
const (
	SignalCancel = "cancel"
	SignalRetry  = "retry"
	// SignalWake tells a held or waiting delivery that its subscription
	// changed (resumed, disabled): it attempts at once, and the attempt
	// finds out what to do. A delivery that gave up ignores it, so a wake
	// never starts a new round the way a retry does.
	SignalWake = "wake"
)

// Envelope is the body every subscriber receives.
type Envelope struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Unfinished reports whether a delivery in status may still make an
// attempt: pending, delivering, retrying or held.
func Unfinished(status string) bool {
	return status == StatusPending || status == StatusDelivering || status == StatusRetrying || status == StatusHeld
}

// UnfinishedStatuses are the statuses Unfinished accepts.
var UnfinishedStatuses = []string{StatusPending, StatusDelivering, StatusRetrying, StatusHeld}

// Kind says what became of one attempt's request, as a fact: the activity
// reports it, Decide reads it.
type Kind string

const (
	// KindAnswered: the receiver answered; the status code says how.
	KindAnswered Kind = "answered"
	// KindNotSent: nothing was sent (no flow-control slot in time, the
	// request could not be signed or built).
	KindNotSent Kind = "not_sent"
	// KindThrottled: the subscription's rate_limit or max_in_flight had no
	// turn within the attempt's time; nothing was sent, no attempt is
	// spent, and the delivery tries again after RetryAfter (Outcome Wait).
	KindThrottled Kind = "throttled"
	// KindPaused: the subscription is paused; nothing was sent and no
	// attempt is spent: the delivery is held (Outcome Hold).
	KindPaused Kind = "paused"
	// KindDisabled: Hookflow disabled the subscription (it kept failing,
	// or answered 410 Gone); nothing was sent and the delivery ends failed.
	KindDisabled Kind = "subscription_disabled"
	// KindRefused: the outbound guard refused the connection; nothing was
	// sent.
	KindRefused Kind = "refused"
	// KindTimedOut: the receiver did not answer within the attempt timeout.
	KindTimedOut Kind = "timed_out"
	// KindConnectionFailed: the connection failed or broke before a whole
	// answer came back.
	KindConnectionFailed Kind = "connection_failed"
	// KindSubscriptionDeleted: the subscription no longer exists.
	KindSubscriptionDeleted Kind = "subscription_deleted"
	// KindCancelled: the delivery was cancelled while the request was in
	// flight, and the request was aborted.
	KindCancelled Kind = "cancelled"
	// KindNoReport: the attempt never reported (its worker died, the store
	// was down); it counts as failed.
	KindNoReport Kind = "no_report"
)

// Attempt is one line of the attempt log, and what the attempt activity
// returns to the workflow (so it is in every history: its JSON names never
// change).
type Attempt struct {
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	DurationMs int64     `json:"duration_ms"`
	// Kind is what became of the request; empty in histories recorded
	// before it was reported.
	Kind       Kind   `json:"kind,omitempty"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	// ResponseExcerpt is the first bytes of the response body.
	ResponseExcerpt string `json:"response_excerpt,omitempty"`
	// RetryAfter is the receiver's Retry-After on 429 and 503.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// NextAttemptAt and GaveUp are the Decision that followed a failed
	// attempt: when the next attempt is due, or (zero time, GaveUp) that
	// the round is exhausted.
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	GaveUp        bool      `json:"gave_up,omitempty"`
}

// Duration is a time.Duration that JSON shows as Go writes it ("72h0m0s"),
// for operators reading workflow inputs in the Temporal UI. It reads that
// form and a number of nanoseconds, the form inputs recorded before had.
// Both directions avoid a nested JSON decoder: workflow code runs them.
type Duration time.Duration

// MarshalText writes d as "1h30m0s"; JSON quotes it.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalJSON reads "1h30m0s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		v, err := time.ParseDuration(s[1 : len(s)-1])
		if err != nil {
			return fmt.Errorf("duration %s: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("duration %s: want a string such as \"5s\" or nanoseconds: %w", s, err)
	}
	*d = Duration(n)
	return nil
}

// Failure reports whether the attempt reached out to the receiver (or
// tried to) and did not get a 2xx: the attempts that count towards
// disabling a subscription. Nothing sent (paused, no slot, deleted,
// cancelled) is no failure of the receiver.
func (a Attempt) Failure() bool {
	switch a.Kind {
	case KindAnswered:
		return a.StatusCode < 200 || a.StatusCode >= 300
	case KindRefused, KindTimedOut, KindConnectionFailed:
		return true
	}
	return false
}

// Facts are the attempt's facts for Decide, with at the time it ended.
func (a Attempt) Facts(at time.Time) Facts {
	return Facts{Kind: a.Kind, StatusCode: a.StatusCode, RetryAfter: a.RetryAfter, At: at}
}
