package receiver

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of [Options].
const (
	// DefaultTolerance is how far webhook-timestamp may be from the
	// receiver's clock, as the Standard Webhooks specification recommends.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxBodyBytes is the largest body read: 1 MiB.
	DefaultMaxBodyBytes = 1 << 20
)

// Header names of the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix starts every secret Hookflow hands out.
const secretPrefix = "whsec_"

// Errors of [Receiver.Verify] and of decoding, matched with errors.Is.
var (
	ErrMissingHeaders      = errors.New("receiver: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp    = errors.New("receiver: webhook-timestamp is not Unix seconds")
	ErrTimestampTooOld     = errors.New("receiver: webhook-timestamp is too old")
	ErrTimestampTooNew     = errors.New("receiver: webhook-timestamp is too far in the future")
	ErrNoMatchingSignature = errors.New("receiver: no signature matches a configured secret")
	ErrMalformedPayload    = errors.New("receiver: body is not a Hookflow event")
)

// Event is one Hookflow event, decoded from the body of a webhook.
type Event struct {
	// ID is the event id; Hookflow sends it as webhook-id too.
	ID string `json:"id"`
	// Type is the event type, such as "user.registered".
	Type string `json:"type"`
	// Timestamp is when the producer published the event.
	Timestamp time.Time `json:"timestamp"`
	// Data is the event's payload as the producer sent it.
	Data json.RawMessage `json:"data"`
}

// HandlerFunc handles one event. Returning an error answers 500, so Hookflow
// delivers the event again later; returning nil acknowledges it for good.
type HandlerFunc func(ctx context.Context, e Event) error

// Options configures a [Receiver]. Only Secrets is required.
type Options struct {
	// Secrets are the subscription's signing secrets, "whsec_" followed by
	// the base64 key. A request is accepted if any of its signatures
	// matches any of them, so during a rotation list the new and the old.
	Secrets []string
	// Tolerance is how far webhook-timestamp may be from Now, in either
	// direction. Defaults to DefaultTolerance.
	Tolerance time.Duration
	// Retention is how long a handled webhook-id is remembered, and the
	// longest a delivery holds its claim. Defaults to twice Tolerance: a
	// captured request can be replayed as long as its timestamp passes,
	// which is up to twice Tolerance after it was first accepted. Raise it
	// to also absorb Hookflow's late retries of a delivery whose answer
	// was lost.
	Retention time.Duration
	// MaxBodyBytes bounds the request body; a larger one is answered 413.
	// Defaults to DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Store remembers handled ids. Defaults to a [MemoryStore] of
	// DefaultMaxEntries that expires by Now.
	Store SeenStore
	// Now is the clock timestamps are checked against. Defaults to time.Now.
	Now func() time.Time
	// Logger receives one record per refused request and per failed
	// handler. Defaults to slog.Default().
	Logger *slog.Logger
}

// Receiver verifies Hookflow webhooks and dispatches their events to
// handlers by type. It is an [http.Handler]; create it with [New] or
// [NewWithOptions], register handlers with [Receiver.On] and
// [Receiver.OnAny], then serve it. It is safe for concurrent use.
type Receiver struct {
	keys      [][]byte
	tolerance time.Duration
	retention time.Duration
	maxBody   int64
	store     SeenStore
	now       func() time.Time
	logger    *slog.Logger

	mu       sync.RWMutex
	handlers map[string]HandlerFunc
	fallback HandlerFunc
}

// New returns a Receiver that accepts webhooks signed with any of secrets,
// with every other option at its default.
func New(secrets ...string) (*Receiver, error) {
	return NewWithOptions(Options{Secrets: secrets})
}

// NewWithOptions returns a Receiver configured by opts. It fails if no
// secret is given, a secret is not "whsec_" and base64 of 24 to 64 bytes,
// or a duration or size is negative.
func NewWithOptions(opts Options) (*Receiver, error) {
	if len(opts.Secrets) == 0 {
		return nil, errors.New("receiver: at least one secret is required")
	}
	keys := make([][]byte, 0, len(opts.Secrets))
	for i, secret := range opts.Secrets {
		key, err := decodeSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("receiver: secret %d: %w", i+1, err)
		}
		keys = append(keys, key)
	}
	if opts.Tolerance < 0 || opts.Retention < 0 || opts.MaxBodyBytes < 0 {
		return nil, errors.New("receiver: Tolerance, Retention and MaxBodyBytes must not be negative")
	}
	r := &Receiver{
		keys:      keys,
		tolerance: cmp.Or(opts.Tolerance, DefaultTolerance),
		maxBody:   cmp.Or(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		now:       opts.Now,
		store:     opts.Store,
		logger:    opts.Logger,
		handlers:  make(map[string]HandlerFunc),
	}
	r.retention = cmp.Or(opts.Retention, 2*r.tolerance)
	if r.now == nil {
		r.now = time.Now
	}
	if r.store == nil {
		r.store = NewMemoryStore(MemoryStoreOptions{Now: r.now})
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	return r, nil
}

// decodeSecret returns the HMAC key inside a secret. It accepts the same
// secrets as Hookflow's API: base64 of 24 to 64 bytes, "whsec_" optional.
func decodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return nil, errors.New("not base64 after the whsec_ prefix")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("holds %d bytes, want 24 to 64", len(key))
	}
	return key, nil
}

// On registers h for events of type eventType. It panics if eventType is
// empty, h is nil or eventType already has a handler, as
// [http.ServeMux.Handle] does for patterns.
func (r *Receiver) On(eventType string, h HandlerFunc) {
	if eventType == "" || h == nil {
		panic("receiver: On needs an event type and a handler")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.handlers[eventType]; ok {
		panic("receiver: a handler for " + strconv.Quote(eventType) + " is already registered")
	}
	r.handlers[eventType] = h
}

// OnAny registers h for events of every type that has no handler of its
// own. It panics if h is nil or a fallback is already registered.
func (r *Receiver) OnAny(h HandlerFunc) {
	if h == nil {
		panic("receiver: OnAny needs a handler")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fallback != nil {
		panic("receiver: a fallback handler is already registered")
	}
	r.fallback = h
}

// handler returns the handler for eventType, the fallback, or nil.
func (r *Receiver) handler(eventType string) HandlerFunc {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if h, ok := r.handlers[eventType]; ok {
		return h
	}
	return r.fallback
}

// Verify checks the Standard Webhooks headers of a request against its raw
// body: all three present, the timestamp within Tolerance of Now, and at
// least one "v1," signature made with one of the secrets. It returns nil
// or one of the Err* values of this package. Use it to verify webhooks
// outside [Receiver.ServeHTTP]; it does not deduplicate.
func (r *Receiver) Verify(h http.Header, body []byte) error {
	id, timestamp, err := r.checkHeaders(h)
	if err != nil {
		return err
	}
	return r.checkSignature(id, timestamp, h.Get(HeaderSignature), body)
}

// checkHeaders does the checks that need no body, and returns the id and
// the timestamp as sent.
func (r *Receiver) checkHeaders(h http.Header) (id, timestamp string, err error) {
	id, timestamp = h.Get(HeaderID), h.Get(HeaderTimestamp)
	if id == "" || timestamp == "" || h.Get(HeaderSignature) == "" {
		return "", "", ErrMissingHeaders
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return "", "", ErrInvalidTimestamp
	}
	// Compare in seconds: time.Duration overflows for timestamps a few
	// centuries away, and the header has no finer resolution anyway.
	now := r.now().Unix()
	limit := int64(r.tolerance / time.Second)
	switch {
	case seconds < now-limit:
		return "", "", ErrTimestampTooOld
	case seconds > now+limit:
		return "", "", ErrTimestampTooNew
	}
	return id, timestamp, nil
}

// checkSignature reports whether any v1 entry of header is the HMAC of
// "id.timestamp.body" under any key. The timestamp is signed as sent.
func (r *Receiver) checkSignature(id, timestamp, header string, body []byte) error {
	want := make([][]byte, len(r.keys))
	for i, key := range r.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(timestamp))
		mac.Write([]byte{'.'})
		mac.Write(body)
		want[i] = mac.Sum(nil)
	}
	for _, entry := range strings.Fields(header) {
		version, encoded, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue // other schemes, such as v1a, are not ours to check
		}
		got, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// decodeEvent parses the envelope Hookflow sends.
func decodeEvent(body []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("%w: %w", ErrMalformedPayload, err)
	}
	if dec.More() {
		return Event{}, fmt.Errorf("%w: data after the JSON object", ErrMalformedPayload)
	}
	if e.ID == "" || e.Type == "" {
		return Event{}, fmt.Errorf("%w: id and type are required", ErrMalformedPayload)
	}
	return e, nil
}

// ServeHTTP verifies one webhook and runs its handler at most once per
// webhook-id; the package documentation lists every answer.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		r.refuse(w, req, http.StatusMethodNotAllowed, errors.New("receiver: method must be POST"))
		return
	}
	// Refuse on headers alone before reading a body.
	id, timestamp, err := r.checkHeaders(req.Header)
	if err != nil {
		r.refuse(w, req, statusOf(err), err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			r.refuse(w, req, http.StatusRequestEntityTooLarge, fmt.Errorf("receiver: body is larger than %d bytes", r.maxBody))
			return
		}
		r.refuse(w, req, http.StatusBadRequest, fmt.Errorf("receiver: read body: %w", err))
		return
	}
	if err := r.checkSignature(id, timestamp, req.Header.Get(HeaderSignature), body); err != nil {
		r.refuse(w, req, statusOf(err), err)
		return
	}
	event, err := decodeEvent(body)
	if err != nil {
		r.refuse(w, req, statusOf(err), err)
		return
	}
	h := r.handler(event.Type)
	if h == nil {
		// Acknowledge: a retry would not make a handler appear.
		r.logger.LogAttrs(req.Context(), slog.LevelDebug, "webhook ignored: no handler for its type",
			slog.String("webhook_id", id), slog.String("event_type", event.Type))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	r.deliver(w, req, id, event, h)
}

// deliver runs h unless the store says id is done or busy.
func (r *Receiver) deliver(w http.ResponseWriter, req *http.Request, id string, event Event, h HandlerFunc) {
	ctx := req.Context()
	state, err := r.store.Claim(ctx, id, r.retention)
	if err == nil && state != ClaimAcquired && state != ClaimAlreadyDone && state != ClaimInProgress {
		err = fmt.Errorf("store returned unknown claim state %d", state)
	}
	if err != nil {
		r.logger.LogAttrs(ctx, slog.LevelError, "webhook not handled: claim failed",
			slog.String("webhook_id", id), slog.Any("error", err))
		http.Error(w, "cannot record the delivery now", http.StatusServiceUnavailable)
		return
	}
	switch state {
	case ClaimAlreadyDone:
		w.WriteHeader(http.StatusNoContent)
		return
	case ClaimInProgress:
		// Not 2xx: if the running handler fails, the retry must come.
		http.Error(w, "this webhook-id is being handled by another request", http.StatusConflict)
		return
	}

	// The store must outlive a cancelled request, or a failed delivery
	// would keep its claim until it expires.
	storeCtx := context.WithoutCancel(ctx)
	if err := r.run(ctx, storeCtx, id, event, h); err != nil {
		r.logger.LogAttrs(ctx, slog.LevelError, "webhook handler failed",
			slog.String("webhook_id", id), slog.String("event_type", event.Type), slog.Any("error", err))
		if err := r.store.Release(storeCtx, id); err != nil {
			r.logger.LogAttrs(ctx, slog.LevelError, "webhook claim not released",
				slog.String("webhook_id", id), slog.Any("error", err))
		}
		// The handler's error may hold internals; the sender gets none.
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	if err := r.store.Complete(storeCtx, id, r.retention); err != nil {
		// Still success: answering an error would run the handler again.
		r.logger.LogAttrs(ctx, slog.LevelError, "webhook handled but not recorded",
			slog.String("webhook_id", id), slog.Any("error", err))
	}
	w.WriteHeader(http.StatusNoContent)
}

// run calls h, releasing the claim if h panics before the panic goes on.
func (r *Receiver) run(ctx, storeCtx context.Context, id string, event Event, h HandlerFunc) error {
	returned := false
	defer func() {
		if !returned {
			_ = r.store.Release(storeCtx, id)
		}
	}()
	err := h(ctx, event)
	returned = true
	return err
}

// statusOf maps this package's errors to the answer's status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNoMatchingSignature),
		errors.Is(err, ErrTimestampTooOld),
		errors.Is(err, ErrTimestampTooNew):
		return http.StatusUnauthorized
	default:
		return http.StatusBadRequest
	}
}

// refuse answers a request that cannot be a valid webhook, and logs why.
func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, status int, err error) {
	r.logger.LogAttrs(req.Context(), slog.LevelWarn, "webhook refused",
		slog.Int("status", status), slog.String("webhook_id", req.Header.Get(HeaderID)), slog.Any("error", err))
	http.Error(w, strings.TrimPrefix(err.Error(), "receiver: "), status)
}
