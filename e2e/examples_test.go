package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/internal/testenv"
)

// The README's walk-through, run for real: the example receiver (built and
// started as its own process) gets an event that the example producer posts
// through Hookflow, and its handler runs once.
func TestExampleReceiverGetsAnEventFromTheExampleProducer(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, nil)
	bin := t.TempDir()
	for _, name := range []string{"receiver", "producer"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), "../examples/"+name).CombinedOutput()
		require.NoError(t, err, string(out))
	}

	addr := freeAddr(t)
	var sub subscription
	require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/subscriptions",
		map[string]any{"url": "http://" + addr + "/webhooks", "event_types": []string{"user.*"}}, &sub))

	ctx, cancel := context.WithCancel(context.Background())
	rcv := exec.CommandContext(ctx, filepath.Join(bin, "receiver"))
	rcv.Env = append(rcv.Environ(), "WEBHOOK_SECRET="+sub.Secret, "LISTEN_ADDR="+addr)
	stdout, err := rcv.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, rcv.Start())
	t.Cleanup(func() { cancel(); _ = rcv.Wait() })
	var (
		mu    sync.Mutex
		lines []string
	)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(c, err)
		_ = conn.Close()
	}, 30*time.Second, 50*time.Millisecond, "the example receiver listens")

	out, err := exec.Command(filepath.Join(bin, "producer"), "-api", h.URL, "-type", "user.registered",
		"-id", "evt_example_1", "-data", `{"email":"ada@example.com"}`).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "202 Accepted")

	handled := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var got []string
		for _, l := range lines {
			if strings.Contains(l, "msg=event") {
				got = append(got, l)
			}
		}
		return got
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var ev eventView
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/evt_example_1", nil, &ev))
		require.Len(c, ev.Deliveries, 1)
		assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
	}, 30*time.Second, 100*time.Millisecond)
	got := handled()
	require.Len(t, got, 1, "the handler runs once")
	require.Contains(t, got[0], "type=user.registered")
	require.Contains(t, got[0], "id=evt_example_1")
	require.Contains(t, got[0], "ada@example.com")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := testenv.FreePort()
	require.NoError(t, err)
	return fmt.Sprintf("127.0.0.1:%d", port)
}
