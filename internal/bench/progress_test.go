package bench

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer the waiting loop and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// While a scenario waits for its deliveries it prints delivered/total
// every ProgressEvery, so that a long run does not look hung.
func TestWaitingForDeliveriesPrintsProgress(t *testing.T) {
	recv, err := startReceiver()
	require.NoError(t, err)
	defer recv.close()
	var out syncBuffer
	b := &bench{opts: Options{Progress: &out, ProgressEvery: 50 * time.Millisecond, Stall: time.Minute}}

	deliver := func(id string) {
		req, err := http.NewRequest(http.MethodPost, recv.url("0"), strings.NewReader("{}"))
		require.NoError(t, err)
		req.Header.Set("webhook-id", id)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	deliver("e1")
	done := make(chan error, 1)
	go func() { done <- b.waitDeliveries(context.Background(), recv, 3) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "delivered 1/3") }, 10*time.Second, 10*time.Millisecond)
	deliver("e2")
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "delivered 2/3") }, 10*time.Second, 10*time.Millisecond)
	deliver("e3")
	require.NoError(t, <-done)
	require.Regexp(t, regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d      delivered 1/3 \(33%\), \d+/s so far, \d+s$`), out.String())
	require.NotContains(t, out.String(), "delivered 3/3", "the last line is the scenario's result, not progress")
}
