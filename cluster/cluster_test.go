//go:build cluster && linux

// Package cluster_test runs Hookflow the way production does and checks
// that nothing is lost when a worker dies: a real Temporal server (not the
// dev server) on PostgreSQL, two `hookflow api` and three `hookflow worker`
// processes on a PostgreSQL store, five receivers that verify every
// signature with the Standard Webhooks library, 200 events posted through
// both APIs, and one worker killed with SIGKILL halfway. Every one of the
// 1,000 deliveries must arrive, verified; the test reports how many arrived
// twice. A sixth subscription, with max_in_flight 3 on a slow receiver,
// gets the same 200 events: the cap holds across the three workers, the
// worker is killed while it holds one of the slots, and the slot comes back
// by itself (README "Rate limits and concurrency caps"). `make
// test-cluster` runs it:
//
//	go test -tags cluster -count=1 -v -timeout 45m ./cluster/
//
// Everything listens on 127.0.0.1. The processes are stopped and the three
// databases (Temporal's two, Hookflow's) dropped when the test ends.
// HOOKFLOW_TEST_POSTGRES_URL points it at another PostgreSQL server than
// the local one (its user must be allowed to create databases).
package cluster_test

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create and drop the databases
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
)

const (
	events      = 200
	subscribers = 5
	apis        = 2
	workers     = 3
	// killed is the worker that gets SIGKILL once half the events are posted.
	killed = 1
	// posters post events at the same time, alternating between the APIs.
	posters = 8
	// receiverDelay keeps each request in flight a while, as a real
	// receiver does, so that the killed worker dies with requests under
	// way: the receivers got them, the worker never recorded them, and
	// another worker sends them again. Those are the duplicates reported.
	receiverDelay = 200 * time.Millisecond

	// cappedSlots is the max_in_flight of the capped subscription, whose
	// receiver takes cappedDelay a request and counts how many are open.
	cappedSlots = 3
	cappedDelay = 300 * time.Millisecond
	// flightLease is how long a slot stays leased: the attempt timeout
	// (15 s by default) plus activities.flightLeaseMargin (30 s). A slot
	// whose worker died is free again after it at the latest.
	flightLease = 45 * time.Second
	// cappedAfter events go to the capped subscription alone once the
	// killed worker's slots are back, to show the cap is full again.
	cappedAfter = 24
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func TestCluster(t *testing.T) {
	began := time.Now()
	ctx, cancel := context.WithDeadline(t.Context(), deadline(t))
	defer cancel()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	suffix := randomHex(t)

	// Databases: Temporal's two and Hookflow's, all new, all dropped at the end.
	pg := newPostgres(t, cmp.Or(os.Getenv("HOOKFLOW_TEST_POSTGRES_URL"), defaultPostgresURL))
	temporalDB, visibilityDB, hookflowDB := "hookflow_ct_"+suffix, "hookflow_ctv_"+suffix, "hookflow_c_"+suffix
	pg.dropAtEnd(t, temporalDB, visibilityDB) // created by the Temporal script
	pg.create(t, hookflowDB)

	// A real Temporal server on PostgreSQL, with the namespace and the
	// search attributes registered.
	address := startTemporal(ctx, t, root, pg, temporalDB, visibilityDB)
	t.Logf("Temporal ready at %s after %s", address, since(began))

	bin := buildHookflow(ctx, t, root)
	env := []string{
		"HOOKFLOW_TEMPORAL_ADDRESS=" + address,
		"HOOKFLOW_DATABASE_URL=" + pg.urlOf(t, hookflowDB),
		"HOOKFLOW_TASK_QUEUE=hookflow-cluster-" + suffix,
		"HOOKFLOW_ALLOW_PRIVATE_TARGETS=true", // the receivers are on 127.0.0.1
		"HOOKFLOW_HTTP_ADDR=127.0.0.1:0",
		"HOOKFLOW_METRICS_ADDR=127.0.0.1:0",
		// An attempt that fails (a receiver refusing a connection under
		// load, say) is tried again within seconds, not minutes.
		"HOOKFLOW_RETRY_INITIAL_INTERVAL=1s",
		"HOOKFLOW_RETRY_MAX_INTERVAL=5s",
	}
	logs := t.TempDir()
	var api, work []*process
	for i := range apis {
		api = append(api, startHookflow(ctx, t, bin, logs, fmt.Sprintf("api-%d", i+1), "api", env))
	}
	for i := range workers {
		work = append(work, startHookflow(ctx, t, bin, logs, fmt.Sprintf("worker-%d", i+1), "worker", env))
	}
	for _, p := range append(append([]*process{}, api...), work...) {
		p.waitListening(ctx, t)
	}
	clients := make([]*testenv.Hookflow, apis)
	for i, p := range api {
		clients[i] = &testenv.Hookflow{URL: "http://" + p.apiAddr}
	}
	t.Logf("%d APIs (%s, %s) and %d workers up after %s", apis, api[0].apiAddr, api[1].apiAddr, workers, since(began))

	// Receivers, each subscribed through one of the APIs.
	receivers := make([]*testenv.Receiver, subscribers)
	for i := range receivers {
		r := testenv.NewReceiver(t)
		r.Respond = func(_ int, w http.ResponseWriter) {
			time.Sleep(receiverDelay)
			w.WriteHeader(http.StatusNoContent)
		}
		var sub struct {
			Secret string `json:"secret"`
		}
		require.Equal(t, http.StatusCreated, clients[i%apis].Do(t, http.MethodPost, "/v1/subscriptions",
			map[string]any{"url": r.URL + "/hooks", "event_types": []string{"cluster.*"}}, &sub))
		r.SetSecret(sub.Secret)
		receivers[i] = r
	}
	// The capped subscription: every cluster.* event, and capped.* ones
	// no other subscription takes.
	capped := newCappedReceiver(t)
	var cappedSub struct {
		ID          string `json:"id"`
		Secret      string `json:"secret"`
		MaxInFlight int    `json:"max_in_flight"`
	}
	require.Equal(t, http.StatusCreated, clients[1].Do(t, http.MethodPost, "/v1/subscriptions",
		map[string]any{"url": capped.URL + "/hooks", "event_types": []string{"cluster.*", "capped.*"}, "max_in_flight": cappedSlots}, &cappedSub))
	require.Equal(t, cappedSlots, cappedSub.MaxInFlight)
	capped.SetSecret(cappedSub.Secret)
	// Two applications, each created through one API with a receiver
	// subscribed through the other to the same types as default's: the
	// events posted to default must never reach them.
	apps := []string{"acme-" + suffix, "globex-" + suffix}
	appReceivers := make([]*testenv.Receiver, len(apps))
	for i, a := range apps {
		require.Equal(t, http.StatusCreated, clients[i%apis].Do(t, http.MethodPost, "/v1/applications",
			map[string]any{"id": a, "name": a}, nil))
		r := testenv.NewReceiver(t)
		var sub struct {
			Secret string `json:"secret"`
		}
		require.Equal(t, http.StatusCreated, clients[(i+1)%apis].Do(t, http.MethodPost, "/v1/applications/"+a+"/subscriptions",
			map[string]any{"url": r.URL + "/hooks", "event_types": []string{"cluster.*"}}, &sub))
		r.SetSecret(sub.Secret)
		appReceivers[i] = r
	}

	arrived := func() (unique, requests int) {
		for _, r := range receivers {
			seen := map[string]bool{}
			for _, req := range r.Requests() {
				requests++
				if req.VerifyErr == nil {
					seen[req.Header.Get(signing.HeaderID)] = true
				}
			}
			unique += len(seen)
		}
		return unique, requests
	}

	// SIGKILL a worker when half the deliveries have arrived: it dies with
	// workflow tasks, local activities and requests in flight, and at the
	// first moment from then on when it has a request open to the capped
	// receiver, so that it dies holding a max_in_flight slot.
	want := events * subscribers
	var (
		posted                      atomic.Int32
		arrivedAtKill, postedAtKill int
		attemptsOfKilled            float64
		killedAfter                 time.Duration
		killedAt                    time.Time
		slotsOfKilled               int
		// slotsBack is how long after the SIGKILL every slot leased at
		// that moment was free again; zero until then.
		slotsBack atomic.Int64
	)
	flights := openDB(t, pg.urlOf(t, hookflowDB))
	postStart := time.Now()
	killDone := make(chan struct{})
	go func() {
		defer close(killDone)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if n, _ := arrived(); n >= want/2 {
				arrivedAtKill, postedAtKill = n, int(posted.Load())
				attemptsOfKilled, _ = metricValue(work[killed].metricsAddr, `hookflow_delivery_attempts_total{outcome="succeeded"}`)
				pid := work[killed].cmd.Process.Pid
				for wait := time.Now().Add(20 * time.Second); time.Now().Before(wait) && ctx.Err() == nil; time.Sleep(10 * time.Millisecond) {
					if slotsOfKilled = capped.openFrom(pid); slotsOfKilled > 0 {
						break
					}
				}
				killedAfter, killedAt = time.Since(postStart), time.Now()
				work[killed].kill(t)
				watchSlots(ctx, t, flights, cappedSub.ID, killedAt, &slotsBack)
				return
			}
		}
	}()

	// Post the events through both APIs alternately.
	eventID := func(i int) string { return fmt.Sprintf("cluster-%s-%03d", suffix, i) }
	next := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, events)
	for range posters {
		wg.Go(func() {
			for i := range next {
				if err := post(ctx, clients[i%apis].URL, eventID(i), i); err != nil {
					errs <- err
					continue
				}
				posted.Add(1)
			}
		})
	}
	for i := range events {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	postTook := time.Since(postStart)
	t.Logf("posted %d events in %s", events, postTook.Round(time.Millisecond))

	// Every delivery arrives, with a signature the Standard Webhooks library accepts.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		unique, _ := arrived()
		assert.Equal(c, want, unique, "deliveries arrived and verified")
	}, 10*time.Minute, 500*time.Millisecond, "not every delivery arrived; worker logs in %s", logs)
	allArrived := time.Since(postStart)
	<-killDone
	require.True(t, work[killed].killed.Load(), "a worker was killed halfway")
	t.Logf("%s SIGKILLed %s after the first post, with %d of %d events posted and %d deliveries arrived; it had made %.0f successful attempts and had %d requests open to the capped receiver",
		work[killed].name, killedAfter.Round(time.Millisecond), postedAtKill, events, arrivedAtKill, attemptsOfKilled, slotsOfKilled)
	require.Positive(t, slotsOfKilled, "the killed worker held a max_in_flight slot when it died")

	ours := map[string]bool{}
	for i := range events {
		ours[eventID(i)] = true
	}
	unique, requests := arrived()
	twice := 0
	for _, r := range receivers {
		count := map[string]int{}
		for _, req := range r.Requests() {
			require.NoError(t, req.VerifyErr, "every request, repeats included, is signed right")
			id := req.Header.Get(signing.HeaderID)
			require.True(t, ours[id], "webhook-id %q is one of the posted events", id)
			var body struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			}
			require.NoError(t, json.Unmarshal(req.Body, &body))
			require.Equal(t, id, body.ID)
			require.Equal(t, "cluster.tick", body.Type)
			count[id]++
		}
		require.Len(t, count, events, "each receiver got every event")
		for _, n := range count {
			if n > 1 {
				twice++
			}
		}
	}
	require.Equal(t, want, unique)

	// The capped subscription got every event too, never more than
	// cappedSlots at once though three workers sent them.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, events, capped.distinct("cluster.tick"), "capped deliveries arrived and verified")
	}, 5*time.Minute, 500*time.Millisecond, "not every capped delivery arrived; worker logs in %s", logs)
	cappedDone := time.Since(postStart)
	for _, req := range capped.Requests() {
		require.NoError(t, req.VerifyErr, "every request to the capped receiver is signed right")
	}
	require.LessOrEqual(t, capped.peak(), cappedSlots, "the capped receiver never has more than max_in_flight requests open")
	t.Logf("capped subscription (max_in_flight %d, %s a request): %d events arrived %s after the first post, %d requests, at most %d at once",
		cappedSlots, cappedDelay, events, cappedDone.Round(time.Millisecond), capped.Count(), capped.peak())

	// The store agrees: every event completed, every delivery succeeded.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for i := range events {
			var ev struct {
				Status     string `json:"status"`
				Deliveries []struct {
					Status string `json:"status"`
				} `json:"deliveries"`
			}
			if !assert.Equal(c, http.StatusOK, clients[i%apis].Do(t, http.MethodGet, "/v1/events/"+eventID(i), nil, &ev)) {
				return
			}
			if !assert.Equal(c, "completed", ev.Status, "event %s", eventID(i)) || !assert.Len(c, ev.Deliveries, subscribers+1) {
				return
			}
			for _, d := range ev.Deliveries {
				assert.Equal(c, "succeeded", d.Status)
			}
		}
	}, 2*time.Minute, 2*time.Second)

	// Metrics, summed over the processes: each event was counted by the one
	// API that accepted it; the surviving workers report their attempts.
	var accepted, attemptsBySurvivors float64
	for _, p := range api {
		accepted += scrape(t, p.metricsAddr, "hookflow_events_accepted_total")
	}
	for i, p := range work {
		if i == killed {
			continue
		}
		attemptsBySurvivors += scrape(t, p.metricsAddr, `hookflow_delivery_attempts_total{outcome="succeeded"}`)
		require.Positive(t, scrape(t, p.metricsAddr, `temporal_worker_task_slots_available{`), "%s exports the SDK's worker metrics", p.name)
	}
	require.Equal(t, float64(events), accepted, "hookflow_events_accepted_total over both APIs")
	require.Positive(t, attemptsBySurvivors)
	t.Logf("metrics: %.0f events accepted over both APIs; the surviving workers made %.0f successful attempts, the killed one %.0f before it died",
		accepted, attemptsBySurvivors, attemptsOfKilled)

	// No cross-delivery: the applications' receivers heard nothing of
	// default's events. Then one event under the same key to each
	// application, through both APIs: each application's receiver gets its
	// own once, and default's receivers nothing of either.
	for i, r := range appReceivers {
		require.Zero(t, r.Count(), "application %s received default's events", apps[i])
	}
	isoKey := "iso-" + suffix
	for _, a := range apps {
		for _, c := range clients { // both APIs: the second post is a replay
			require.Equal(t, http.StatusAccepted, c.Do(t, http.MethodPost, "/v1/applications/"+a+"/events",
				map[string]any{"type": "cluster.iso", "data": map[string]any{"app": a}}, nil, "Idempotency-Key", isoKey))
		}
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, r := range appReceivers {
			assert.Equal(c, 1, r.Count())
		}
	}, 2*time.Minute, 200*time.Millisecond)
	for i, r := range appReceivers {
		req := r.Requests()[0]
		require.NoError(t, req.VerifyErr)
		require.Equal(t, isoKey, req.Header.Get(signing.HeaderID))
		var body struct {
			Data map[string]string `json:"data"`
		}
		require.NoError(t, json.Unmarshal(req.Body, &body))
		require.Equal(t, apps[i], body.Data["app"], "each application gets its own event")
	}
	time.Sleep(2 * time.Second) // a cross-delivery would have arrived by now
	for i, r := range appReceivers {
		require.Equal(t, 1, r.Count(), "application %s got its event once", apps[i])
	}
	for _, r := range receivers {
		for _, req := range r.Requests() {
			require.NotEqual(t, isoKey, req.Header.Get(signing.HeaderID), "default's receivers get no application's event")
		}
	}
	t.Logf("applications: %s and %s each got only their own event under key %s, through both APIs", apps[0], apps[1], isoKey)

	// The killed worker's slots came back by themselves: by its attempts
	// running again elsewhere (same attempt, same lease) or at the latest
	// when their leases ended, flightLease after they were taken. Then no
	// slot is leased, and the capped receiver has cappedSlots requests
	// open at once again.
	require.Eventually(t, func() bool { return slotsBack.Load() != 0 },
		max(time.Until(killedAt.Add(flightLease+15*time.Second)), time.Second), 100*time.Millisecond,
		"the slots leased when the worker was killed were not free within the lease (%s) and a margin", flightLease)
	back := time.Duration(slotsBack.Load())
	require.LessOrEqual(t, back, flightLease+15*time.Second)
	var leased int
	require.NoError(t, flights.QueryRowContext(ctx, `SELECT COUNT(*) FROM flight_leases WHERE subscription_id = $1 AND expires_at > $2`,
		cappedSub.ID, time.Now().UnixMicro()).Scan(&leased))
	require.Zero(t, leased, "live max_in_flight leases of the idle capped subscription")
	capped.resetPeak()
	afterStart := time.Now()
	for i := range cappedAfter {
		require.Equal(t, http.StatusAccepted, clients[i%apis].Do(t, http.MethodPost, "/v1/events",
			map[string]any{"type": "capped.after", "data": map[string]any{"n": i}}, nil, "Idempotency-Key", fmt.Sprintf("capped-%s-%02d", suffix, i)))
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, cappedAfter, capped.distinct("capped.after"))
	}, 2*time.Minute, 100*time.Millisecond)
	afterTook := time.Since(afterStart)
	require.Equal(t, cappedSlots, capped.peak(), "the cap is full again: %d requests open at once", cappedSlots)
	t.Logf("capped subscription: every slot leased at the SIGKILL free again %s after it; then %d more events in %s, %d at once",
		back.Round(time.Millisecond), cappedAfter, afterTook.Round(time.Millisecond), capped.peak())

	fmt.Printf("cluster: %d events x %d subscribers = %d deliveries through %d API and %d worker processes on Temporal %s over PostgreSQL; "+
		"%s SIGKILLed when %d deliveries had arrived (%s after the first post): all %d arrived and verified, %d arrived twice (%d requests in all); "+
		"posting took %s, the last delivery arrived %s after the first post; whole test %s\n",
		events, subscribers, want, apis, workers, serverVersion,
		work[killed].name, arrivedAtKill, killedAfter.Round(time.Millisecond), unique, twice, requests,
		postTook.Round(time.Millisecond), allArrived.Round(time.Millisecond), since(began))
	fmt.Printf("cluster: max_in_flight %d across %d workers: %d events to a receiver taking %s arrived %s after the first post, never more than %d at once; "+
		"%s died holding %d of the slots, all free again %s after the SIGKILL (lease %s), then %d at once again\n",
		cappedSlots, workers, events, cappedDelay, cappedDone.Round(time.Millisecond), cappedSlots,
		work[killed].name, slotsOfKilled, back.Round(time.Millisecond), flightLease, cappedSlots)
}

// cappedReceiver is the capped subscription's receiver: it takes
// cappedDelay a request and knows which requests are open and from where.
type cappedReceiver struct {
	*testenv.Receiver
	mu   sync.Mutex
	open map[int]string // request number → the sender's address
	most int
}

func newCappedReceiver(t *testing.T) *cappedReceiver {
	c := &cappedReceiver{Receiver: testenv.NewReceiver(t), open: map[int]string{}}
	c.Respond = func(n int, w http.ResponseWriter) {
		from := c.Nth(n).RemoteAddr
		c.mu.Lock()
		c.open[n] = from
		c.most = max(c.most, len(c.open))
		c.mu.Unlock()
		time.Sleep(cappedDelay)
		c.mu.Lock()
		delete(c.open, n)
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
	return c
}

// peak is the most requests open at once since the start or resetPeak.
func (c *cappedReceiver) peak() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.most
}

func (c *cappedReceiver) resetPeak() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.most = len(c.open)
}

// distinct counts the events of type typ that arrived, signed right.
func (c *cappedReceiver) distinct(typ string) int {
	seen := map[string]bool{}
	for _, req := range c.Requests() {
		var body struct {
			Type string `json:"type"`
		}
		if req.VerifyErr == nil && json.Unmarshal(req.Body, &body) == nil && body.Type == typ {
			seen[req.Header.Get(signing.HeaderID)] = true
		}
	}
	return len(seen)
}

// openFrom counts the requests open right now that process pid sent: the
// senders' ports that are local ports of pid's TCP sockets.
func (c *cappedReceiver) openFrom(pid int) int {
	c.mu.Lock()
	var ports []string
	for _, addr := range c.open {
		if _, port, err := net.SplitHostPort(addr); err == nil {
			ports = append(ports, port)
		}
	}
	c.mu.Unlock()
	if len(ports) == 0 {
		return 0
	}
	mine := tcpPorts(pid)
	n := 0
	for _, p := range ports {
		if mine[p] {
			n++
		}
	}
	return n
}

// tcpPorts returns the local ports (decimal) of process pid's TCP sockets,
// from /proc: the socket inodes among its open files, looked up in its
// network namespace's socket tables.
func tcpPorts(pid int) map[string]bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil // it has just exited
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	ports := map[string]bool{}
	for _, table := range []string{"tcp", "tcp6"} {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			_, hexPort, ok := strings.Cut(f[1], ":")
			if port, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil {
				ports[strconv.FormatUint(port, 10)] = true
			}
		}
	}
	return ports
}

// watchSlots notes in back how long after killedAt every max_in_flight
// slot of the subscription leased at killedAt was free: its lease released
// (by the attempt that held it, or by the same attempt run again by
// another worker after the holder died) or ended.
func watchSlots(ctx context.Context, t *testing.T, db *sql.DB, subscriptionID string, killedAt time.Time, back *atomic.Int64) {
	rows, err := db.QueryContext(ctx, `SELECT holder FROM flight_leases WHERE subscription_id = $1 AND expires_at > $2`,
		subscriptionID, killedAt.UnixMicro())
	if err != nil {
		t.Errorf("read the leases at the SIGKILL: %v", err)
		return
	}
	var holders []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Errorf("read the leases at the SIGKILL: %v", err)
		}
		holders = append(holders, h)
	}
	_ = rows.Close()
	t.Logf("max_in_flight leases of the capped subscription at the SIGKILL: %v", holders)
	go func() {
		for ctx.Err() == nil {
			live := 0
			for _, h := range holders {
				var n int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM flight_leases WHERE subscription_id = $1 AND holder = $2 AND expires_at > $3`,
					subscriptionID, h, time.Now().UnixMicro()).Scan(&n); err != nil {
					n = 1 // not known to be free
				}
				live += n
			}
			if live == 0 {
				back.Store(int64(max(time.Since(killedAt), time.Nanosecond)))
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

func openDB(t *testing.T, url string) *sql.DB {
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// serverVersion is the Temporal release scripts/cluster/start-temporal.sh installs.
const serverVersion = "1.29.1"

// deadline leaves the test time to stop what it started before `go test
// -timeout` would kill it with everything still running.
func deadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-2 * time.Minute)
	}
	return time.Now().Add(40 * time.Minute)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }

func randomHex(t *testing.T) string {
	b := make([]byte, 5)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// post sends event i through the API at base, retrying what a loaded
// cluster may answer (the same Idempotency-Key makes a retry safe).
func post(ctx context.Context, base, id string, i int) error {
	body := fmt.Sprintf(`{"type":"cluster.tick","data":{"n":%d}}`, i)
	var last string
	for try := 1; try <= 5; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/events", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", id)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			answer, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, answer)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try) * 500 * time.Millisecond):
		}
	}
	return fmt.Errorf("post %s: %s", id, last)
}

// scrape returns the value of the first series in addr's /metrics whose
// line starts with series.
func scrape(t *testing.T, addr, series string) float64 {
	t.Helper()
	v, err := metricValue(addr, series)
	require.NoError(t, err)
	return v
}

func metricValue(addr, series string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, series) {
			continue
		}
		fields := strings.Fields(line)
		return strconv.ParseFloat(fields[len(fields)-1], 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no series %s in the metrics of %s", series, addr)
}

// postgres is the server the databases are created on.
type postgres struct {
	base  *url.URL
	admin *sql.DB
}

func newPostgres(t *testing.T, base string) *postgres {
	u, err := url.Parse(base)
	require.NoError(t, err)
	db, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, db.PingContext(ctx), "PostgreSQL is not reachable at %s; start it or set HOOKFLOW_TEST_POSTGRES_URL", base)
	return &postgres{base: u, admin: db}
}

func (p *postgres) create(t *testing.T, name string) {
	p.dropAtEnd(t, name)
	_, err := p.admin.ExecContext(t.Context(), "CREATE DATABASE "+name)
	require.NoError(t, err)
}

// dropAtEnd drops the databases when the test ends, after everything
// started later has stopped (cleanups run last first).
func (p *postgres) dropAtEnd(t *testing.T, names ...string) {
	t.Cleanup(func() {
		for _, name := range names {
			_, err := p.admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			assert.NoError(t, err, "drop database %s", name)
		}
	})
}

func (p *postgres) urlOf(t *testing.T, db string) string {
	u := *p.base
	u.Path = "/" + db
	return u.String()
}

// freePortBlock finds n consecutive free ports on 127.0.0.1, all below
// 32768: Temporal keeps its membership ports in a PostgreSQL smallint, and
// a server on a higher port dies at start ("out of range for type
// smallint").
func freePortBlock(t *testing.T, n int) int {
	const low, high = 20000, 32767
	for range 100 {
		base := low + mathrand.IntN(high-low-n)
		free := true
		for p := base; p < base+n && free; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			_ = l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no block of free ports")
	return 0
}

// startTemporal runs scripts/cluster/start-temporal.sh (installing the
// server the first time), waits for its ready line and stops it when the
// test ends. It returns the frontend's address.
func startTemporal(ctx context.Context, t *testing.T, root string, pg *postgres, db, visibilityDB string) string {
	port := freePortBlock(t, 10)
	password, _ := pg.base.User.Password()
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "cluster", "start-temporal.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HOOKFLOW_CLUSTER_PORT="+strconv.Itoa(port),
		"HOOKFLOW_CLUSTER_PG_HOST="+pg.base.Hostname(),
		"HOOKFLOW_CLUSTER_PG_PORT="+cmp.Or(pg.base.Port(), "5432"),
		"HOOKFLOW_CLUSTER_PG_USER="+pg.base.User.Username(),
		"HOOKFLOW_CLUSTER_PG_PASSWORD="+password,
		"HOOKFLOW_CLUSTER_DB="+db,
		"HOOKFLOW_CLUSTER_VISIBILITY_DB="+visibilityDB,
		"HOOKFLOW_CLUSTER_RESET=1",
	)
	// Its own process group, so that the script and the server go
	// together; SIGTERM to the script (its trap stops the server) if this
	// test process dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = &lineLogger{t: t, prefix: "temporal: "}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logFile := filepath.Join(root, ".hookflow", "cluster", fmt.Sprintf("temporal-%d.log", port))
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		kill := time.AfterFunc(60*time.Second, func() {
			t.Errorf("Temporal did not stop within 60s of SIGTERM: killing it")
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		})
		defer kill.Stop()
		err := <-exited
		_ = err // the exit status of a server stopped on purpose says nothing
		if t.Failed() {
			t.Logf("the Temporal server's log: %s", logFile)
		} else {
			_ = os.Remove(logFile)
		}
	})

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "temporal-cluster: ready "); ok {
				ready <- addr
			}
		}
	}()
	select {
	case addr := <-ready:
		return addr
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("start-temporal.sh exited before the cluster was ready: %v (log: %s)", err, logFile)
	case <-ctx.Done():
		t.Fatalf("Temporal was not ready in time (log: %s)", logFile)
	}
	return ""
}

func buildHookflow(ctx context.Context, t *testing.T, root string) string {
	bin := filepath.Join(t.TempDir(), "hookflow")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hookflow")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// process is one hookflow process; its JSON logs go to a file.
type process struct {
	name        string
	cmd         *exec.Cmd
	logPath     string
	exited      chan struct{}
	waitErr     error
	mode        string
	apiAddr     string
	metricsAddr string
	listening   chan map[string]string // "API listening" and "metrics listening" lines
	killed      atomic.Bool
}

func startHookflow(ctx context.Context, t *testing.T, bin, logs, name, mode string, env []string) *process {
	p := &process{name: name, mode: mode, logPath: filepath.Join(logs, name+".log"),
		exited: make(chan struct{}), listening: make(chan map[string]string, 2)}
	p.cmd = exec.Command(bin, mode)
	p.cmd.Env = append(withoutHookflowVars(os.Environ()), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logFile, err := os.Create(p.logPath)
	require.NoError(t, err)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = logFile.Write(append(line, '\n'))
			var rec map[string]any
			if json.Unmarshal(line, &rec) == nil {
				if msg, _ := rec["msg"].(string); msg == "API listening" || msg == "metrics listening" {
					addr, _ := rec["addr"].(string)
					p.listening <- map[string]string{msg: addr}
				}
			}
		}
	}()
	go func() {
		<-copied
		p.waitErr = p.cmd.Wait()
		_ = logFile.Close()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// withoutHookflowVars keeps the runner's own HOOKFLOW_* settings (an API
// key, say) out of the processes.
func withoutHookflowVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOOKFLOW_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitListening waits for the process's listeners: the API's (not for a
// worker) and the metrics'.
func (p *process) waitListening(ctx context.Context, t *testing.T) {
	timeout := time.NewTimer(3 * time.Minute)
	defer timeout.Stop()
	for p.metricsAddr == "" || (p.mode == "api" && p.apiAddr == "") {
		select {
		case l := <-p.listening:
			if addr, ok := l["API listening"]; ok {
				p.apiAddr = addr
			}
			if addr, ok := l["metrics listening"]; ok {
				p.metricsAddr = addr
			}
		case <-p.exited:
			t.Fatalf("%s exited at start (%v):\n%s", p.name, p.waitErr, tail(p.logPath, 30))
		case <-timeout.C:
			t.Fatalf("%s did not start listening within 3 minutes:\n%s", p.name, tail(p.logPath, 30))
		case <-ctx.Done():
			t.Fatalf("%s did not start listening in time", p.name)
		}
	}
}

func (p *process) kill(t *testing.T) {
	p.killed.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("SIGKILL %s: %v", p.name, err)
	}
}

// stop ends the process with SIGTERM (a clean shutdown), or SIGKILL if it
// lingers, and shows the end of its log if the test failed.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if !p.killed.Load() && p.waitErr != nil {
				t.Errorf("%s stopped with %v", p.name, p.waitErr)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s of SIGTERM: killing it", p.name)
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	if t.Failed() {
		t.Logf("the end of %s's log (%s):\n%s", p.name, p.logPath, tail(p.logPath, 20))
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// lineLogger writes each line to the test log.
type lineLogger struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		l.t.Log(l.prefix + string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}
