package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rates counts the busiest second over windows that start at each request,
// so that a burst split by a second boundary still shows.
func TestRatesFindsTheBusiestSecond(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var at []time.Time
	for i := range 41 { // every 50 ms for 2 s: 20 a second
		at = append(at, t0.Add(time.Duration(i)*50*time.Millisecond))
	}
	most, mean := rates(at)
	require.Equal(t, 20, most)
	require.InDelta(t, 20, mean, 0.001)

	// Seven at once across 0.9 s to 1.1 s, out of order.
	burst := []time.Time{t0.Add(5 * time.Second)}
	for i := range 7 {
		burst = append(burst, t0.Add(1100*time.Millisecond-time.Duration(i)*30*time.Millisecond))
	}
	most, _ = rates(burst)
	require.Equal(t, 7, most)

	most, mean = rates(nil)
	require.Zero(t, most)
	require.Zero(t, mean)
}
