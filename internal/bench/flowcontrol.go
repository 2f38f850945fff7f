package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hookflow/hookflow/store"
)

// The fairness scenario's setting, the test (e2e
// TestOneApplicationsBacklogDoesNotHoldUpAnother): four delivery slots and
// 40 ms a request make about 100 deliveries a second at best, so that the
// busy application's events queue for seconds in the delivery queue.
const (
	fairnessSlots = 4
	fairnessDelay = 40 * time.Millisecond
	busyApp       = "busy"
	quietApp      = "quiet"
	// busySub and quietSub are their receivers' subscriber paths.
	busySub, quietSub = "0", "1"
)

// appSub is a subscription whose deliveries' attempts are counted.
type appSub struct{ app, id string }

// setupRate subscribes receiver 0 with the scenario's rate_limit.
func setupRate(ctx context.Context, apiURL, eventType string, sc Scenario, recv *receiver) ([]appSub, error) {
	hc := &http.Client{Timeout: time.Minute}
	id, err := createSubscription(ctx, hc, apiURL, "", map[string]any{
		"url": recv.url("0"), "event_types": []string{eventType}, "rate_limit": sc.RateLimit,
	})
	if err != nil {
		return nil, err
	}
	return []appSub{{"", id}}, nil
}

// setupFairness creates the busy and the quiet application, each with one
// subscription to eventType; the busy one's receiver takes the scenario's
// delay a request.
func setupFairness(ctx context.Context, apiURL, eventType string, sc Scenario, recv *receiver) ([]appSub, error) {
	hc := &http.Client{Timeout: time.Minute}
	recv.slow(busySub, sc.ReceiverDelay)
	var subs []appSub
	for _, a := range []struct{ app, sub string }{{busyApp, busySub}, {quietApp, quietSub}} {
		var created struct {
			ID string `json:"id"`
		}
		if err := postJSON(ctx, hc, apiURL+"/v1/applications", map[string]any{"id": a.app, "name": a.app}, &created); err != nil {
			return nil, fmt.Errorf("create application %s: %w", a.app, err)
		}
		id, err := createSubscription(ctx, hc, apiURL, a.app, map[string]any{"url": recv.url(a.sub), "event_types": []string{eventType}})
		if err != nil {
			return nil, err
		}
		subs = append(subs, appSub{a.app, id})
	}
	return subs, nil
}

// postFairness posts the backlog to the busy application, waits until
// every one of its event workflows has started (the outbox is empty, so
// the backlog is in Temporal's delivery queue, which fairness orders, and
// the quiet event cannot pass it in the outbox instead), then posts one
// event to the quiet application and waits for it, noting in res how long
// it took and how much of the backlog was still queued.
func (b *bench) postFairness(ctx context.Context, sc Scenario, p *producer, eventType string, recv *receiver, dbURL string, res *Result) ([]post, error) {
	posts := b.postBurstIn(ctx, sc, p, busyApp, eventType)
	if err := waitOutboxEmpty(ctx, dbURL); err != nil {
		return posts, err
	}
	posted := time.Now()
	res.BacklogAtPost = sc.Events - recv.arrivedBy(busySub, posted)
	q := p.postIn(ctx, quietApp, eventID(eventType, sc.Events), eventType)
	posts = append(posts, q)
	if q.err != nil {
		return posts, q.err
	}
	deadline := time.Now().Add(b.opts.Stall)
	for {
		if at, ok := recv.arrival(quietSub, q.id); ok {
			res.QuietLagMs = ms(at.Sub(q.sent))
			res.BacklogQueued = sc.Events - recv.arrivedBy(busySub, at)
			b.progress("  the quiet application's event arrived after %s, with %d of the busy one's %d still queued (%d at its post)",
				at.Sub(q.sent).Round(time.Millisecond), res.BacklogQueued, sc.Events, res.BacklogAtPost)
			return posts, nil
		}
		if time.Now().After(deadline) {
			return posts, fmt.Errorf("the quiet application's event was not delivered within %s", b.opts.Stall)
		}
		select {
		case <-recv.notify:
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return posts, ctx.Err()
		}
	}
}

// waitOutboxEmpty waits until no accepted event waits for its workflow to
// start, reading Hookflow's database.
func waitOutboxEmpty(ctx context.Context, dbURL string) error {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		s, err := st.OutboxStats(ctx)
		if err == nil && s.Pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the outbox still had %d events after 5 minutes (%v)", s.Pending, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// rates returns the most requests in any one second (a window starting at
// each request) and the mean rate from the first request to the last.
func rates(at []time.Time) (most int, mean float64) {
	if len(at) == 0 {
		return 0, 0
	}
	at = slices.Clone(at)
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	j := 0
	for i := range at {
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	if span := at[len(at)-1].Sub(at[0]); span > 0 {
		mean = float64(len(at)-1) / span.Seconds()
	}
	return most, mean
}

// countAttempts sums the attempts the store logged for the deliveries of
// subs, through the API, into res.AttemptsPerDelivery.
func countAttempts(ctx context.Context, p *producer, subs []appSub, res *Result) error {
	attempts, deliveries := 0, 0
	for _, s := range subs {
		cursor := ""
		for {
			q := url.Values{"subscription_id": {s.id}, "limit": {"100"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var page struct {
				Data []struct {
					Attempts int `json:"attempts"`
				} `json:"data"`
				NextCursor string `json:"next_cursor"`
				HasMore    bool   `json:"has_more"`
			}
			if err := p.call(ctx, http.MethodGet, appPath(s.app)+"/deliveries?"+q.Encode(), nil, http.StatusOK, &page); err != nil {
				return fmt.Errorf("count attempts: %w", err)
			}
			for _, d := range page.Data {
				attempts += d.Attempts
				deliveries++
			}
			if !page.HasMore || page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
	}
	if deliveries == 0 {
		return fmt.Errorf("count attempts: no delivery listed")
	}
	res.AttemptsPerDelivery = float64(attempts) / float64(deliveries)
	return nil
}
