package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseFlowControl(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("SubscriptionKeepsItsLimits", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_limited", "order.created")
		sub.RateLimit, sub.MaxInFlight = 2.5, 3
		createSubscriptions(t, s, sub)
		got, err := s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
		require.NoError(t, err)
		require.Equal(t, 2.5, got.RateLimit)
		require.Equal(t, 3, got.MaxInFlight)
		got.RateLimit, got.MaxInFlight = 0, 1
		require.NoError(t, s.UpdateSubscription(t.Context(), got))
		got, err = s.GetSubscription(t.Context(), store.DefaultApplication, sub.ID)
		require.NoError(t, err)
		require.Equal(t, 0.0, got.RateLimit)
		require.Equal(t, 1, got.MaxInFlight)
	})

	t.Run("FlightSlotsAreCappedReleasedAndExpire", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_cap", "order.created"))
		now, lease := t0, time.Minute
		for _, h := range []string{"a", "b"} {
			ok, err := s.AcquireFlight(t.Context(), "sub_cap", h, 2, now, now.Add(lease))
			require.NoError(t, err)
			require.True(t, ok, h)
		}
		ok, err := s.AcquireFlight(t.Context(), "sub_cap", "c", 2, now, now.Add(lease))
		require.NoError(t, err)
		require.False(t, ok, "both slots are held")
		ok, err = s.AcquireFlight(t.Context(), "sub_cap", "a", 2, now, now.Add(2*lease))
		require.NoError(t, err)
		require.True(t, ok, "a holder renews its own slot")

		require.NoError(t, s.ReleaseFlight(t.Context(), "sub_cap", "b"))
		require.NoError(t, s.ReleaseFlight(t.Context(), "sub_cap", "b"), "releasing twice is no error")
		ok, err = s.AcquireFlight(t.Context(), "sub_cap", "c", 2, now, now.Add(lease))
		require.NoError(t, err)
		require.True(t, ok, "a released slot is free")

		// c's lease ends at now+lease, a's (renewed) at now+2*lease: a
		// holder that died without releasing gives its slot back.
		later := now.Add(lease)
		ok, err = s.AcquireFlight(t.Context(), "sub_cap", "d", 2, later, later.Add(lease))
		require.NoError(t, err)
		require.True(t, ok, "c's lease ran out")
		ok, err = s.AcquireFlight(t.Context(), "sub_cap", "e", 2, later, later.Add(lease))
		require.NoError(t, err)
		require.False(t, ok, "a's renewed lease still holds")
	})

	// Workers take slots from one database at once: never more than max.
	t.Run("ConcurrentHoldersNeverExceedTheCap", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		createSubscriptions(t, s, newSubscription("sub_race", "order.created"))
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  int
			errs []error
		)
		for i := range 12 {
			wg.Go(func() {
				ok, err := s.AcquireFlight(t.Context(), "sub_race", fmt.Sprintf("h%d", i), 3, t0, t0.Add(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				}
				if ok {
					won++
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Equal(t, 3, won)
	})

	t.Run("SendsAreSpacedByTheInterval", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		interval := 250 * time.Millisecond
		var got []time.Time
		for range 3 {
			at, ok, err := s.ReserveSend(t.Context(), "sub_rate", interval, t0, t0.Add(time.Second))
			require.NoError(t, err)
			require.True(t, ok)
			got = append(got, at)
		}
		require.Equal(t, []time.Time{stored(t0), stored(t0.Add(interval)), stored(t0.Add(2 * interval))}, got)
		// A turn later than the caller can wait is not taken, and leaves
		// the schedule as it was.
		for range 2 {
			at, ok, err := s.ReserveSend(t.Context(), "sub_rate", interval, t0, t0.Add(interval))
			require.NoError(t, err)
			require.False(t, ok)
			require.Equal(t, stored(t0.Add(3*interval)), at, "when the next turn is free")
		}
		at, ok, err := s.ReserveSend(t.Context(), "sub_rate", interval, t0, t0.Add(3*interval))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, stored(t0.Add(3*interval)), at)
		// After a quiet spell the schedule starts from now, not from the past.
		much := t0.Add(time.Hour)
		at, ok, err = s.ReserveSend(t.Context(), "sub_rate", interval, much, much)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, stored(much), at)
	})

	t.Run("DeletingASubscriptionDropsItsFlowState", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		sub := newSubscription("sub_gone", "order.created")
		createSubscriptions(t, s, sub)
		_, _, err := s.ReserveSend(t.Context(), sub.ID, time.Hour, t0, t0)
		require.NoError(t, err)
		ok, err := s.AcquireFlight(t.Context(), sub.ID, "h", 1, t0, t0.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.DeleteSubscription(t.Context(), store.DefaultApplication, sub.ID))

		createSubscriptions(t, s, sub)
		at, _, err := s.ReserveSend(t.Context(), sub.ID, time.Hour, t0, t0)
		require.NoError(t, err)
		require.Equal(t, stored(t0), at, "no schedule left from before")
		ok, err = s.AcquireFlight(t.Context(), sub.ID, "other", 1, t0, t0.Add(time.Hour))
		require.NoError(t, err)
		require.True(t, ok, "no lease left from before")
	})
}
