package delivery_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/delivery"
)

func TestIntervalGrowsAndIsCapped(t *testing.T) {
	p := delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: time.Minute}
	got := []time.Duration{}
	for i := 1; i <= 6; i++ {
		got = append(got, p.Interval(i))
	}
	require.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}, got)
	require.Equal(t, time.Minute, p.Interval(10_000), "huge attempt numbers must not overflow")
}

func TestNextStopsAtMaxAttempts(t *testing.T) {
	p := delivery.Policy{InitialInterval: time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour, MaxAttempts: 3}
	start := time.Unix(0, 0)
	_, ok := p.Next(2, start, start, 0)
	require.True(t, ok)
	_, ok = p.Next(3, start, start, 0)
	require.False(t, ok)
}

func TestNextStopsAtMaxDuration(t *testing.T) {
	p := delivery.Policy{InitialInterval: time.Hour, BackoffCoefficient: 1, MaxInterval: time.Hour, MaxDuration: 3 * time.Hour}
	start := time.Unix(0, 0)
	wait, ok := p.Next(1, start, start.Add(time.Hour), 0)
	require.True(t, ok)
	require.Equal(t, time.Hour, wait)
	_, ok = p.Next(3, start, start.Add(150*time.Minute), 0)
	require.False(t, ok)
}

func TestNextHonoursRetryAfterWithinACap(t *testing.T) {
	p := delivery.Policy{InitialInterval: time.Second, BackoffCoefficient: 2, MaxInterval: time.Hour}
	start := time.Unix(0, 0)
	wait, _ := p.Next(1, start, start, 30*time.Second)
	require.Equal(t, 30*time.Second, wait)
	wait, _ = p.Next(1, start, start, 1000*time.Hour)
	require.Equal(t, delivery.MaxRetryAfter, wait)
	wait, _ = p.Next(1, start, start, time.Millisecond)
	require.Equal(t, time.Second, wait, "a Retry-After shorter than the backoff does not hurry it")
}
