package delivery_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/delivery"
)

func TestDecideSaysWhatFollowsEachKindOfAttempt(t *testing.T) {
	p := delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxAttempts: 3}
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	at := start.Add(time.Minute)
	first := delivery.Round{Attempts: 1, Start: start}
	cases := []struct {
		name  string
		round delivery.Round
		facts delivery.Facts
		want  delivery.Decision
	}{
		{"2xx succeeds", first, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 204, At: at},
			delivery.Decision{Outcome: delivery.Succeed, Status: delivery.StatusSucceeded}},
		{"410 is gone", first, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 410, At: at},
			delivery.Decision{Outcome: delivery.Gone, Status: delivery.StatusFailed}},
		{"410 is gone even when its body broke off", first, delivery.Facts{Kind: delivery.KindConnectionFailed, StatusCode: 410, At: at},
			delivery.Decision{Outcome: delivery.Gone, Status: delivery.StatusFailed}},
		{"a deleted subscription is gone", first, delivery.Facts{Kind: delivery.KindSubscriptionDeleted, At: at},
			delivery.Decision{Outcome: delivery.Gone, Status: delivery.StatusFailed}},
		{"cancelled in flight", first, delivery.Facts{Kind: delivery.KindCancelled, At: at},
			delivery.Decision{Outcome: delivery.Cancel, Status: delivery.StatusCancelled}},
		{"500 retries after the first interval", first, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 500, At: at},
			delivery.Decision{Outcome: delivery.Retry, Status: delivery.StatusRetrying, NextAttemptAt: at.Add(5 * time.Second)}},
		{"a 2xx status with a broken body is no success", first, delivery.Facts{Kind: delivery.KindConnectionFailed, StatusCode: 200, At: at},
			delivery.Decision{Outcome: delivery.Retry, Status: delivery.StatusRetrying, NextAttemptAt: at.Add(5 * time.Second)}},
		{"a redirect is no success", first, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 302, At: at},
			delivery.Decision{Outcome: delivery.Retry, Status: delivery.StatusRetrying, NextAttemptAt: at.Add(5 * time.Second)}},
		{"Retry-After stretches the wait", first, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 429, RetryAfter: time.Minute, At: at},
			delivery.Decision{Outcome: delivery.Retry, Status: delivery.StatusRetrying, NextAttemptAt: at.Add(time.Minute)}},
		{"the second failure waits twice as long", delivery.Round{Attempts: 2, Start: start}, delivery.Facts{Kind: delivery.KindTimedOut, At: at},
			delivery.Decision{Outcome: delivery.Retry, Status: delivery.StatusRetrying, NextAttemptAt: at.Add(10 * time.Second)}},
		{"a paused subscription retries too", first, delivery.Facts{Kind: delivery.KindNotSent, At: at},
			delivery.Decision{Outcome: delivery.Retry, Status: delivery.StatusRetrying, NextAttemptAt: at.Add(5 * time.Second)}},
		{"the last attempt of the round gives up", delivery.Round{Attempts: 3, Start: start}, delivery.Facts{Kind: delivery.KindRefused, At: at},
			delivery.Decision{Outcome: delivery.GiveUp, Status: delivery.StatusFailed}},
		{"an attempt that never reported counts as failed", delivery.Round{Attempts: 3, Start: start}, delivery.Facts{Kind: delivery.KindNoReport, At: at},
			delivery.Decision{Outcome: delivery.GiveUp, Status: delivery.StatusFailed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := delivery.Decide(p, tc.round, tc.facts)
			require.Equal(t, tc.want, got)
			require.Equal(t, got.Outcome == delivery.Succeed || got.Outcome == delivery.Gone || got.Outcome == delivery.Cancel, got.Final())
		})
	}
}

func TestDecideGivesUpWhenTheNextAttemptWouldPassTheRoundsDuration(t *testing.T) {
	p := delivery.Policy{InitialInterval: time.Hour, BackoffCoefficient: 1, MaxInterval: time.Hour, MaxDuration: 3 * time.Hour}
	start := time.Unix(0, 0).UTC()
	d := delivery.Decide(p, delivery.Round{Attempts: 2, Start: start}, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 503, At: start.Add(2*time.Hour + time.Minute)})
	require.Equal(t, delivery.GiveUp, d.Outcome)
	var a delivery.Attempt
	d.Apply(&a)
	require.True(t, a.GaveUp)
	require.True(t, a.NextAttemptAt.IsZero())
}

func TestAZeroAttemptLimitKeepsABound(t *testing.T) {
	zero := 0
	global := delivery.Policy{InitialInterval: time.Second, BackoffCoefficient: 2, MaxInterval: time.Minute, MaxAttempts: 5}
	p := delivery.ResolvePolicy(global, &delivery.PolicyOverride{MaxAttempts: &zero})
	require.Equal(t, 5, p.MaxAttempts, "no duration bound and no attempt bound would retry for ever")

	global.MaxDuration = time.Hour
	p = delivery.ResolvePolicy(global, &delivery.PolicyOverride{MaxAttempts: &zero})
	require.Zero(t, p.MaxAttempts)
	require.Equal(t, time.Hour, p.MaxDuration)
}

func TestTargetAppliesTheSubscriptionsOverridesAndHidesItsQuery(t *testing.T) {
	initial, attempts := 0.5, 4
	d := delivery.Defaults{
		Retry:          delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxDuration: 72 * time.Hour},
		AttemptTimeout: 15 * time.Second, FailedRetention: 24 * time.Hour,
	}
	got := d.Target("sub_1", "https://u:p@hooks.example.test/in?token=s3cr3t", &delivery.PolicyOverride{InitialIntervalSeconds: &initial, MaxAttempts: &attempts}, 0)
	require.Equal(t, delivery.Target{
		SubscriptionID: "sub_1", URL: "https://hooks.example.test/in",
		Policy:         delivery.Policy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxAttempts: 4, MaxDuration: 72 * time.Hour},
		AttemptTimeout: 15 * time.Second, FailedRetention: 24 * time.Hour,
	}, got)
	require.Equal(t, 3*time.Second, d.Target("sub_1", "https://hooks.example.test/in", nil, 3*time.Second).AttemptTimeout)
}

func TestDisplayURLDropsCredentialsQueryAndFragment(t *testing.T) {
	require.Equal(t, "https://hooks.example.test:8443/in/x", delivery.DisplayURL("https://user:pw@hooks.example.test:8443/in/x?token=s3cr3t#frag"))
	require.Equal(t, "(unparsable url)", delivery.DisplayURL("http://[::1"))
}

// Workflow inputs show durations as operators write them, and inputs
// recorded before, with nanoseconds, still decode.
func TestPolicyJSONIsReadableAndReadsTheOldForm(t *testing.T) {
	p := delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: 4 * time.Hour, MaxDuration: 72 * time.Hour}
	b, err := json.Marshal(p.JSON())
	require.NoError(t, err)
	require.JSONEq(t, `{"initial_interval":"5s","backoff_coefficient":2,"max_interval":"4h0m0s","max_attempts":0,"max_duration":"72h0m0s"}`, string(b))
	var back delivery.PolicyJSON
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, p, back.Policy())

	var old delivery.PolicyJSON
	require.NoError(t, json.Unmarshal([]byte(`{"initial_interval":5000000000,"backoff_coefficient":2,"max_interval":14400000000000,"max_attempts":0,"max_duration":259200000000000}`), &old))
	require.Equal(t, p, old.Policy())

	var bad delivery.Duration
	require.ErrorContains(t, json.Unmarshal([]byte(`"soon"`), &bad), `duration "soon"`)
	require.Error(t, json.Unmarshal([]byte(`true`), &bad))
	require.NoError(t, json.Unmarshal([]byte(`null`), &bad))
}

// Jitter is a hash of the delivery and the attempt: the same on every call
// (the activity, the workflow and every replay agree), different between
// deliveries and between attempts, within [0, MaxJitter), and spread: 1,000
// deliveries failing together do not retry together.
func TestJitterIsFixedPerDeliveryAndAttemptAndSpreadsRetries(t *testing.T) {
	require.Equal(t, delivery.JitterOf("evt_1:sub_1", 2), delivery.JitterOf("evt_1:sub_1", 2))
	require.NotEqual(t, delivery.JitterOf("evt_1:sub_1", 1), delivery.JitterOf("evt_1:sub_1", 2))
	require.NotEqual(t, delivery.JitterOf("evt_1:sub_1", 1), delivery.JitterOf("evt_2:sub_1", 1))
	// Delivery id and attempt are kept apart: "a1"+1 is not "a"+11.
	require.NotEqual(t, delivery.JitterOf("a1", 1), delivery.JitterOf("a", 11))

	var low, high int
	waits := map[time.Duration]bool{}
	for i := range 1000 {
		j := delivery.JitterOf(fmt.Sprintf("evt_%d:sub_1", i), 1)
		require.GreaterOrEqual(t, j, 0.0)
		require.Less(t, j, delivery.MaxJitter)
		if j < delivery.MaxJitter/2 {
			low++
		} else {
			high++
		}
		waits[delivery.Jittered(time.Minute, j)] = true
	}
	require.InDelta(t, 500, low, 80, "about half in each half of the range")
	require.InDelta(t, 500, high, 80)
	require.Greater(t, len(waits), 900, "distinct waits: no lockstep")
}

func TestDecideShortensTheBackoffByTheJitterButNeverBelowRetryAfter(t *testing.T) {
	p := delivery.Policy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxDuration: 72 * time.Hour}
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	round := delivery.Round{Attempts: 1, Start: start, Jitter: 0.15}

	d := delivery.Decide(p, round, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 500, At: start})
	require.Equal(t, start.Add(8500*time.Millisecond), d.NextAttemptAt, "10 s less 15%")

	d = delivery.Decide(p, round, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 429, RetryAfter: 9 * time.Second, At: start})
	require.Equal(t, start.Add(9*time.Second), d.NextAttemptAt, "a Retry-After between the jittered and the plain backoff holds")

	d = delivery.Decide(p, round, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 429, RetryAfter: time.Minute, At: start})
	require.Equal(t, start.Add(time.Minute), d.NextAttemptAt, "a longer Retry-After is not shortened")

	d = delivery.Decide(p, delivery.Round{Attempts: 1, Start: start}, delivery.Facts{Kind: delivery.KindAnswered, StatusCode: 500, At: start})
	require.Equal(t, start.Add(10*time.Second), d.NextAttemptAt, "no jitter: the plain schedule")

	require.Equal(t, 8*time.Second, delivery.Jittered(10*time.Second, 0.5), "capped at MaxJitter")
}
