package delivery

import (
	"math"
	"net/url"
	"time"
)

// Policy is the schedule of one round of attempts: the first retry waits
// InitialInterval, each next one BackoffCoefficient times longer up to
// MaxInterval. The round ends after MaxAttempts attempts (0: no limit) or
// when the next attempt would start later than MaxDuration after the round
// began (0: no limit). One of the two limits is always set.
//
// Workflow inputs, which the Temporal UI shows, carry it as PolicyJSON.
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

// PolicyJSON is Policy as workflow inputs show it, durations as "72h0m0s"
// (see Duration). Policy itself stays nanoseconds in JSON: where nobody
// reads it (the fan-out's page of 500 targets) the plain form decodes
// fastest, and workflow code must not spend long in a decoder.
type PolicyJSON struct {
	InitialInterval    Duration `json:"initial_interval"`
	BackoffCoefficient float64  `json:"backoff_coefficient"`
	MaxInterval        Duration `json:"max_interval"`
	MaxAttempts        int      `json:"max_attempts"`
	MaxDuration        Duration `json:"max_duration"`
}

// JSON is p in its readable form.
func (p Policy) JSON() PolicyJSON {
	return PolicyJSON{
		InitialInterval: Duration(p.InitialInterval), BackoffCoefficient: p.BackoffCoefficient,
		MaxInterval: Duration(p.MaxInterval), MaxAttempts: p.MaxAttempts, MaxDuration: Duration(p.MaxDuration),
	}
}

// Policy is the policy j shows.
func (j PolicyJSON) Policy() Policy {
	return Policy{
		InitialInterval: time.Duration(j.InitialInterval), BackoffCoefficient: j.BackoffCoefficient,
		MaxInterval: time.Duration(j.MaxInterval), MaxAttempts: j.MaxAttempts, MaxDuration: time.Duration(j.MaxDuration),
	}
}

// PolicyOverride is a subscription's own retry schedule, as the API takes
// it. Nil fields fall back to the global policy.
type PolicyOverride struct {
	InitialIntervalSeconds *float64 `json:"initial_interval_seconds,omitempty"`
	BackoffCoefficient     *float64 `json:"backoff_coefficient,omitempty"`
	MaxIntervalSeconds     *float64 `json:"max_interval_seconds,omitempty"`
	MaxAttempts            *int     `json:"max_attempts,omitempty"`
	MaxDurationSeconds     *float64 `json:"max_duration_seconds,omitempty"`
}

// ResolvePolicy applies a subscription's overrides to the global policy.
func ResolvePolicy(global Policy, o *PolicyOverride) Policy {
	p := global
	if o == nil {
		return p
	}
	seconds := func(f *float64, d time.Duration) time.Duration {
		if f == nil {
			return d
		}
		return time.Duration(*f * float64(time.Second))
	}
	p.InitialInterval = seconds(o.InitialIntervalSeconds, p.InitialInterval)
	p.MaxInterval = seconds(o.MaxIntervalSeconds, p.MaxInterval)
	p.MaxDuration = seconds(o.MaxDurationSeconds, p.MaxDuration)
	if o.BackoffCoefficient != nil {
		p.BackoffCoefficient = *o.BackoffCoefficient
	}
	if o.MaxAttempts != nil {
		p.MaxAttempts = *o.MaxAttempts
	}
	if p.MaxAttempts == 0 && p.MaxDuration <= 0 {
		// "max_attempts": 0 means "bounded by duration only"; with no
		// duration bound in the global policy, keep its attempt bound.
		p.MaxAttempts = global.MaxAttempts
	}
	p.MaxInterval = max(p.MaxInterval, p.InitialInterval)
	return p
}

// Defaults are the global delivery settings a subscription may override.
type Defaults struct {
	Retry          Policy
	AttemptTimeout time.Duration
	// FailedRetention is how long a delivery that gave up stays open for a
	// retry signal before its workflow closes.
	FailedRetention time.Duration
	// PauseHold is how long a delivery waits for its paused subscription
	// to resume before it gives up (HOOKFLOW_PAUSE_HOLD).
	PauseHold time.Duration
	// DisableAfter is how long a subscription may fail before Hookflow
	// disables it (HOOKFLOW_DISABLE_AFTER); zero never does.
	DisableAfter time.Duration
}

// Target is what a delivery to one subscription needs besides the event:
// where it goes and on what schedule. It holds no secret: the delivery
// activity loads the subscription from the store.
type Target struct {
	SubscriptionID string
	// URL is the subscriber URL as histories and the UI show it (see
	// DisplayURL). A query string may carry a receiver's token, so it stays
	// in the store; the delivery activity loads the full URL.
	URL             string
	Policy          Policy
	AttemptTimeout  time.Duration
	FailedRetention time.Duration
}

// Target resolves a delivery to a subscription from its id, its URL, its
// retry overrides and its attempt timeout (0: the default).
func (d Defaults) Target(subscriptionID, rawURL string, retry *PolicyOverride, timeout time.Duration) Target {
	return Target{
		SubscriptionID:  subscriptionID,
		URL:             DisplayURL(rawURL),
		Policy:          ResolvePolicy(d.Retry, retry),
		AttemptTimeout:  cmpOr(timeout, d.AttemptTimeout),
		FailedRetention: d.FailedRetention,
	}
}

// DisplayURL is a subscriber URL as histories, logs and the UI show it:
// scheme, host and path, without user info, query string or fragment (a
// token may sit there).
func DisplayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func cmpOr(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}
