package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
)

type readiness struct {
	Status        string  `json:"status"`
	Temporal      string  `json:"temporal"`
	Dispatch      string  `json:"dispatch"`
	PendingEvents int     `json:"pending_events"`
	OldestPending float64 `json:"oldest_pending_seconds"`
}

// requireDeliveredOnce checks that r got each of keys exactly once.
func requireDeliveredOnce(t *testing.T, r *testenv.Receiver, keys []string) {
	t.Helper()
	got := map[string]int{}
	for _, req := range r.Requests() {
		require.NoError(t, req.VerifyErr)
		got[req.Header.Get(signing.HeaderID)]++
	}
	want := map[string]int{}
	for _, k := range keys {
		want[k] = 1
	}
	require.Equal(t, want, got, "every event delivered once")
}

// Temporal stopped while producers keep posting: every post is accepted
// at the speed of the database, and once Temporal is back every event
// reaches every subscriber, once.
func TestPostsWhileTemporalIsDownAreAcceptedAndDeliveredWhenItIsBack(t *testing.T) {
	ctx := context.Background()
	temporal, err := testenv.StartDevServerProcess(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = temporal.Stop() })
	h := testenv.StartHookflow(t, &testenv.Temporal{Address: temporal.Address}, app.ModeServe, nil)
	receivers := []*testenv.Receiver{testenv.NewReceiver(t), testenv.NewReceiver(t)}
	for _, r := range receivers {
		subscribe(t, h, r, "invoice.*")
	}

	require.NoError(t, temporal.Stop())
	const n = 50
	keys := make([]string, n)
	took := make([]time.Duration, n)
	body := func(i int) string { return fmt.Sprintf(`{"type":"invoice.paid","data":{"invoice":%d}}`, i) }
	for i := range n {
		keys[i] = fmt.Sprintf("invoice-%02d", i)
		began := time.Now()
		a := postEvent(h, keys[i], body(i))
		took[i] = time.Since(began)
		require.NoError(t, a.err)
		require.Equal(t, http.StatusAccepted, a.status, "%s: %s", keys[i], a.body)
		testenv.CheckResponse(t, a.req, a.status, a.header, a.body)
		require.Less(t, took[i], time.Second, "%s was answered in %v with Temporal down", keys[i], took[i])
	}
	var ready readiness
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/readyz", nil, &ready), "ready: the API accepts")
		assert.Equal(c, "stalled", ready.Dispatch)
		assert.Equal(c, "unreachable", ready.Temporal)
		assert.Equal(c, n, ready.PendingEvents)
	}, 30*time.Second, 100*time.Millisecond)
	// A repeat while Temporal is down gets the first answer.
	a := postEvent(h, keys[0], body(0))
	require.Equal(t, http.StatusAccepted, a.status, "%s", a.body)
	require.Equal(t, "true", a.header.Get("Idempotent-Replayed"))
	var ev eventView
	require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+keys[0], nil, &ev))
	require.Equal(t, "pending", ev.Status)
	require.Empty(t, ev.RunID, "not started yet")

	back := time.Now()
	require.NoError(t, temporal.Start(ctx))
	restarted := time.Since(back)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, r := range receivers {
			assert.GreaterOrEqual(c, r.Count(), n)
		}
	}, 2*time.Minute, 100*time.Millisecond)
	drained := time.Since(back)
	for _, key := range keys {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var ev eventView
			require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+key, nil, &ev))
			assert.Equal(c, "completed", ev.Status)
			assert.NotEmpty(c, ev.RunID)
		}, 30*time.Second, 100*time.Millisecond)
	}
	for _, r := range receivers {
		requireDeliveredOnce(t, r, keys)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/readyz", nil, &ready))
		assert.Equal(c, readiness{Status: "ready", Temporal: "up", Dispatch: "ok"}, ready)
	}, 30*time.Second, 100*time.Millisecond)

	slices.Sort(took)
	t.Logf("Temporal down: %d posts answered 202, p50 %v, slowest %v; Temporal back after a %v restart, all %d deliveries made %v after the restart began",
		n, took[n/2], took[n-1], restarted.Round(time.Millisecond), n*len(receivers), drained.Round(time.Millisecond))
}

// hookflowProcess is `hookflow serve` in a process of its own, so that a
// test can SIGKILL it.
type hookflowProcess struct {
	cmd  *exec.Cmd
	url  string
	log  string
	done chan error
}

func startHookflowProcess(t *testing.T, bin string, env []string, logPath string) *hookflowProcess {
	t.Helper()
	addr := freeAddr(t)
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), env...), "HOOKFLOW_HTTP_ADDR="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	p := &hookflowProcess{cmd: cmd, url: "http://" + addr, log: logPath, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		_ = logFile.Close()
	}()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-p.done:
			p.done <- err
			raw, _ := os.ReadFile(logPath)
			t.Fatalf("hookflow exited: %v\n%s", err, raw)
		default:
		}
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(logPath)
			t.Fatalf("hookflow did not get ready within a minute:\n%s", raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// kill sends SIGKILL: no shutdown, no claim released, nothing flushed.
func (p *hookflowProcess) kill() {
	_ = p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
}

// Hookflow SIGKILLed between storing events and starting their workflows:
// after a restart, each is started and delivered once. Temporal is stopped
// while the events are posted, which holds every one of them in that
// window (stored, answered 202, not started) without any hook in the code.
func TestEventsStoredButNotStartedWhenHookflowIsKilledAreDeliveredOnceAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookflow")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/hookflow").CombinedOutput()
	require.NoError(t, err, string(out))
	temporal, err := testenv.StartDevServerProcess(ctx, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = temporal.Stop() })
	env := []string{
		"HOOKFLOW_TEMPORAL_ADDRESS=" + temporal.Address,
		"HOOKFLOW_DATABASE_URL=sqlite://" + filepath.Join(dir, "hookflow.db"),
		"HOOKFLOW_TASK_QUEUE=hookflow-killed",
		"HOOKFLOW_ALLOW_PRIVATE_TARGETS=true",
		"HOOKFLOW_API_KEYS=",
		"HOOKFLOW_SECRET_KEY=",
		"HOOKFLOW_CODEC_KEYS=",
	}
	first := startHookflowProcess(t, bin, env, filepath.Join(dir, "hookflow-1.log"))
	h := &testenv.Hookflow{URL: first.url}
	r := testenv.NewReceiver(t)
	subscribe(t, h, r, "order.*")

	require.NoError(t, temporal.Stop())
	keys := []string{"order-1", "order-2", "order-3", "order-4", "order-5"}
	for i, key := range keys {
		a := postEvent(h, key, fmt.Sprintf(`{"type":"order.created","data":{"n":%d}}`, i))
		require.NoError(t, a.err)
		require.Equal(t, http.StatusAccepted, a.status, "%s: %s", key, a.body)
		var ev eventView
		require.Equal(t, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+key, nil, &ev))
		require.Empty(t, ev.RunID, "stored, not started")
	}
	first.kill()

	require.NoError(t, temporal.Start(ctx))
	second := startHookflowProcess(t, bin, env, filepath.Join(dir, "hookflow-2.log"))
	h = &testenv.Hookflow{URL: second.url}
	// The first process may have held a claim when it died, mid-start:
	// that one waits for its lease (30 s) to end.
	for _, key := range keys {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var ev eventView
			require.Equal(c, http.StatusOK, h.Do(t, http.MethodGet, "/v1/events/"+key, nil, &ev))
			assert.Equal(c, "completed", ev.Status)
			require.Len(c, ev.Deliveries, 1)
			assert.Equal(c, "succeeded", ev.Deliveries[0].Status)
		}, 2*time.Minute, 200*time.Millisecond)
	}
	requireDeliveredOnce(t, r, keys)
	c, err := client.DialContext(ctx, client.Options{HostPort: temporal.Address, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer c.Close()
	for _, key := range keys {
		runs, err := executions(ctx, c, "event:default/"+key)
		require.NoError(t, err)
		require.Len(t, runs, 1, "one workflow for %s", key)
	}
}
