// Package backoff computes a delivery's retry schedule. It is pure and
// deterministic so that workflow code and activities compute the same
// schedule from the same inputs.
package backoff

import (
	"math"
	"time"
)

// Policy is the schedule of one round of attempts: the first retry waits
// InitialInterval, each next one BackoffCoefficient times longer up to
// MaxInterval. The round ends after MaxAttempts attempts (0: no limit) or
// when the next attempt would start later than MaxDuration after the round
// began (0: no limit). One of the two limits is always set.
type Policy struct {
	InitialInterval    time.Duration `json:"initial_interval"`
	BackoffCoefficient float64       `json:"backoff_coefficient"`
	MaxInterval        time.Duration `json:"max_interval"`
	MaxAttempts        int           `json:"max_attempts"`
	MaxDuration        time.Duration `json:"max_duration"`
}

// MaxRetryAfter caps a receiver's Retry-After, so a receiver cannot park a
// delivery for longer than the longest regular backoff would.
const MaxRetryAfter = 6 * time.Hour

// Interval is the wait after the attempt-th failed attempt of a round
// (attempt counts from 1).
func (p Policy) Interval(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(p.InitialInterval) * math.Pow(p.BackoffCoefficient, float64(attempt-1))
	if d > float64(p.MaxInterval) || math.IsInf(d, 0) || math.IsNaN(d) {
		return p.MaxInterval
	}
	return time.Duration(d)
}

// Next returns how long to wait after the attempt-th failed attempt of a
// round that started at roundStart, with now the time of the failure and
// retryAfter the receiver's Retry-After (0 when absent). ok is false when
// the round is exhausted and no further attempt should be made.
func (p Policy) Next(attempt int, roundStart, now time.Time, retryAfter time.Duration) (wait time.Duration, ok bool) {
	if p.MaxAttempts > 0 && attempt >= p.MaxAttempts {
		return 0, false
	}
	wait = p.Interval(attempt)
	if retryAfter > 0 {
		wait = max(wait, min(retryAfter, MaxRetryAfter))
	}
	if p.MaxDuration > 0 && now.Add(wait).Sub(roundStart) > p.MaxDuration {
		return 0, false
	}
	return wait, true
}
