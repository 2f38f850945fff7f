package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/receiver"
	"github.com/hookflow/hookflow/signing"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newSecret(t *testing.T) string {
	t.Helper()
	secret, err := signing.NewSecret()
	require.NoError(t, err)
	return secret
}

// newReceiver returns a receiver on clk that logs nowhere, with opts'
// other fields kept.
func newReceiver(t *testing.T, clk *clock, opts receiver.Options) *receiver.Receiver {
	t.Helper()
	opts.Now = clk.Now
	opts.Logger = slog.New(slog.DiscardHandler)
	rcv, err := receiver.NewWithOptions(opts)
	require.NoError(t, err)
	return rcv
}

// eventBody is the envelope Hookflow sends.
func eventBody(id, eventType, data string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"type":%q,"timestamp":"2026-11-28T09:00:00Z","data":%s}`, id, eventType, data)
}

// webhook is one request as a sender would make it; sign fills Signature.
type webhook struct {
	ID        string
	Timestamp time.Time
	Body      []byte
	Signature string
}

func signed(t *testing.T, secrets []string, id string, ts time.Time, body []byte) webhook {
	t.Helper()
	sig, err := signing.Sign(secrets, id, ts, body)
	require.NoError(t, err)
	return webhook{ID: id, Timestamp: ts, Body: body, Signature: sig}
}

func (wh webhook) request() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(wh.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(receiver.HeaderID, wh.ID)
	req.Header.Set(receiver.HeaderTimestamp, strconv.FormatInt(wh.Timestamp.Unix(), 10))
	req.Header.Set(receiver.HeaderSignature, wh.Signature)
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// recorder is a handler that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	events []receiver.Event
}

func (r *recorder) handle(_ context.Context, e receiver.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func TestValidWebhookRunsItsHandler(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	var got recorder
	rcv.On("user.registered", got.handle)

	body := eventBody("evt_1", "user.registered", `{"email": "ada@example.com"}`)
	rec := serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request())

	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	require.Len(t, got.events, 1)
	e := got.events[0]
	require.Equal(t, "evt_1", e.ID)
	require.Equal(t, "user.registered", e.Type)
	require.True(t, e.Timestamp.Equal(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)), e.Timestamp)
	require.Equal(t, `{"email": "ada@example.com"}`, string(e.Data), "data is passed as sent, not re-encoded")
}

func TestInvalidWebhooksAreRefusedWithoutRunningTheHandler(t *testing.T) {
	secret := newSecret(t)
	body := eventBody("evt_1", "user.registered", `{}`)

	tests := []struct {
		name    string
		request func(t *testing.T, now time.Time) *http.Request
		status  int
		reason  string
	}{
		{
			name: "tampered body",
			request: func(t *testing.T, now time.Time) *http.Request {
				wh := signed(t, []string{secret}, "evt_1", now, body)
				wh.Body = bytes.Replace(wh.Body, []byte(`{}`), []byte(`{"admin":true}`), 1)
				return wh.request()
			},
			status: http.StatusUnauthorized,
			reason: "no signature matches",
		},
		{
			name: "tampered id",
			request: func(t *testing.T, now time.Time) *http.Request {
				wh := signed(t, []string{secret}, "evt_1", now, body)
				wh.ID = "evt_2"
				return wh.request()
			},
			status: http.StatusUnauthorized,
			reason: "no signature matches",
		},
		{
			name: "tampered timestamp",
			request: func(t *testing.T, now time.Time) *http.Request {
				wh := signed(t, []string{secret}, "evt_1", now, body)
				wh.Timestamp = now.Add(time.Second)
				return wh.request()
			},
			status: http.StatusUnauthorized,
			reason: "no signature matches",
		},
		{
			name: "wrong secret",
			request: func(t *testing.T, now time.Time) *http.Request {
				return signed(t, []string{newSecret(t)}, "evt_1", now, body).request()
			},
			status: http.StatusUnauthorized,
			reason: "no signature matches",
		},
		{
			name: "timestamp too old",
			request: func(t *testing.T, now time.Time) *http.Request {
				return signed(t, []string{secret}, "evt_1", now.Add(-5*time.Minute-time.Second), body).request()
			},
			status: http.StatusUnauthorized,
			reason: "too old",
		},
		{
			name: "timestamp in the future",
			request: func(t *testing.T, now time.Time) *http.Request {
				return signed(t, []string{secret}, "evt_1", now.Add(5*time.Minute+time.Second), body).request()
			},
			status: http.StatusUnauthorized,
			reason: "too far in the future",
		},
		{
			name: "timestamp not an integer",
			request: func(t *testing.T, now time.Time) *http.Request {
				req := signed(t, []string{secret}, "evt_1", now, body).request()
				req.Header.Set(receiver.HeaderTimestamp, now.Format(time.RFC3339))
				return req
			},
			status: http.StatusBadRequest,
			reason: "not Unix seconds",
		},
		{
			name: "signature not base64",
			request: func(t *testing.T, now time.Time) *http.Request {
				req := signed(t, []string{secret}, "evt_1", now, body).request()
				req.Header.Set(receiver.HeaderSignature, "v1,not*base64")
				return req
			},
			status: http.StatusUnauthorized,
			reason: "no signature matches",
		},
		{
			name: "right signature under another scheme",
			request: func(t *testing.T, now time.Time) *http.Request {
				wh := signed(t, []string{secret}, "evt_1", now, body)
				wh.Signature = "v2," + strings.TrimPrefix(wh.Signature, "v1,")
				return wh.request()
			},
			status: http.StatusUnauthorized,
			reason: "no signature matches",
		},
		{
			name: "signed body that is not JSON",
			request: func(t *testing.T, now time.Time) *http.Request {
				return signed(t, []string{secret}, "evt_1", now, []byte("hello")).request()
			},
			status: http.StatusBadRequest,
			reason: "not a Hookflow event",
		},
		{
			name: "signed body without a type",
			request: func(t *testing.T, now time.Time) *http.Request {
				return signed(t, []string{secret}, "evt_1", now, []byte(`{"id":"evt_1","data":{}}`)).request()
			},
			status: http.StatusBadRequest,
			reason: "id and type are required",
		},
		{
			name: "signed body with a second JSON value",
			request: func(t *testing.T, now time.Time) *http.Request {
				return signed(t, []string{secret}, "evt_1", now, append(body, " {}"...)).request()
			},
			status: http.StatusBadRequest,
			reason: "data after the JSON object",
		},
		{
			name: "wrong method",
			request: func(t *testing.T, now time.Time) *http.Request {
				req := signed(t, []string{secret}, "evt_1", now, body).request()
				req.Method = http.MethodPut
				return req
			},
			status: http.StatusMethodNotAllowed,
			reason: "method must be POST",
		},
	}
	for _, header := range []string{receiver.HeaderID, receiver.HeaderTimestamp, receiver.HeaderSignature} {
		tests = append(tests, struct {
			name    string
			request func(t *testing.T, now time.Time) *http.Request
			status  int
			reason  string
		}{
			name: "missing " + header,
			request: func(t *testing.T, now time.Time) *http.Request {
				req := signed(t, []string{secret}, "evt_1", now, body).request()
				req.Header.Del(header)
				return req
			},
			status: http.StatusBadRequest,
			reason: "missing webhook-id, webhook-timestamp or webhook-signature header",
		})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
			var got recorder
			rcv.On("user.registered", got.handle)
			rcv.OnAny(got.handle)

			rec := serve(rcv, tt.request(t, clk.Now()))

			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tt.reason)
			require.Zero(t, got.count(), "handler must not run")
			if tt.status == http.StatusMethodNotAllowed {
				require.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
			}

			// The same receiver still accepts a good request, so the
			// refusal came from what the case changed.
			good := signed(t, []string{secret}, "evt_ok", clk.Now(), eventBody("evt_ok", "user.registered", `{}`))
			require.Equal(t, http.StatusNoContent, serve(rcv, good.request()).Code)
			require.Equal(t, 1, got.count())
		})
	}
}

func TestBodyLargerThanTheLimitIsRefused(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	small := eventBody("evt_1", "user.registered", `{}`)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}, MaxBodyBytes: int64(len(small))})
	var got recorder
	rcv.On("user.registered", got.handle)

	large := eventBody("evt_2", "user.registered", `{"a":1}`)
	rec := serve(rcv, signed(t, []string{secret}, "evt_2", clk.Now(), large).request())
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Zero(t, got.count())

	rec = serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), small).request())
	require.Equal(t, http.StatusNoContent, rec.Code, "a body of exactly the limit is read")
	require.Equal(t, 1, got.count())
}

func TestTimestampToleranceIsInclusiveAndConfigurable(t *testing.T) {
	secret := newSecret(t)
	tests := []struct {
		tolerance time.Duration
		offset    time.Duration
		status    int
	}{
		{0, -5 * time.Minute, http.StatusNoContent},
		{0, 5 * time.Minute, http.StatusNoContent},
		{0, -5*time.Minute - time.Second, http.StatusUnauthorized},
		{0, 5*time.Minute + time.Second, http.StatusUnauthorized},
		{30 * time.Second, -30 * time.Second, http.StatusNoContent},
		{30 * time.Second, 30 * time.Second, http.StatusNoContent},
		{30 * time.Second, -31 * time.Second, http.StatusUnauthorized},
		{30 * time.Second, 31 * time.Second, http.StatusUnauthorized},
		{time.Hour, -59 * time.Minute, http.StatusNoContent},
		{time.Hour, 61 * time.Minute, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("tolerance %v offset %v", tt.tolerance, tt.offset), func(t *testing.T) {
			clk := newClock()
			rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}, Tolerance: tt.tolerance})
			var got recorder
			rcv.OnAny(got.handle)
			wh := signed(t, []string{secret}, "evt_1", clk.Now().Add(tt.offset), eventBody("evt_1", "a", `{}`))
			rec := serve(rcv, wh.request())
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Equal(t, tt.status == http.StatusNoContent, got.count() == 1)
		})
	}
}

func TestRedeliveryAfterSuccessIsAcknowledgedWithoutRunningTheHandler(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	var got recorder
	rcv.On("user.registered", got.handle)
	body := eventBody("evt_1", "user.registered", `{}`)

	first := signed(t, []string{secret}, "evt_1", clk.Now(), body)
	require.Equal(t, http.StatusNoContent, serve(rcv, first.request()).Code)
	require.Equal(t, 1, got.count())

	// The same request replayed, and a retry signed a minute later.
	require.Equal(t, http.StatusNoContent, serve(rcv, first.request()).Code)
	clk.Advance(time.Minute)
	retry := signed(t, []string{secret}, "evt_1", clk.Now(), body)
	require.Equal(t, http.StatusNoContent, serve(rcv, retry.request()).Code)
	require.Equal(t, 1, got.count(), "handler ran again for a handled id")

	// Another id is not affected.
	other := signed(t, []string{secret}, "evt_2", clk.Now(), eventBody("evt_2", "user.registered", `{}`))
	require.Equal(t, http.StatusNoContent, serve(rcv, other.request()).Code)
	require.Equal(t, 2, got.count())
}

func TestHandledIDIsForgottenAfterRetention(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}, Retention: time.Hour})
	var got recorder
	rcv.OnAny(got.handle)
	body := eventBody("evt_1", "a", `{}`)

	require.Equal(t, http.StatusNoContent, serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request()).Code)
	clk.Advance(time.Hour - time.Second)
	require.Equal(t, http.StatusNoContent, serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request()).Code)
	require.Equal(t, 1, got.count(), "still remembered just before Retention")

	clk.Advance(time.Second)
	require.Equal(t, http.StatusNoContent, serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request()).Code)
	require.Equal(t, 2, got.count(), "forgotten once Retention has passed")
}

func TestHandlerErrorAnswers500AndTheRetryRunsItAgain(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	var calls atomic.Int32
	rcv.On("user.registered", func(_ context.Context, e receiver.Event) error {
		if calls.Add(1) == 1 {
			return errors.New("database password rejected")
		}
		return nil
	})
	body := eventBody("evt_1", "user.registered", `{}`)

	rec := serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request())
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.NotContains(t, rec.Body.String(), "password", "the handler's error stays inside")

	clk.Advance(5 * time.Second)
	rec = serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request())
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.EqualValues(t, 2, calls.Load(), "the retry of a failed id runs the handler")

	rec = serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request())
	require.Equal(t, http.StatusNoContent, rec.Code)
	require.EqualValues(t, 2, calls.Load(), "once it succeeded, it is not run again")
}

func TestHandlerPanicReleasesTheClaim(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	var calls atomic.Int32
	rcv.OnAny(func(context.Context, receiver.Event) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	})
	wh := signed(t, []string{secret}, "evt_1", clk.Now(), eventBody("evt_1", "a", `{}`))

	// net/http recovers the panic and drops the connection; the sender retries.
	require.PanicsWithValue(t, "boom", func() { serve(rcv, wh.request()) })
	require.Equal(t, http.StatusNoContent, serve(rcv, wh.request()).Code)
	require.EqualValues(t, 2, calls.Load())
}

func TestConcurrentDeliveriesOfOneIDRunTheHandlerOnce(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	rcv.OnAny(func(context.Context, receiver.Event) error {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
		return nil
	})
	wh := signed(t, []string{secret}, "evt_1", clk.Now(), eventBody("evt_1", "a", `{}`))

	first := make(chan int, 1)
	go func() { first <- serve(rcv, wh.request()).Code }()
	select {
	case <-started:
	case code := <-first:
		t.Fatalf("the first delivery answered %d without running its handler", code)
	}

	rec := serve(rcv, wh.request())
	require.Equal(t, http.StatusConflict, rec.Code, "a second delivery while the first runs is not acknowledged")
	require.EqualValues(t, 1, calls.Load())

	close(release)
	require.Equal(t, http.StatusNoContent, <-first)
	require.Equal(t, http.StatusNoContent, serve(rcv, wh.request()).Code)
	require.EqualValues(t, 1, calls.Load())
}

func TestManyConcurrentDeliveriesOfOneIDRunTheHandlerOnce(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	var calls atomic.Int32
	rcv.OnAny(func(context.Context, receiver.Event) error {
		calls.Add(1)
		return nil
	})
	wh := signed(t, []string{secret}, "evt_1", clk.Now(), eventBody("evt_1", "a", `{}`))

	const n = 32
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { codes <- serve(rcv, wh.request()).Code })
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Contains(t, []int{http.StatusNoContent, http.StatusConflict}, code)
	}
	require.EqualValues(t, 1, calls.Load())
}

func TestEverySignatureOfARotationIsTried(t *testing.T) {
	clk := newClock()
	oldSecret, newerSecret, stranger := newSecret(t), newSecret(t), newSecret(t)
	body := eventBody("evt_1", "a", `{}`)

	tests := []struct {
		name      string
		configure []string
		signWith  []string
		status    int
	}{
		{"receiver knows the old secret", []string{oldSecret}, []string{newerSecret, oldSecret}, http.StatusNoContent},
		{"receiver knows the new secret", []string{newerSecret}, []string{newerSecret, oldSecret}, http.StatusNoContent},
		{"receiver knows neither", []string{stranger}, []string{newerSecret, oldSecret}, http.StatusUnauthorized},
		{"sender signs with the old only", []string{newerSecret, oldSecret}, []string{oldSecret}, http.StatusNoContent},
		{"sender signs with the new only", []string{newerSecret, oldSecret}, []string{newerSecret}, http.StatusNoContent},
		{"sender signs with another", []string{newerSecret, oldSecret}, []string{stranger}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, clk, receiver.Options{Secrets: tt.configure})
			var got recorder
			rcv.OnAny(got.handle)
			rec := serve(rcv, signed(t, tt.signWith, "evt_1", clk.Now(), body).request())
			require.Equal(t, tt.status, rec.Code)
			require.Equal(t, tt.status == http.StatusNoContent, got.count() == 1)
		})
	}

	t.Run("unknown entries beside the right one", func(t *testing.T) {
		rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{oldSecret}})
		rcv.OnAny(func(context.Context, receiver.Event) error { return nil })
		wh := signed(t, []string{oldSecret}, "evt_1", clk.Now(), body)
		wh.Signature = "v1a,c2lnbmF0dXJl  v1,bm90LWl0 garbage " + wh.Signature + " v2,x"
		require.Equal(t, http.StatusNoContent, serve(rcv, wh.request()).Code)
	})
}

func TestUnknownEventTypeIsAcknowledged(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	body := eventBody("evt_1", "invoice.paid", `{}`)

	t.Run("without a fallback it is dropped", func(t *testing.T) {
		rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
		var registered recorder
		rcv.On("user.registered", registered.handle)
		rec := serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request())
		require.Equal(t, http.StatusNoContent, rec.Code)
		require.Zero(t, registered.count())
	})

	t.Run("with a fallback it goes there", func(t *testing.T) {
		rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
		var registered, fallback recorder
		rcv.On("user.registered", registered.handle)
		rcv.OnAny(fallback.handle)

		rec := serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), body).request())
		require.Equal(t, http.StatusNoContent, rec.Code)
		require.Zero(t, registered.count())
		require.Len(t, fallback.events, 1)
		require.Equal(t, "invoice.paid", fallback.events[0].Type)

		known := eventBody("evt_2", "user.registered", `{}`)
		rec = serve(rcv, signed(t, []string{secret}, "evt_2", clk.Now(), known).request())
		require.Equal(t, http.StatusNoContent, rec.Code)
		require.Equal(t, 1, registered.count(), "a type's own handler wins over the fallback")
		require.Equal(t, 1, fallback.count())
	})
}

// store is a SeenStore whose answers the test sets.
type store struct {
	claim       receiver.ClaimState
	claimErr    error
	completeErr error
	released    atomic.Int32
	// releasedDead counts releases given an already cancelled context.
	releasedDead atomic.Int32
}

func (s *store) Claim(context.Context, string, time.Duration) (receiver.ClaimState, error) {
	return s.claim, s.claimErr
}

func (s *store) Complete(context.Context, string, time.Duration) error { return s.completeErr }

func (s *store) Release(ctx context.Context, _ string) error {
	s.released.Add(1)
	if ctx.Err() != nil {
		s.releasedDead.Add(1)
	}
	return nil
}

func TestStoreFailures(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	tests := []struct {
		name   string
		store  *store
		status int
		calls  int
	}{
		{"claim fails", &store{claimErr: errors.New("redis down")}, http.StatusServiceUnavailable, 0},
		{"claim returns nonsense", &store{claim: 42}, http.StatusServiceUnavailable, 0},
		{"complete fails after the handler succeeded", &store{claim: receiver.ClaimAcquired, completeErr: errors.New("redis down")}, http.StatusNoContent, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}, Store: tt.store})
			var got recorder
			rcv.OnAny(got.handle)
			rec := serve(rcv, signed(t, []string{secret}, "evt_1", clk.Now(), eventBody("evt_1", "a", `{}`)).request())
			require.Equal(t, tt.status, rec.Code)
			require.Equal(t, tt.calls, got.count())
			require.Zero(t, tt.store.released.Load())
		})
	}
}

func TestHandlerGetsTheRequestContextAndTheStoreOutlivesIt(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	s := &store{claim: receiver.ClaimAcquired}
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}, Store: s})
	type key struct{}
	var sawValue bool
	rcv.OnAny(func(ctx context.Context, e receiver.Event) error {
		sawValue = ctx.Value(key{}) == "v"
		return ctx.Err() // the sender hung up
	})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	cancel()
	req := signed(t, []string{secret}, "evt_1", clk.Now(), eventBody("evt_1", "a", `{}`)).request().WithContext(ctx)

	require.Equal(t, http.StatusInternalServerError, serve(rcv, req).Code)
	require.True(t, sawValue)
	require.EqualValues(t, 1, s.released.Load())
	require.Zero(t, s.releasedDead.Load(), "the claim is released with a live context though the request is gone")
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	tests := map[string]receiver.Options{
		"no secret":          {},
		"empty secret":       {Secrets: []string{""}},
		"not base64":         {Secrets: []string{"whsec_not base64!"}},
		"key too short":      {Secrets: []string{"whsec_c2hvcnQ="}},
		"one bad of two":     {Secrets: []string{newSecret(t), "whsec_%%%"}},
		"negative tolerance": {Secrets: []string{newSecret(t)}, Tolerance: -time.Second},
		"negative retention": {Secrets: []string{newSecret(t)}, Retention: -time.Second},
		"negative body size": {Secrets: []string{newSecret(t)}, MaxBodyBytes: -1},
	}
	for name, opts := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := receiver.NewWithOptions(opts)
			require.Error(t, err)
		})
	}

	rcv, err := receiver.New(newSecret(t), strings.TrimPrefix(newSecret(t), "whsec_"))
	require.NoError(t, err, "the whsec_ prefix is optional, as in the Standard Webhooks libraries")
	require.NotNil(t, rcv)
}

func TestRegistrationMistakesPanic(t *testing.T) {
	rcv, err := receiver.New(newSecret(t))
	require.NoError(t, err)
	noop := func(context.Context, receiver.Event) error { return nil }

	require.Panics(t, func() { rcv.On("", noop) })
	require.Panics(t, func() { rcv.On("a", nil) })
	require.Panics(t, func() { rcv.OnAny(nil) })
	rcv.On("a", noop)
	require.Panics(t, func() { rcv.On("a", noop) })
	rcv.OnAny(noop)
	require.Panics(t, func() { rcv.OnAny(noop) })
}

func TestVerifyReturnsTheReason(t *testing.T) {
	clk := newClock()
	secret := newSecret(t)
	rcv := newReceiver(t, clk, receiver.Options{Secrets: []string{secret}})
	body := []byte(`anything at all`)
	headers := func(wh webhook) http.Header { return wh.request().Header }

	require.NoError(t, rcv.Verify(headers(signed(t, []string{secret}, "m", clk.Now(), body)), body))
	require.ErrorIs(t, rcv.Verify(headers(signed(t, []string{secret}, "m", clk.Now(), body)), []byte("other")), receiver.ErrNoMatchingSignature)
	require.ErrorIs(t, rcv.Verify(headers(signed(t, []string{secret}, "m", clk.Now().Add(-time.Hour), body)), body), receiver.ErrTimestampTooOld)
	require.ErrorIs(t, rcv.Verify(headers(signed(t, []string{secret}, "m", clk.Now().Add(time.Hour), body)), body), receiver.ErrTimestampTooNew)
	require.ErrorIs(t, rcv.Verify(http.Header{}, body), receiver.ErrMissingHeaders)
	h := headers(signed(t, []string{secret}, "m", clk.Now(), body))
	h.Set(receiver.HeaderTimestamp, "12.5")
	require.ErrorIs(t, rcv.Verify(h, body), receiver.ErrInvalidTimestamp)
}
