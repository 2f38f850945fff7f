package activities_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/operational"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
)

// fixture is one subscription, one event and its pending delivery in a
// fresh SQLite store, and the activities that deliver it.
type fixture struct {
	store *store.SQL
	acts  *activities.Activities
	sub   store.Subscription
	in    activities.DeliverInput
	now   time.Time
}

func newFixture(t *testing.T, url string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hookflow.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	secret, err := signing.NewSecret()
	require.NoError(t, err)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	sub := store.Subscription{ApplicationID: store.DefaultApplication,
		ID: "sub_01TEST", URL: url, EventTypes: []string{"order.*"}, Secret: secret,
		Status: store.SubscriptionActive, CreatedAt: now, UpdatedAt: now,
	}
	require.NoError(t, st.CreateSubscription(ctx, sub))
	_, _, err = st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication,
		ID: "evt_1", Type: "order.created", Payload: []byte(`{"id":"evt_1"}`), BodyHash: "h",
		WorkflowID: "event:evt_1", RunID: "run", CreatedAt: now,
	})
	require.NoError(t, err)
	id := ids.Delivery("evt_1", sub.ID)
	require.NoError(t, st.AddDeliveries(ctx, []store.Delivery{{ApplicationID: store.DefaultApplication,
		ID: id, EventID: "evt_1", SubscriptionID: sub.ID, URL: url, Status: store.DeliveryPending,
		WorkflowID: ids.DeliveryWorkflow("", id), UpdatedAt: now,
	}}))
	policy := delivery.Policy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaxInterval: 4 * time.Hour, MaxDuration: 72 * time.Hour}
	return &fixture{
		store: st, sub: sub, now: now,
		acts: &activities.Activities{
			Store: st, HTTP: netguard.NewHTTPClient(netguard.Policy{AllowPrivate: true}, netguard.ClientOptions{}), UserAgent: "hookflow/test",
			Defaults: delivery.Defaults{Retry: policy, AttemptTimeout: 15 * time.Second},
			Now:      func() time.Time { return now },
		},
		in: activities.DeliverInput{
			DeliveryID: id, EventID: "evt_1", SubscriptionID: sub.ID,
			Attempt: 1, RoundAttempt: 1, RoundStart: now, Policy: policy, Timeout: 15 * time.Second,
		},
	}
}

// deliver runs one attempt as the worker runs it: with a real activity
// context, from the SDK's test activity environment.
func (f *fixture) deliver(t *testing.T) (delivery.Attempt, error) {
	t.Helper()
	return runDeliver(t, newActivityEnv(f.acts), f.in)
}

func newActivityEnv(acts *activities.Activities) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.Register(env, acts)
	return env
}

func runDeliver(t *testing.T, env *testsuite.TestActivityEnvironment, in activities.DeliverInput) (delivery.Attempt, error) {
	t.Helper()
	v, err := env.ExecuteActivity(activities.DeliverName, in)
	var res delivery.Attempt
	if err == nil {
		require.NoError(t, v.Get(&res))
	}
	return res, err
}

func (f *fixture) delivery(t *testing.T) (store.Delivery, []store.Attempt) {
	t.Helper()
	d, err := f.store.GetDelivery(context.Background(), store.DefaultApplication, f.in.DeliveryID)
	require.NoError(t, err)
	as, err := f.store.ListAttempts(context.Background(), f.in.DeliveryID)
	require.NoError(t, err)
	return d, as
}

func attemptOf(t *testing.T, err error) (delivery.Attempt, *temporal.ApplicationError) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	var res delivery.Attempt
	require.NoError(t, appErr.Details(&res))
	return res, appErr
}

// A Retry-After longer than the backoff is the wait, exactly: jitter never
// brings an attempt before it. Otherwise the backoff applies, shortened by
// the delivery's jitter.
func TestRetryAfterOn429And503IsHonouredAndCapped(t *testing.T) {
	backoff := 5 * time.Second
	jittered := delivery.Jittered(backoff, delivery.JitterOf(newFixture(t, "http://127.0.0.1:1").in.DeliveryID, 1))
	require.Less(t, jittered, backoff)
	cases := []struct {
		name, header string
		status       int
		want         time.Duration
	}{
		{"429 seconds", "120", http.StatusTooManyRequests, 120 * time.Second},
		{"503 HTTP date", time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC).Format(http.TimeFormat), http.StatusServiceUnavailable, 30 * time.Minute},
		{"capped", "9999999", http.StatusTooManyRequests, delivery.MaxRetryAfter},
		{"shorter than the backoff", "1", http.StatusTooManyRequests, jittered},
		{"ignored on 500", "120", http.StatusInternalServerError, jittered},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", tc.header)
				w.WriteHeader(tc.status)
			}))
			t.Cleanup(srv.Close)
			f := newFixture(t, srv.URL)
			_, err := f.deliver(t)
			res, appErr := attemptOf(t, err)
			require.Equal(t, activities.ErrTypeAttemptFailed, appErr.Type())
			require.Equal(t, tc.status, res.StatusCode)
			require.Equal(t, f.now.Add(tc.want), res.NextAttemptAt)
			d, _ := f.delivery(t)
			require.Equal(t, store.DeliveryRetrying, d.Status)
			require.Equal(t, f.now.Add(tc.want), d.NextAttemptAt)
		})
	}
}

func TestGoneEndsTheDeliveryAndDisablesTheSubscription(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusGone)
		_, _ = w.Write([]byte("this endpoint was removed"))
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	_, err := f.deliver(t)
	res, appErr := attemptOf(t, err)
	require.Equal(t, activities.ErrTypeSubscriptionGone, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Equal(t, http.StatusGone, res.StatusCode)
	d, as := f.delivery(t)
	require.Equal(t, store.DeliveryFailed, d.Status)
	require.Len(t, as, 1)
	require.Equal(t, "this endpoint was removed", as[0].ResponseExcerpt)
	sub, err := f.store.GetSubscription(context.Background(), store.DefaultApplication, f.sub.ID)
	require.NoError(t, err)
	require.Equal(t, store.SubscriptionDisabled, sub.Status)
	require.Equal(t, "the receiver answered 410 Gone", sub.DisabledReason)
	require.Equal(t, f.now, sub.FailingSince)

	op := operationalEvents(t, f.store)
	require.Len(t, op, 1)
	require.Equal(t, operational.TypeSubscriptionDisabled, op[0].Type)
	var env struct {
		ID   string                           `json:"id"`
		Data operational.SubscriptionDisabled `json:"data"`
	}
	require.NoError(t, json.Unmarshal(op[0].Payload, &env))
	require.Equal(t, op[0].ID, env.ID)
	require.Equal(t, operational.SubscriptionDisabled{ApplicationID: store.DefaultApplication, SubscriptionID: f.sub.ID,
		URL: srv.URL, Reason: "the receiver answered 410 Gone", FailingSince: f.now}, env.Data)

	// The same attempt run again (its worker died before it reported)
	// publishes nothing more.
	_, err = f.deliver(t)
	_, appErr = attemptOf(t, err)
	require.Equal(t, activities.ErrTypeSubscriptionGone, appErr.Type())
	require.Len(t, operationalEvents(t, f.store), 1)
}

// Every attempt failing for DisableAfter, whichever worker made them (the
// store keeps when the run of failures began), disables the subscription;
// the attempt that does ends its delivery failed, and later attempts send
// nothing.
func TestFailingForDisableAfterDisablesTheSubscription(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	f.acts.Defaults.DisableAfter = time.Hour
	_, err := f.deliver(t)
	_, appErr := attemptOf(t, err)
	require.Equal(t, activities.ErrTypeAttemptFailed, appErr.Type())
	sub, err := f.store.GetSubscription(context.Background(), store.DefaultApplication, f.sub.ID)
	require.NoError(t, err)
	require.Equal(t, store.SubscriptionActive, sub.Status)
	require.Equal(t, f.now, sub.FailingSince)

	later := f.now.Add(time.Hour)
	f.acts.Now = func() time.Time { return later }
	f.in.Attempt, f.in.RoundAttempt = 2, 2
	_, err = f.deliver(t)
	res, appErr := attemptOf(t, err)
	require.Equal(t, activities.ErrTypeSubscriptionGone, appErr.Type(), "the attempt that disables ends its delivery")
	require.Equal(t, http.StatusInternalServerError, res.StatusCode)
	d, _ := f.delivery(t)
	require.Equal(t, store.DeliveryFailed, d.Status)
	sub, err = f.store.GetSubscription(context.Background(), store.DefaultApplication, f.sub.ID)
	require.NoError(t, err)
	require.Equal(t, store.SubscriptionDisabled, sub.Status)
	require.Contains(t, sub.DisabledReason, "every attempt failed for 1h0m0s")
	require.Len(t, operationalEvents(t, f.store), 1)

	f.in.Attempt, f.in.RoundAttempt = 3, 3
	_, err = f.deliver(t)
	res, appErr = attemptOf(t, err)
	require.Equal(t, activities.ErrTypeSubscriptionGone, appErr.Type())
	require.Equal(t, delivery.KindDisabled, res.Kind)
	require.EqualValues(t, 2, hits.Load(), "a disabled subscription is sent nothing")
}

// A success ends a run of failures: the next failure starts a new one.
func TestASuccessClearsFailingSince(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	f.acts.Defaults.DisableAfter = time.Hour
	_, err := f.deliver(t)
	require.Error(t, err)
	fail.Store(false)
	f.in.Attempt, f.in.RoundAttempt = 2, 2
	_, err = f.deliver(t)
	require.NoError(t, err)
	sub, err := f.store.GetSubscription(context.Background(), store.DefaultApplication, f.sub.ID)
	require.NoError(t, err)
	require.True(t, sub.FailingSince.IsZero())
}

// A delivery that gives up publishes delivery.failed to _operational.
func TestGivingUpPublishesDeliveryFailed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	f.in.Policy.MaxAttempts = 1
	_, err := f.deliver(t)
	res, _ := attemptOf(t, err)
	require.True(t, res.GaveUp)
	op := operationalEvents(t, f.store)
	require.Len(t, op, 1)
	require.Equal(t, operational.TypeDeliveryFailed, op[0].Type)
	var env struct {
		Data operational.DeliveryFailed `json:"data"`
	}
	require.NoError(t, json.Unmarshal(op[0].Payload, &env))
	require.Equal(t, operational.DeliveryFailed{ApplicationID: store.DefaultApplication, SubscriptionID: f.sub.ID, EventID: "evt_1",
		DeliveryID: f.in.DeliveryID, Attempts: 1, LastStatusCode: http.StatusServiceUnavailable}, env.Data)
}

// A paused subscription holds the delivery: nothing sent, no attempt
// logged, status held until the end of the hold; an attempt at the end of
// the hold, still paused, gives up.
func TestPausedHoldsAndGivesUpAtTheEndOfTheHold(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	f.acts.Defaults.PauseHold = 72 * time.Hour
	_, err := f.store.ModifySubscription(context.Background(), store.DefaultApplication, f.sub.ID, func(s *store.Subscription) error {
		s.Status = store.SubscriptionPaused
		return nil
	})
	require.NoError(t, err)
	_, err = f.deliver(t)
	res, appErr := attemptOf(t, err)
	require.Equal(t, activities.ErrTypeHeld, appErr.Type())
	require.Equal(t, f.now.Add(72*time.Hour), res.NextAttemptAt)
	d, as := f.delivery(t)
	require.Equal(t, store.DeliveryHeld, d.Status)
	require.Equal(t, f.now.Add(72*time.Hour), d.NextAttemptAt)
	require.Empty(t, as, "a hold is no attempt")

	// Woken early while still paused: held until the same end.
	f.in.HeldUntil = res.NextAttemptAt
	later := f.now.Add(time.Hour)
	f.acts.Now = func() time.Time { return later }
	_, err = f.deliver(t)
	res, appErr = attemptOf(t, err)
	require.Equal(t, activities.ErrTypeHeld, appErr.Type())
	require.Equal(t, f.now.Add(72*time.Hour), res.NextAttemptAt)

	later = f.now.Add(72 * time.Hour)
	_, err = f.deliver(t)
	res, appErr = attemptOf(t, err)
	require.Equal(t, activities.ErrTypeAttemptFailed, appErr.Type())
	require.True(t, res.GaveUp)
	d, as = f.delivery(t)
	require.Equal(t, store.DeliveryFailed, d.Status)
	require.Len(t, as, 1)
	require.Contains(t, as[0].Error, "paused")
	require.Zero(t, hits.Load())
}

func operationalEvents(t *testing.T, st store.Store) []store.Event {
	t.Helper()
	page, err := st.ListEventLog(context.Background(), store.ListEventsParams{ApplicationID: store.OperationalApplication, Limit: 100})
	require.NoError(t, err)
	return page.Items
}

func TestTheAttemptLogKeepsTheFirstKiBOfTheAnswer(t *testing.T) {
	body := strings.Repeat("é", 3000) // 2 bytes each: the cut must not split one
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	_, err := f.deliver(t)
	res, _ := attemptOf(t, err)
	require.Equal(t, strings.Repeat("é", activities.ExcerptSize/2), res.ResponseExcerpt)
	_, as := f.delivery(t)
	require.Len(t, as, 1)
	require.Equal(t, http.StatusBadRequest, as[0].StatusCode)
	require.Equal(t, res.ResponseExcerpt, as[0].ResponseExcerpt)
}

// hangingReceiver never answers; it reports each request whose context
// ended, that is, whose connection the client dropped.
type hangingReceiver struct {
	*httptest.Server
	arrived, aborted chan struct{}
}

func newHangingReceiver(t *testing.T) *hangingReceiver {
	r := &hangingReceiver{arrived: make(chan struct{}), aborted: make(chan struct{})}
	var once sync.Once
	r.Server = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		// The server notices a dropped connection only once the body is read.
		_, _ = io.Copy(io.Discard, req.Body)
		once.Do(func() { close(r.arrived) })
		select {
		case <-req.Context().Done():
			close(r.aborted)
		case <-time.After(time.Minute):
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal(what)
	}
}

// A cancel ends the attempt's context: the request is aborted, the attempt
// is logged as cancelled, and the activity ends cancelled with the attempt
// as details.
func TestCancelAbortsTheRequestInFlightAndLogsIt(t *testing.T) {
	r := newHangingReceiver(t)
	f := newFixture(t, r.URL)
	f.in.Timeout = time.Minute
	// The worker's background context is the parent of every activity
	// context: ending it is how this test cancels the attempt.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := newActivityEnv(f.acts)
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	type outcome struct {
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		_, err := env.ExecuteActivity(activities.DeliverName, f.in)
		done <- outcome{err}
	}()
	waitFor(t, r.arrived, "the request never arrived")
	cancel()
	waitFor(t, r.aborted, "the receiver never saw the request aborted")
	out := <-done
	var canceled *temporal.CanceledError
	require.ErrorAs(t, out.err, &canceled)
	var res delivery.Attempt
	require.NoError(t, canceled.Details(&res))
	require.Equal(t, "cancelled while sending", res.Error)
	d, as := f.delivery(t)
	require.Equal(t, store.DeliveryCancelled, d.Status)
	require.Len(t, as, 1)
	require.Equal(t, "cancelled while sending", as[0].Error)
	require.Zero(t, as[0].StatusCode)
}

// A regular attempt heartbeats while its request is in flight: that
// heartbeat is what brings a cancel to it.
func TestARegularAttemptHeartbeatsWhileItsRequestIsInFlight(t *testing.T) {
	beat := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		waitFor(t, beat, "no heartbeat while the request was in flight")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.Register(env, f.acts)
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { once.Do(func() { close(beat) }) })
	_, err := env.ExecuteActivity(activities.DeliverName, f.in)
	require.NoError(t, err)
	d, _ := f.delivery(t)
	require.Equal(t, store.DeliverySucceeded, d.Status)
}

// The store keeps a cancel final: an attempt that reports after it (a
// local attempt is not waited for) cannot move the delivery back.
func TestACancelledDeliveryStaysCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	env := newActivityEnv(f.acts)
	setStatus := func(status string) error {
		_, err := env.ExecuteActivity(activities.SetDeliveryStatusName, activities.SetDeliveryStatusInput{DeliveryID: f.in.DeliveryID, Status: status})
		return err
	}
	require.NoError(t, setStatus(store.DeliveryCancelled))
	_, err := runDeliver(t, env, f.in)
	require.Error(t, err)
	require.NoError(t, setStatus(store.DeliveryFailed))
	d, as := f.delivery(t)
	require.Equal(t, store.DeliveryCancelled, d.Status)
	require.True(t, d.NextAttemptAt.IsZero())
	require.Len(t, as, 1, "the late attempt is still in the log")
	require.Equal(t, 1, d.Attempts)
}

// An attempt whose rate_limit turn is later than it can wait sends
// nothing, spends no attempt, takes no turn (the schedule is left for an
// attempt that can use it) and says when to try again; so does one that
// finds no max_in_flight slot in time.
func TestAThrottledAttemptWaitsInItsWorkflowAndLeavesTheScheduleAlone(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	f := newFixture(t, srv.URL)
	_, err := f.store.ModifySubscription(context.Background(), store.DefaultApplication, f.sub.ID, func(s *store.Subscription) error {
		s.RateLimit = 0.001 // one request every 1,000 s, past the test activity's 10 min deadline
		return nil
	})
	require.NoError(t, err)
	real := time.Now()
	f.acts.Now = time.Now
	_, err = f.deliver(t)
	require.NoError(t, err, "the first turn is now")
	for range 2 {
		_, err = f.deliver(t)
		res, appErr := attemptOf(t, err)
		require.Equal(t, activities.ErrTypeThrottled, appErr.Type())
		require.Equal(t, delivery.KindThrottled, res.Kind)
		require.WithinDuration(t, real.Add(1000*time.Second), res.NextAttemptAt, 2*time.Second,
			"the next free turn, the same for both: neither took one")
	}
	require.EqualValues(t, 1, hits.Load())
	_, as := f.delivery(t)
	require.Len(t, as, 1, "a throttled attempt is no attempt")
}
