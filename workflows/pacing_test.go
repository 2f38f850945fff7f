package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPauseLengthGathersAboutTwentyEventsWithinBounds(t *testing.T) {
	cases := []struct {
		name string
		rate float64
		want time.Duration
		ok   bool
	}{
		{"rate not known yet", 0, minPause, true},
		{"200 events a second: 100 ms", 200, 100 * time.Millisecond, true},
		{"slow events: capped", 10, maxPause, true},
		{"just at the floor", 2000, minPause, true},
		{"fast enough to gather without a pause", 5000, 0, false},
		{"rounded to the millisecond", 300, 67 * time.Millisecond, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := pauseLength(tc.rate)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, d)
		})
	}
}

// The server fails a task in flight past 100 buffered events: a pause
// sized for pauseEvents must leave room for the rate to jump fivefold.
func TestAPauseLeavesRoomUnderTheServersBuffer(t *testing.T) {
	require.LessOrEqual(t, pauseEvents*5, 100)
	require.Less(t, minPause, maxPause)
}

func TestTheRateIsMeasuredFromTheSecondWake(t *testing.T) {
	w := &batchWait{}
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	w.observe(t0, 1)
	require.Zero(t, w.rate, "the first wake says nothing of the rate")
	w.observe(t0.Add(100*time.Millisecond), 30)
	require.InDelta(t, 300, w.rate, 0.001)
	w.observe(t0.Add(100*time.Millisecond), 50)
	require.InDelta(t, 300, w.rate, 0.001, "no time passed: the rate stays")
}

func TestOnlyLargeBatchesWithOpenChildrenSettle(t *testing.T) {
	require.False(t, needsSettling(settleFrom-1, 0), "a small batch closes at once")
	require.True(t, needsSettling(settleFrom, 0))
	require.True(t, needsSettling(500, 499))
	require.False(t, needsSettling(500, 500), "every child closed: nothing to wait for")
}
