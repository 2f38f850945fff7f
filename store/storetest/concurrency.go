package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseConcurrency(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("WritersOnDifferentDeliveries", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const (
			writers  = 20
			attempts = 5
		)
		ds := make([]store.Delivery, writers)
		for i := range ds {
			ds[i] = newDelivery(fmt.Sprintf("dlv_%02d", i), "evt_1", fmt.Sprintf("sub_%02d", i))
		}
		require.NoError(t, s.AddDeliveries(t.Context(), ds))

		errs := make(chan error, writers*(attempts+2))
		var wg sync.WaitGroup
		for i := range writers {
			id := ds[i].ID
			wg.Go(func() {
				ctx := t.Context()
				for n := 1; n <= attempts; n++ {
					if err := s.RecordAttempt(ctx, newAttempt(id, n), store.DeliveryRetrying, t0); err != nil {
						errs <- fmt.Errorf("%s attempt %d: %w", id, n, err)
					}
					// Readers run beside the writers, as the API does.
					if _, err := s.GetDelivery(ctx, store.DefaultApplication, id); err != nil {
						errs <- fmt.Errorf("%s read: %w", id, err)
					}
				}
				if err := s.SetDeliveryStatus(ctx, id, store.DeliveryFailed, time.Time{}); err != nil {
					errs <- fmt.Errorf("%s status: %w", id, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		var all []string
		for err := range errs {
			all = append(all, err.Error())
		}
		require.Empty(t, all, "concurrent writers failed:\n%s", strings.Join(all, "\n"))

		for _, d := range ds {
			got, err := s.GetDelivery(t.Context(), store.DefaultApplication, d.ID)
			require.NoError(t, err)
			require.Equal(t, attempts, got.Attempts)
			require.Equal(t, store.DeliveryFailed, got.Status)
			log, err := s.ListAttempts(t.Context(), d.ID)
			require.NoError(t, err)
			require.Equal(t, []int{1, 2, 3, 4, 5}, attemptNumbers(log))
		}
	})

	t.Run("SameEventCreatedOnce", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const callers = 10
		type result struct {
			created bool
			err     error
		}
		results := make(chan result, callers)
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				_, created, err := s.CreateEvent(t.Context(), newEvent("evt_race", "h"))
				results <- result{created, err}
			})
		}
		wg.Wait()
		close(results)
		createdCount := 0
		for r := range results {
			require.NoError(t, r.err)
			if r.created {
				createdCount++
			}
		}
		require.Equal(t, 1, createdCount, "exactly one caller creates the event")
	})

	t.Run("SubscriptionWritersAndMatchers", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const writers = 10
		errs := make(chan error, writers*2)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				ctx := t.Context()
				sub := newSubscription(fmt.Sprintf("sub_%02d", i), "order.*")
				if err := s.CreateSubscription(ctx, sub); err != nil {
					errs <- err
					return
				}
				sub.EventTypes = []string{"order.created", "invoice.paid"}
				if err := s.UpdateSubscription(ctx, sub); err != nil {
					errs <- err
				}
				if _, err := s.MatchSubscriptions(ctx, store.DefaultApplication, "order.created", "", 100); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, matchAll(t, s, "invoice.paid", 3), writers)
	})
}
