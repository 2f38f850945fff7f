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
	flightPollMax = time.Second
	// throttleReserve is what the activity keeps of its deadline beyond the
	// request's own timeout, for logging the attempt.
	throttleReserve = 3 * time.Second
)

// errThrottled is a wait for a slot that did not end within the attempt's
// budget.
var errThrottled = fmt.Errorf("waited for the subscription's max_in_flight or rate_limit beyond the attempt's time; nothing was sent")

// throttle waits until the subscription's limits let this attempt send: a
// max_in_flight slot first (leased in the store, shared by every worker),
// then its turn in the rate_limit schedule (also in the store). It returns
// the release of the slot, to call once the request has ended. A wait that
// would not leave the attempt its timeout before the activity's deadline
// ends with errThrottled: the attempt is logged as not sent and retried on
// the backoff schedule, rather than timing out unlogged.
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
				return nil, errThrottled
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
		at, err := a.Store.ReserveSend(ctx, sub.ID, time.Duration(float64(time.Second)/sub.RateLimit), a.now())
		if err != nil {
			release()
			return nil, err
		}
		// A turn reserved and not used is a gap in the schedule, never a
		// burst: the limit holds.
		wait := at.Sub(a.now())
		if time.Now().Add(wait).After(latest) {
			release()
			return nil, errThrottled
		}
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
