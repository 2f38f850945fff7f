package bench

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// receiver is the fastest webhook receiver that still tells what arrived:
// it answers 204 at once (or after the subscriber's delay, see slow) and
// notes when each (subscriber, event) first arrived and when every request
// did. Subscriber n has the URL <base>/s/<n>.
type receiver struct {
	srv  *http.Server
	base string

	mu     sync.Mutex
	first  map[string]time.Time // "<n>|<webhook-id>" → first arrival
	total  int
	last   time.Time
	times  map[string][]time.Time // subscriber → every request's arrival
	delay  map[string]time.Duration
	notify chan struct{}
}

func startReceiver() (*receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{base: "http://" + l.Addr().String(), first: map[string]time.Time{},
		times: map[string][]time.Time{}, delay: map[string]time.Duration{}, notify: make(chan struct{}, 1)}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	now := time.Now()
	sub := strings.TrimPrefix(req.URL.Path, "/s/")
	key := sub + "|" + req.Header.Get("webhook-id")
	r.mu.Lock()
	r.total++
	if _, seen := r.first[key]; !seen {
		r.first[key] = now
		r.last = now
	}
	r.times[sub] = append(r.times[sub], now)
	delay := r.delay[sub]
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	w.WriteHeader(http.StatusNoContent)
}

// slow makes subscriber sub's requests take d each, as a real receiver's do.
func (r *receiver) slow(sub string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay[sub] = d
}

// requestTimes returns when each request to subscriber sub arrived,
// repeats included, in order.
func (r *receiver) requestTimes(sub string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times[sub]...)
}

// arrivedBy counts the distinct deliveries to subscriber sub that had
// arrived by t.
func (r *receiver) arrivedBy(sub string, t time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for key, at := range r.first {
		if strings.HasPrefix(key, sub+"|") && !at.After(t) {
			n++
		}
	}
	return n
}

func (r *receiver) url(sub string) string { return r.base + "/s/" + sub }

// counts returns how many distinct deliveries arrived, how many requests
// in all, and when the last distinct one arrived.
func (r *receiver) counts() (distinct, total int, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first), r.total, r.last
}

// arrival returns when subscriber sub first got event id.
func (r *receiver) arrival(sub, id string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.first[sub+"|"+id]
	return t, ok
}

func (r *receiver) close() { _ = r.srv.Close() }
