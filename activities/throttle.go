package activities

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/store"
)

// Flow control of one attempt (README, "Rate limits and concurrency caps").
const (
	// flightLeaseMargin is how long past the attempt's own timeout its
	// max_in_flight slot stays leased: the request cannot outlast the
	// timeout, so the lease never ends under a live request, and the slot
	// of a worker killed mid-request comes back within timeout + margin
	// (45 s with the default 15 s timeout).
	flightLeaseMargin = 30 * time.Second
	// flightPollMin and flightPollMax bound the wait between two tries for
	// a slot: each try is a short write transaction, so many waiting
	// attempts back off to about one try a second each.
	flightPollMin = 20 * time.Millisecond
	flightPollMax = 500 * time.Millisecond
	// flightRetryAfter is how long a delivery that found no max_in_flight
	// slot within its attempt's budget waits, in its workflow, before it
	// tries again.
	flightRetryAfter = 2 * time.Second
	// throttleReserve is what the activity keeps of its deadline beyond the
	// request's own timeout, for logging the attempt.
	throttleReserve = 3 * time.Second
)

// throttledError is a wait for a slot or a turn that would not end within
// the attempt's budget: nothing was sent, and the delivery waits in its
// workflow (a durable timer, no worker slot held) until Until, spending no
// attempt.
type throttledError struct {
	Limit string
	Until time.Time
}

func (e *throttledError) Error() string {
	return fmt.Sprintf("waiting for the subscription's %s: nothing was sent; next try at %s", e.Limit, e.Until.UTC().Format(time.RFC3339Nano))
}

// throttle waits until the subscription's limits let this attempt send: a
// max_in_flight slot first (leased in the store, shared by every worker),
// then its turn in the rate_limit schedule (also in the store). It returns
// the release of the slot, to call once the request has ended. A wait that
// would not leave the attempt its timeout before the activity's deadline
// ends with a *throttledError, before taking the turn it could not use:
// the delivery waits in its workflow and tries again, spending no attempt.
func (a *Activities) throttle(ctx context.Context, in DeliverInput, sub store.Subscription, timeout time.Duration) (func(), error) {
	release := func() {}
	if sub.MaxInFlight <= 0 && sub.RateLimit <= 0 {
		return release, nil
	}
	latest := time.Now().Add(time.Hour)
	if dl, ok := ctx.Deadline(); ok {
		latest = dl.Add(-timeout - throttleReserve)
	}
	if sub.MaxInFlight > 0 {
		holder := in.DeliveryID + "#" + strconv.Itoa(in.Attempt)
		poll := flightPollMin
		var waiting func()
		for {
			now := a.now()
			ok, err := a.Store.AcquireFlight(ctx, sub.ID, holder, sub.MaxInFlight, now, now.Add(timeout+flightLeaseMargin))
			if err != nil {
				return nil, err
			}
			if ok {
				break
			}
			if waiting == nil {
				waiting = a.Metrics.Throttled(metrics.LimitMaxInFlight)
				defer waiting()
			}
			if time.Now().Add(poll).After(latest) {
				return nil, &throttledError{Limit: metrics.LimitMaxInFlight, Until: a.now().Add(flightRetryAfter)}
			}
			if err := sleep(ctx, poll); err != nil {
				return nil, err
			}
			poll = min(poll*2, flightPollMax)
		}
		release = func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
			defer cancel()
			// A slot not released is back when its lease ends.
			if err := a.Store.ReleaseFlight(rctx, sub.ID, holder); err != nil {
				activity.GetLogger(ctx).Warn("cannot release a max_in_flight slot", "subscription", sub.ID, "err", err)
			}
		}
	}
	if sub.RateLimit > 0 {
		now := a.now()
		at, ok, err := a.Store.ReserveSend(ctx, sub.ID, time.Duration(float64(time.Second)/sub.RateLimit), now, now.Add(time.Until(latest)))
		if err != nil {
			release()
			return nil, err
		}
		if !ok {
			// The turn is later than this attempt can wait: it is left for
			// an attempt that can, so that a burst does not push the
			// schedule on by turns nobody uses.
			release()
			return nil, &throttledError{Limit: metrics.LimitRateLimit, Until: at}
		}
		wait := at.Sub(a.now())
		if wait > 0 {
			done := a.Metrics.Throttled(metrics.LimitRateLimit)
			err := sleep(ctx, wait)
			done()
			if err != nil {
				release()
				return nil, err
			}
		}
	}
	return release, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
