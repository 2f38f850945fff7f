package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseLog(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("EventsNewestFirstInPages", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		// Several events share a creation time: the id breaks the tie, so
		// the order is total and pages neither skip nor repeat.
		var want []string
		for i := range 7 {
			e := newEvent(fmt.Sprintf("evt_%d", i), "h")
			e.CreatedAt = t0.Add(time.Duration(i/2) * time.Second)
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
			want = append([]string{e.ID}, want...)
		}
		got := listEvents(t, s, store.ListEventsParams{ApplicationID: store.DefaultApplication}, 3)
		require.Equal(t, want, got)

		p, err := s.ListEventLog(t.Context(), store.ListEventsParams{ApplicationID: store.DefaultApplication, Limit: 7})
		require.NoError(t, err)
		require.False(t, p.HasMore, "a page that holds the rest says so")
		require.Empty(t, p.NextCursor)
		require.Len(t, p.Items, 7)
		require.Equal(t, stored(t0.Add(3*time.Second)), p.Items[0].CreatedAt)
	})

	t.Run("EventFiltersCombine", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		require.NoError(t, s.CreateApplication(t.Context(), newApplication("acme")))
		for i := range 12 {
			e := newEvent(fmt.Sprintf("evt_%02d", i), "h")
			e.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			if i%2 == 1 {
				e.Type = "invoice.paid"
			}
			if i%3 == 0 {
				e.ApplicationID = "acme"
			}
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
		}
		// default, invoice.paid, minutes [3, 9): 5 and 7 (3 and 9 are acme's or out).
		got := listEvents(t, s, store.ListEventsParams{
			ApplicationID: store.DefaultApplication, Type: "invoice.paid",
			Window: store.Window{Since: t0.Add(3 * time.Minute), Until: t0.Add(9 * time.Minute)},
		}, 1)
		require.Equal(t, []string{"evt_07", "evt_05"}, got)
		got = listEvents(t, s, store.ListEventsParams{ApplicationID: "acme", Window: store.Window{Since: t0.Add(6 * time.Minute)}}, 2)
		require.Equal(t, []string{"evt_09", "evt_06"}, got, "one application's list never shows another's")
		got = listEvents(t, s, store.ListEventsParams{ApplicationID: "acme", Window: store.Window{Until: t0.Add(3 * time.Minute)}}, 2)
		require.Equal(t, []string{"evt_00"}, got, "until is exclusive")
	})

	t.Run("DeliveryFiltersCombine", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var ds []store.Delivery
		for i := range 16 {
			d := newDelivery(fmt.Sprintf("dlv_%02d", i), fmt.Sprintf("evt_%d", i%2), fmt.Sprintf("sub_%d", i%4))
			d.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
			if i%8 >= 4 {
				d.Status = store.DeliveryFailed
			}
			ds = append(ds, d)
		}
		require.NoError(t, s.AddDeliveries(t.Context(), ds))
		all := listDeliveries(t, s, store.ListDeliveriesParams{ApplicationID: store.DefaultApplication}, 5)
		require.Len(t, all, 16)
		require.Equal(t, "dlv_15", all[0])

		// sub_1 has 1, 5, 9, 13; of those evt_1 all; failed: 5 and 13; since minute 6: 13.
		got := listDeliveries(t, s, store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, SubscriptionID: "sub_1"}, 3)
		require.Equal(t, []string{"dlv_13", "dlv_09", "dlv_05", "dlv_01"}, got)
		got = listDeliveries(t, s, store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, SubscriptionID: "sub_1", EventID: "evt_1", Status: store.DeliveryFailed}, 1)
		require.Equal(t, []string{"dlv_13", "dlv_05"}, got)
		got = listDeliveries(t, s, store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, SubscriptionID: "sub_1", Status: store.DeliveryFailed,
			Window: store.Window{Since: t0.Add(6 * time.Minute)}}, 1)
		require.Equal(t, []string{"dlv_13"}, got)
		got = listDeliveries(t, s, store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, EventID: "evt_0", Status: store.DeliveryPending,
			Window: store.Window{Until: t0.Add(10 * time.Minute)}}, 2)
		require.Equal(t, []string{"dlv_08", "dlv_02", "dlv_00"}, got)
		got = listDeliveries(t, s, store.ListDeliveriesParams{ApplicationID: "acme"}, 2)
		require.Empty(t, got)

		p, err := s.ListDeliveryLog(t.Context(), store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, EventID: "evt_1", Limit: 1})
		require.NoError(t, err)
		d := p.Items[0]
		require.Equal(t, "dlv_15", d.ID)
		require.Equal(t, stored(t0.Add(15*time.Minute)), d.CreatedAt)
		require.Equal(t, "sub_3", d.SubscriptionID)
	})

	t.Run("StableUnderConcurrentInserts", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const before = 60
		var want []string
		for i := range before {
			e := newEvent(fmt.Sprintf("evt_old_%03d", i), "h")
			e.CreatedAt = t0.Add(time.Duration(i/3) * time.Millisecond)
			_, _, err := s.CreateEvent(t.Context(), e)
			require.NoError(t, err)
			require.NoError(t, s.AddDeliveries(t.Context(), []store.Delivery{func() store.Delivery {
				d := newDelivery("dlv_old_"+fmt.Sprintf("%03d", i), e.ID, "sub_1")
				d.CreatedAt = e.CreatedAt
				return d
			}()}))
			want = append([]string{e.ID}, want...)
		}
		// Writers insert newer events and deliveries while the reader pages.
		stop, writing := make(chan struct{}), make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w := range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					e := newEvent(fmt.Sprintf("evt_new_%d_%04d", w, i), "h")
					e.CreatedAt = t0.Add(time.Hour + time.Duration(i)*time.Millisecond)
					if _, _, err := s.CreateEvent(t.Context(), e); err != nil {
						errs <- err
						return
					}
					d := newDelivery(fmt.Sprintf("dlv_new_%d_%04d", w, i), e.ID, "sub_1")
					d.CreatedAt = e.CreatedAt
					if err := s.AddDeliveries(t.Context(), []store.Delivery{d}); err != nil {
						errs <- err
						return
					}
					once.Do(func() { close(writing) })
				}
			})
		}
		// The first page is taken once the writers run; the old items follow
		// whatever is inserted meanwhile.
		<-writing
		var gotEvents, gotDeliveries []string
		for cursor, first := "", true; first || cursor != ""; first = false {
			p, err := s.ListEventLog(t.Context(), store.ListEventsParams{ApplicationID: store.DefaultApplication, Cursor: cursor, Limit: 7})
			require.NoError(t, err)
			for _, e := range p.Items {
				gotEvents = append(gotEvents, e.ID)
			}
			cursor = p.NextCursor
		}
		for cursor, first := "", true; first || cursor != ""; first = false {
			p, err := s.ListDeliveryLog(t.Context(), store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, SubscriptionID: "sub_1",
				Window: store.Window{Until: t0.Add(time.Hour)}, Cursor: cursor, Limit: 7})
			require.NoError(t, err)
			for _, d := range p.Items {
				gotDeliveries = append(gotDeliveries, d.ID)
			}
			cursor = p.NextCursor
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		seen := map[string]bool{}
		var old []string
		for _, id := range gotEvents {
			require.False(t, seen[id], "event %s listed twice", id)
			seen[id] = true
			if len(id) > 8 && id[:8] == "evt_old_" {
				old = append(old, id)
			}
		}
		require.Equal(t, want, old, "every event that existed is listed once, in order")
		first, err := s.ListEventLog(t.Context(), store.ListEventsParams{ApplicationID: store.DefaultApplication, Limit: 1})
		require.NoError(t, err)
		require.Contains(t, first.Items[0].ID, "evt_new_", "the writers did insert while the pages were read")
		require.Len(t, gotDeliveries, before)
		require.Equal(t, "dlv_old_059", gotDeliveries[0])
		require.Equal(t, "dlv_old_000", gotDeliveries[before-1])
	})

	t.Run("BadCursorAndLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, c := range []string{"zzz", "bm90IGEgY3Vyc29y", "%%", "LTE6ZXZ0XzE", "MTp3aXRoIHNwYWNl"} {
			_, err := s.ListEventLog(t.Context(), store.ListEventsParams{ApplicationID: store.DefaultApplication, Cursor: c, Limit: 10})
			require.ErrorIs(t, err, store.ErrBadCursor, "cursor %q", c)
			_, err = s.ListDeliveryLog(t.Context(), store.ListDeliveriesParams{ApplicationID: store.DefaultApplication, Cursor: c, Limit: 10})
			require.ErrorIs(t, err, store.ErrBadCursor, "cursor %q", c)
		}
		for _, l := range []int{0, -1, store.MaxLogPage + 1} {
			_, err := s.ListEventLog(t.Context(), store.ListEventsParams{ApplicationID: store.DefaultApplication, Limit: l})
			require.Error(t, err, "limit %d", l)
		}
	})

	t.Run("DeliverAtAndCancelledKept", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		e := newEvent("evt_later", "h")
		e.DeliverAt = t0.Add(time.Hour)
		got, _, err := s.CreateEvent(t.Context(), e)
		require.NoError(t, err)
		require.Equal(t, stored(e.DeliverAt), got.DeliverAt)
		claimed, err := s.ClaimPendingEvents(t.Context(), time.Now(), time.Now().Add(time.Minute), 10)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		require.Equal(t, stored(e.DeliverAt), claimed[0].DeliverAt, "the dispatcher reads the stored time, so a restart does not shift it")
		require.NoError(t, s.MarkEventCancelled(t.Context(), store.DefaultApplication, e.ID))
		read, err := s.GetEvent(t.Context(), store.DefaultApplication, e.ID)
		require.NoError(t, err)
		require.True(t, read.Cancelled)
		require.ErrorIs(t, s.MarkEventCancelled(t.Context(), store.DefaultApplication, "evt_missing"), store.ErrNotFound)
	})
}

// listEvents pages through a list pageSize at a time and returns the ids.
func listEvents(t *testing.T, s store.Store, p store.ListEventsParams, pageSize int) []string {
	t.Helper()
	var out []string
	p.Limit = pageSize
	for {
		page, err := s.ListEventLog(t.Context(), p)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Items), pageSize)
		for _, e := range page.Items {
			out = append(out, e.ID)
		}
		if !page.HasMore {
			require.Empty(t, page.NextCursor)
			return out
		}
		require.Len(t, page.Items, pageSize, "a page before the last is full")
		p.Cursor = page.NextCursor
	}
}

func listDeliveries(t *testing.T, s store.Store, p store.ListDeliveriesParams, pageSize int) []string {
	t.Helper()
	var out []string
	p.Limit = pageSize
	for {
		page, err := s.ListDeliveryLog(t.Context(), p)
		require.NoError(t, err)
		for _, d := range page.Items {
			out = append(out, d.ID)
		}
		if !page.HasMore {
			return out
		}
		require.Len(t, page.Items, pageSize, "a page before the last is full")
		p.Cursor = page.NextCursor
	}
}
