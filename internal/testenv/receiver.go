package testenv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Request is one webhook a Receiver got.
type Request struct {
	// Path is the request's URL path, which tells subscriptions that
	// share one receiver apart.
	Path string
	// RemoteAddr is the sender's address, which tells the process that
	// sent it (its socket's port) when several send from one host.
	RemoteAddr string
	Header     http.Header
	Body       []byte
	At         time.Time
	// VerifyErr is what the Standard Webhooks library said of its
	// signature, when the receiver knows the secret.
	VerifyErr error
}

// Receiver is an httptest server that records every webhook and answers
// with what Respond says (200 when nil).
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
	secret   string
	// Respond picks the answer to the n-th request (from 1).
	Respond func(n int, w http.ResponseWriter)
}

// NewReceiver starts a receiver that stops when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// SetSecret makes the receiver verify signatures with the Standard
// Webhooks library, not Hookflow's own code.
func (r *Receiver) SetSecret(secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret = secret
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	rec := Request{Path: req.URL.Path, RemoteAddr: req.RemoteAddr, Header: req.Header.Clone(), Body: body, At: time.Now()}
	if r.secret != "" {
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err == nil {
			err = wh.Verify(body, req.Header)
		}
		rec.VerifyErr = err
	}
	r.requests = append(r.requests, rec)
	n, respond := len(r.requests), r.Respond
	r.mu.Unlock()
	if respond != nil {
		respond(n, w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Requests returns a copy of what the receiver got so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Nth returns the n-th request (from 1, as Respond numbers them).
func (r *Receiver) Nth(n int) Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[n-1]
}

// Count is how many requests arrived.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}
