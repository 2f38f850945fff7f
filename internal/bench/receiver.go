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
// it answers 204 at once and notes when each (subscriber, event) first
// arrived. Subscriber n has the URL <base>/s/<n>.
type receiver struct {
	srv  *http.Server
	base string

	mu     sync.Mutex
	first  map[string]time.Time // "<n>|<webhook-id>" → first arrival
	total  int
	last   time.Time
	notify chan struct{}
}

func startReceiver() (*receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{base: "http://" + l.Addr().String(), first: map[string]time.Time{}, notify: make(chan struct{}, 1)}
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
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
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
