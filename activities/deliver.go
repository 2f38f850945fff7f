package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
)

const (
	// MaxResponseRead is how much of a response body is read at most; the
	// rest is never read, so a receiver streaming gigabytes costs nothing.
	MaxResponseRead = 64 << 10
	// ExcerptSize is how much of the response the attempt log keeps.
	ExcerptSize = 1 << 10
)

// DeliverInput names one attempt of one delivery. It carries ids, never
// the secret or the payload: the activity loads both from the store.
type DeliverInput struct {
	// ApplicationID is the delivery's application; empty in deliveries
	// started before applications existed, which belong to default.
	ApplicationID  string `json:",omitempty"`
	DeliveryID     string
	EventID        string
	SubscriptionID string
	// Attempt counts every attempt of the delivery, from 1.
	Attempt int
	// RoundAttempt counts the attempts of the current round, from 1; a
	// retry signal after the policy gave up starts a new round.
	RoundAttempt int
	RoundStart   time.Time
	Policy       delivery.Policy
	Timeout      time.Duration
	// HeldUntil is the end of the hold the delivery is in: zero unless its
	// subscription was paused at its last attempt (see delivery.Hold).
	HeldUntil time.Time
}

// deliverInputJSON is DeliverInput as its JSON shows it, with the same
// names as before durations were readable.
type deliverInputJSON struct {
	// ApplicationID was left out of this form once, so an attempt that
	// went through the encoding (every attempt but a local first one) of
	// a delivery outside default looked its subscription up in default
	// and reported it deleted.
	ApplicationID  string `json:",omitempty"`
	DeliveryID     string
	EventID        string
	SubscriptionID string
	Attempt        int
	RoundAttempt   int
	RoundStart     time.Time
	Policy         delivery.PolicyJSON
	Timeout        delivery.Duration
	HeldUntil      time.Time `json:",omitzero"`
}

// MarshalJSON shows the durations as "15s" in the Temporal UI.
func (in DeliverInput) MarshalJSON() ([]byte, error) {
	return json.Marshal(deliverInputJSON{
		ApplicationID: in.ApplicationID, DeliveryID: in.DeliveryID, EventID: in.EventID, SubscriptionID: in.SubscriptionID,
		Attempt: in.Attempt, RoundAttempt: in.RoundAttempt, RoundStart: in.RoundStart,
		Policy: in.Policy.JSON(), Timeout: delivery.Duration(in.Timeout), HeldUntil: in.HeldUntil,
	})
}

// UnmarshalJSON reads durations as "15s" or, as recorded before,
// nanoseconds.
func (in *DeliverInput) UnmarshalJSON(b []byte) error {
	var j deliverInputJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*in = DeliverInput{
		ApplicationID: j.ApplicationID, DeliveryID: j.DeliveryID, EventID: j.EventID, SubscriptionID: j.SubscriptionID,
		Attempt: j.Attempt, RoundAttempt: j.RoundAttempt, RoundStart: j.RoundStart,
		Policy: j.Policy.Policy(), Timeout: time.Duration(j.Timeout), HeldUntil: j.HeldUntil,
	}
	return nil
}

// Deliver makes one attempt: it signs the event's payload with the
// subscription's secrets, POSTs it, asks delivery.Decide what follows, and
// records the attempt and that decision in the attempt log in one write.
// It returns the attempt, with the decision in it, to the workflow: nil
// error on success; an ErrTypeAttemptFailed error whose details are the
// attempt when another attempt is due or the round is exhausted; an
// ErrTypeHeld one when the subscription is paused (nothing sent, no
// attempt spent, the attempt's NextAttemptAt is the end of the hold); an
// ErrTypeSubscriptionGone one when the subscription was deleted or is
// disabled (a 410 Gone, or failing for Defaults.DisableAfter, disables it).
//
// A regular (not local) attempt heartbeats every second while it runs: the
// heartbeat is how a cancel reaches it, and then its context ends, the
// request is aborted, the attempt is logged as cancelled and the activity
// ends cancelled, with the attempt as the cancellation's details.
func (a *Activities) Deliver(ctx context.Context, in DeliverInput) (delivery.Attempt, error) {
	if !activity.GetInfo(ctx).IsLocalActivity {
		defer heartbeat(ctx, HeartbeatInterval)()
	}
	sub, err := a.Store.GetSubscription(ctx, ApplicationOf(in.ApplicationID), in.SubscriptionID)
	if errors.Is(err, store.ErrNotFound) {
		res := delivery.Attempt{Attempt: in.Attempt, StartedAt: a.now(), Kind: delivery.KindSubscriptionDeleted, Error: "subscription was deleted"}
		return a.report(ctx, in, "", res)
	}
	if err != nil {
		return delivery.Attempt{}, fmt.Errorf("load subscription %s: %w", in.SubscriptionID, err)
	}
	res := delivery.Attempt{Attempt: in.Attempt, StartedAt: a.now()}
	switch sub.Status {
	case store.SubscriptionPaused:
		res.Kind, res.Error = delivery.KindPaused, "subscription is paused; nothing was sent"
		return a.report(ctx, in, sub.URL, res)
	case store.SubscriptionDisabled:
		res.Kind, res.Error = delivery.KindDisabled, "subscription is disabled ("+sub.DisabledReason+"); nothing was sent"
		return a.report(ctx, in, sub.URL, res)
	}
	event, err := a.Store.GetEvent(ctx, ApplicationOf(in.ApplicationID), in.EventID)
	if err != nil {
		return delivery.Attempt{}, fmt.Errorf("load event %s: %w", in.EventID, err)
	}

	var throttled *throttledError
	release, err := a.throttle(ctx, in, sub, a.attemptTimeout(in))
	switch {
	case err == nil:
		// The attempt starts when its request goes, not when it began to
		// wait for a slot.
		res.StartedAt = a.now()
		start := time.Now()
		a.post(ctx, in, sub, event.Payload, &res)
		release()
		a.Metrics.Attempt(sub.ID, time.Since(start), res.Kind == delivery.KindAnswered && res.StatusCode >= 200 && res.StatusCode < 300)
	case errors.As(err, &throttled):
		// Nothing was sent and no attempt is spent: the workflow waits.
		res.Kind, res.Error, res.RetryAfter = delivery.KindThrottled, err.Error(), max(0, throttled.Until.Sub(a.now()))
		return a.report(ctx, in, sub.URL, res)
	case ctx.Err() != nil:
		// Nothing was sent; a cancel while waiting ends as one in flight.
		res.Kind, res.Error = delivery.KindNotSent, err.Error()
	default:
		return delivery.Attempt{}, fmt.Errorf("flow control of %s: %w", in.SubscriptionID, err)
	}
	// What the receiver sent back goes to the attempt log and into the
	// workflow history; a receiver that echoes its own secret must not put
	// it there.
	res.Error = redactSecrets(res.Error, sub)
	res.ResponseExcerpt = redactSecrets(res.ResponseExcerpt, sub)
	a.logAttempt(ctx, in, sub.URL, res)
	if res.StatusCode == 0 && errors.Is(ctx.Err(), context.Canceled) {
		res.Kind = delivery.KindCancelled
		return a.cancelledInFlight(ctx, in, res)
	}
	// What happened is logged even if a cancel arrives from here on: the
	// request was made and answered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	disabled, err := a.checkHealth(ctx, sub, res)
	if err != nil {
		return delivery.Attempt{}, err
	}
	if disabled {
		// The subscription is disabled (this attempt did it, or another
		// worker's as it ran): the delivery ends like the ones the
		// disable wakes, failed, whatever the policy would say.
		return a.decided(ctx, in, sub.URL, res, delivery.Decision{Outcome: delivery.Gone, Status: delivery.StatusFailed})
	}
	return a.report(ctx, in, sub.URL, res)
}

// report asks delivery.Decide what follows the attempt, records the
// attempt with the decision in one store write (the status, and when the
// next attempt is due), and returns the attempt as the workflow reads it.
// Deciding here rather than in the workflow keeps one store write and no
// extra history event per attempt; the workflow trusts the decision it
// gets back (README, "Architecture", says why). A hold is no attempt: it
// moves the status alone.
func (a *Activities) report(ctx context.Context, in DeliverInput, target string, res delivery.Attempt) (delivery.Attempt, error) {
	return a.decided(ctx, in, target, res, delivery.Decide(in.Policy, a.round(in), res.Facts(a.now())))
}

// decided is report with the decision made.
func (a *Activities) decided(ctx context.Context, in DeliverInput, target string, res delivery.Attempt, d delivery.Decision) (delivery.Attempt, error) {
	now := a.now()
	if d.Outcome == delivery.Wait {
		res.NextAttemptAt = d.NextAttemptAt
		return res, temporal.NewApplicationErrorWithOptions(res.Error, ErrTypeThrottled,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}, Category: temporal.ApplicationErrorCategoryBenign})
	}
	if d.Outcome == delivery.Hold {
		res.NextAttemptAt = d.NextAttemptAt
		if err := a.Store.SetDeliveryStatus(ctx, in.DeliveryID, d.Status, d.NextAttemptAt); err != nil {
			return delivery.Attempt{}, fmt.Errorf("hold %s: %w", in.DeliveryID, err)
		}
		return res, temporal.NewApplicationErrorWithOptions(
			fmt.Sprintf("held: subscription %s is paused; waiting until it resumes, at most until %s", in.SubscriptionID, d.NextAttemptAt.Format(time.RFC3339)),
			ErrTypeHeld, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}, Category: temporal.ApplicationErrorCategoryBenign})
	}
	if !d.Final() {
		d.Apply(&res)
	}
	if err := a.Store.RecordAttempt(ctx, toStoreAttempt(in.DeliveryID, res), d.Status, d.NextAttemptAt); err != nil {
		return delivery.Attempt{}, fmt.Errorf("record attempt %d of %s: %w", in.Attempt, in.DeliveryID, err)
	}
	if d.Outcome != delivery.Retry {
		a.ended(ctx, in.DeliveryID, d.Status, "attempts", in.Attempt, "error", res.Error, "status_code", res.StatusCode)
	}
	switch d.Outcome {
	case delivery.Succeed:
		return res, nil
	case delivery.Gone:
		msg := res.Error
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d; subscription %s is disabled", res.StatusCode, in.SubscriptionID)
		}
		return res, temporal.NewApplicationErrorWithOptions(msg, ErrTypeSubscriptionGone,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}})
	case delivery.GiveUp:
		if err := a.publishFailed(ctx, in, res, now); err != nil {
			return delivery.Attempt{}, err
		}
	}
	return res, temporal.NewApplicationErrorWithOptions(describe(res, delivery.DisplayURL(target)), ErrTypeAttemptFailed,
		temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{res}, Category: temporal.ApplicationErrorCategoryBenign})
}

// HeartbeatInterval is how often a regular attempt heartbeats, which bounds
// how long a cancel takes to abort its request. The worker's
// MaxHeartbeatThrottleInterval must not be longer, or the SDK holds
// heartbeats back.
const HeartbeatInterval = time.Second

// storeTimeout bounds the store writes that log an attempt after its
// request, which no cancel interrupts.
const storeTimeout = 15 * time.Second

// cancelledInFlight ends an attempt whose delivery was cancelled while it
// was in flight. A worker shutting down cancels its activities too; that
// attempt is not logged, since the server runs it again on another worker.
func (a *Activities) cancelledInFlight(ctx context.Context, in DeliverInput, res delivery.Attempt) (delivery.Attempt, error) {
	if stopping(ctx) {
		return res, ctx.Err()
	}
	res.Error = "cancelled while sending"
	d := delivery.Decide(in.Policy, a.round(in), res.Facts(a.now()))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := a.Store.RecordAttempt(sctx, toStoreAttempt(in.DeliveryID, res), d.Status, d.NextAttemptAt); err != nil {
		activity.GetLogger(ctx).Warn("cannot log a cancelled attempt", "delivery", in.DeliveryID, "err", err)
	}
	return res, temporal.NewCanceledError(res)
}

// round is the attempt's round as Decide reads it, with the jitter of the
// wait that follows this attempt and the hold it may be in. The decision
// is the activity's result, recorded in history, so a change here changes
// no replay.
func (a *Activities) round(in DeliverInput) delivery.Round {
	return delivery.Round{Attempts: in.RoundAttempt, Start: in.RoundStart, Jitter: delivery.JitterOf(in.DeliveryID, in.Attempt),
		HeldUntil: in.HeldUntil, PauseHold: a.Defaults.PauseHold}
}

// attemptTimeout is how long the attempt's request may take.
func (a *Activities) attemptTimeout(in DeliverInput) time.Duration {
	if in.Timeout > 0 {
		return in.Timeout
	}
	return a.Defaults.AttemptTimeout
}

func stopping(ctx context.Context) bool {
	select {
	case <-activity.GetWorkerStopChannel(ctx):
		return true
	default:
		return false
	}
}

// heartbeat records a heartbeat every interval until the returned function
// is called. The server answers a heartbeat with "cancel requested" once
// the workflow has cancelled the activity, and the SDK then cancels ctx.
func heartbeat(ctx context.Context, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// post sends the request and fills res with what came back. Errors of the
// receiver's making end up in res.Error, never as a Go error.
func (a *Activities) post(ctx context.Context, in DeliverInput, sub store.Subscription, payload []byte, res *delivery.Attempt) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = a.Defaults.AttemptTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() { res.DurationMs = time.Since(res.StartedAt).Milliseconds() }()

	now := a.now()
	sig, err := signing.Sign(sub.SigningSecrets(now), in.EventID, now, payload)
	if err != nil {
		res.Kind, res.Error = delivery.KindNotSent, "cannot sign: "+err.Error()
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(payload))
	if err != nil {
		res.Kind, res.Error = delivery.KindNotSent, "bad subscription url: "+err.Error()
		return
	}
	for k, v := range sub.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", a.UserAgent)
	req.Header.Set(signing.HeaderID, in.EventID)
	req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(signing.HeaderSignature, sig)

	resp, err := a.HTTP.Do(req)
	if err != nil {
		res.Kind, res.Error = sendFailure(ctx, err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	res.Kind, res.StatusCode = delivery.KindAnswered, resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseRead))
	if err != nil && len(body) == 0 {
		_, msg := sendFailure(ctx, err)
		res.Kind, res.Error = delivery.KindConnectionFailed, "reading response: "+msg
	}
	res.ResponseExcerpt = excerpt(body)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Error = "redirects are not followed (Location: " + resp.Header.Get("Location") + ")"
	}
}

// logAttempt logs one attempt with nothing in it that could be secret: the
// ids, the target without user info, query string or fragment (a token may
// sit there), the status, the duration and the error. A connection the
// outbound guard refused is a warning; every other attempt is debug, since
// the attempt log in the store keeps them all.
func (a *Activities) logAttempt(ctx context.Context, in DeliverInput, target string, res delivery.Attempt) {
	kv := []any{"delivery", in.DeliveryID, "event", in.EventID, "subscription", in.SubscriptionID,
		"attempt", res.Attempt, "target", delivery.DisplayURL(target), "status", res.StatusCode, "duration_ms", res.DurationMs}
	if res.Error != "" {
		kv = append(kv, "error", res.Error)
	}
	if res.Kind == delivery.KindRefused {
		activity.GetLogger(ctx).Warn("outbound guard refused a webhook connection", kv...)
		return
	}
	activity.GetLogger(ctx).Debug("attempt done", kv...)
}

// ended counts a delivery that reached status (succeeded, failed or
// cancelled, which are also the outcome label's values) and logs it with
// its ids; the activity logger adds the workflow's (WorkflowID, RunID).
// kv holds nothing secret: ids, counts, and errors already redacted.
func (a *Activities) ended(ctx context.Context, deliveryID, status string, kv ...any) {
	a.Metrics.DeliveryEnded(status)
	eventID, subscriptionID, _ := ids.ParseDelivery(deliveryID)
	kv = append([]any{"delivery", deliveryID, "event", eventID, "subscription", subscriptionID, "status", status}, kv...)
	if status == delivery.StatusFailed {
		activity.GetLogger(ctx).Warn("delivery failed", kv...)
		return
	}
	activity.GetLogger(ctx).Info("delivery "+status, kv...)
}

// sendFailure says what kind of failure a request's error is, and in words
// for the attempt log.
func sendFailure(ctx context.Context, err error) (delivery.Kind, string) {
	const refused = "refused by the outbound guard: "
	var blocked *netguard.BlockedError
	switch {
	case errors.As(err, &blocked):
		return delivery.KindRefused, refused + blocked.Error() + "; nothing was sent"
	case errors.Is(err, netguard.ErrBlocked):
		return delivery.KindRefused, refused + err.Error() + "; nothing was sent"
	}
	// The URL is known; what went wrong with it is the news, and the URL's
	// query string stays out of the attempt log.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return delivery.KindTimedOut, "timed out waiting for the receiver"
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return delivery.KindCancelled, "cancelled while sending"
	}
	return delivery.KindConnectionFailed, err.Error()
}

// redacted replaces a subscription secret found in text from the receiver.
const redacted = "[redacted]"

// redactSecrets removes every signing secret of sub from s, whole or as the
// base64 key after "whsec_".
func redactSecrets(s string, sub store.Subscription) string {
	if s == "" {
		return s
	}
	for _, secret := range []string{sub.Secret, sub.PreviousSecret} {
		if secret == "" {
			continue
		}
		s = strings.ReplaceAll(s, secret, redacted)
		if key := strings.TrimPrefix(secret, signing.SecretPrefix); len(key) >= 16 {
			s = strings.ReplaceAll(s, key, redacted)
		}
	}
	return s
}

// excerpt keeps the first ExcerptSize bytes, cut at a rune boundary.
func excerpt(body []byte) string {
	if len(body) > ExcerptSize {
		body = body[:ExcerptSize]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
	}
	return strings.ToValidUTF8(string(body), "?")
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// describe says in words what happened, for the failure message operators
// read in the Temporal UI.
func describe(res delivery.Attempt, url string) string {
	msg := fmt.Sprintf("attempt %d to %s: ", res.Attempt, url)
	switch {
	case res.StatusCode == 0:
		msg += res.Error
	case res.Error != "":
		msg += fmt.Sprintf("HTTP %d: %s", res.StatusCode, res.Error)
	default:
		msg += fmt.Sprintf("HTTP %d", res.StatusCode)
	}
	if res.GaveUp {
		return msg + "; retry policy exhausted"
	}
	return msg + "; next attempt at " + res.NextAttemptAt.UTC().Format(time.RFC3339)
}

func toStoreAttempt(deliveryID string, r delivery.Attempt) store.Attempt {
	return store.Attempt{
		DeliveryID: deliveryID, Attempt: r.Attempt, StartedAt: r.StartedAt, DurationMs: r.DurationMs,
		StatusCode: r.StatusCode, Error: r.Error, ResponseExcerpt: r.ResponseExcerpt,
	}
}
