package delivery

import (
	"hash/fnv"
	"strconv"
	"time"
)

// Outcome is what follows an attempt.
type Outcome string

const (
	// Succeed: the receiver took the event; the delivery is done.
	Succeed Outcome = "succeed"
	// Retry: another attempt of the round is due at Decision.NextAttemptAt.
	Retry Outcome = "retry"
	// GiveUp: the round is exhausted. The delivery is failed and waits in
	// its dead-letter window for a retry that starts a new round.
	GiveUp Outcome = "give_up"
	// Gone: the receiver answered 410 Gone or the subscription was deleted.
	// No attempt can succeed any more; the delivery ends failed at once.
	Gone Outcome = "gone"
	// Cancel: the delivery was cancelled while its attempt was in flight.
	Cancel Outcome = "cancel"
	// Hold: the subscription is paused. Nothing was sent and the attempt
	// does not count; the delivery waits, status held, until it resumes or
	// Decision.NextAttemptAt (the end of the hold), when it tries again
	// and gives up if the subscription is still paused.
	Hold Outcome = "hold"
	// Wait: the subscription's flow control had no turn for the attempt in
	// time. Nothing was sent and the attempt does not count; the delivery
	// tries again at Decision.NextAttemptAt, its status unchanged (Status
	// is empty).
	Wait Outcome = "wait"
)

// Round is the attempts so far of the current round: how many were made,
// the one being decided included, and when the round began. A retry signal
// after the policy gave up starts a new round.
type Round struct {
	Attempts int
	Start    time.Time
	// Jitter shortens the wait before the next attempt by this fraction
	// of it (JitterOf: from 0 up to MaxJitter, fixed by the delivery and
	// the attempt); 0 keeps the plain schedule.
	Jitter float64
	// HeldUntil is the end of the hold the delivery is in (zero: it is not
	// held); PauseHold is how long a hold lasts (HOOKFLOW_PAUSE_HOLD).
	HeldUntil time.Time
	PauseHold time.Duration
}

// MaxJitter is the largest fraction by which jitter shortens a wait.
// Shortening only, never lengthening: the schedule a subscriber reads in
// the README (and MaxInterval, and the round's MaxDuration) stays an upper
// bound, and a Retry-After is still honoured in full.
const MaxJitter = 0.2

// JitterOf is the jitter of the wait that follows the attempt-th attempt
// (counted over the whole delivery, so that every round differs) of the
// delivery: a hash of both, never a random draw, so that the attempt
// activity, a workflow deciding an attempt that never reported, and every
// replay of either agree on it. Deliveries that failed together (a
// receiver down for everyone) get different fractions and spread their
// retries over a fifth of the interval instead of coming back in lockstep.
func JitterOf(deliveryID string, attempt int) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(deliveryID))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(strconv.AppendInt(nil, int64(attempt), 10))
	// The top 53 bits as a fraction in [0, 1), exactly as a float64 holds it.
	return float64(h.Sum64()>>11) / (1 << 53) * MaxJitter
}

// Facts are what became of the last attempt.
type Facts struct {
	Kind       Kind
	StatusCode int
	// RetryAfter is the receiver's Retry-After, 0 when absent.
	RetryAfter time.Duration
	// At is when the attempt ended; the next one is scheduled from it.
	At time.Time
}

// Decision is what follows an attempt: the outcome, the status the
// delivery moves to, and, for Retry, when the next attempt is due.
type Decision struct {
	Outcome       Outcome
	Status        string
	NextAttemptAt time.Time
}

// Final reports whether the delivery ends with this decision (Succeed, Gone
// or Cancel); Retry, Hold, Wait and GiveUp leave it open.
func (d Decision) Final() bool {
	return d.Outcome == Succeed || d.Outcome == Gone || d.Outcome == Cancel
}

// Jittered is wait shortened by the fraction jitter (at most MaxJitter), to
// whole milliseconds, as the store and the API show the next attempt.
func Jittered(wait time.Duration, jitter float64) time.Duration {
	return (wait - time.Duration(float64(wait)*min(max(jitter, 0), MaxJitter))).Truncate(time.Millisecond)
}

// Decide says what follows an attempt, from the policy, the attempts of the
// round so far and the last attempt's facts. It is the one place an
// attempt's outcome is decided: the attempt activity calls it before it
// records the attempt, and the workflow calls it for an attempt that never
// reported. It is pure and deterministic, so workflow code may call it.
func Decide(p Policy, r Round, f Facts) Decision {
	switch {
	case f.Kind == KindCancelled:
		return Decision{Outcome: Cancel, Status: StatusCancelled}
	case f.Kind == KindAnswered && f.StatusCode >= 200 && f.StatusCode < 300:
		return Decision{Outcome: Succeed, Status: StatusSucceeded}
	case f.Kind == KindSubscriptionDeleted, f.Kind == KindDisabled, f.StatusCode == 410:
		// A 410 is the receiver's word even when its body broke off.
		return Decision{Outcome: Gone, Status: StatusFailed}
	case f.Kind == KindThrottled:
		return Decision{Outcome: Wait, NextAttemptAt: f.At.Add(f.RetryAfter)}
	case f.Kind == KindPaused:
		switch {
		case r.HeldUntil.IsZero():
			return Decision{Outcome: Hold, Status: StatusHeld, NextAttemptAt: f.At.Add(r.PauseHold)}
		case f.At.Before(r.HeldUntil):
			// Woken early (a retry signal) while still paused: the hold
			// goes on to its first end, never longer.
			return Decision{Outcome: Hold, Status: StatusHeld, NextAttemptAt: r.HeldUntil}
		}
		return Decision{Outcome: GiveUp, Status: StatusFailed}
	}
	wait, ok := p.Next(r.Attempts, r.Start, f.At, f.RetryAfter)
	if !ok {
		return Decision{Outcome: GiveUp, Status: StatusFailed}
	}
	if r.Jitter > 0 {
		// Never earlier than the receiver's Retry-After.
		wait = max(Jittered(wait, r.Jitter), min(f.RetryAfter, MaxRetryAfter))
	}
	return Decision{Outcome: Retry, Status: StatusRetrying, NextAttemptAt: f.At.Add(wait)}
}

// Apply writes a decision that followed a failed attempt into its record,
// as the attempt log and the workflow history keep it.
func (d Decision) Apply(a *Attempt) {
	a.NextAttemptAt, a.GaveUp = d.NextAttemptAt, d.Outcome == GiveUp
}
