package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/signing"
	"github.com/hookflow/hookflow/store"
)

// post is one event the bench posted.
type post struct {
	id       string
	sent     time.Time
	accepted time.Time
	err      error
}

func (b *bench) run(ctx context.Context, sc Scenario) (res Result) {
	res = Result{Scenario: sc, LoadBefore: loadAvg()}
	defer func() { res.LoadAfter = loadAvg() }()
	ctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	defer cancel()
	fail := func(err error) Result {
		res.Error = err.Error()
		return res
	}
	dir, err := scenarioDir(b.opts.WorkDir, sc)
	if err != nil {
		return fail(err)
	}
	recv, err := startReceiver()
	if err != nil {
		return fail(err)
	}
	defer recv.close()
	if sc.Kind == KindBaseline {
		return b.baseline(ctx, sc, recv, res)
	}

	address := b.opts.TemporalAddress
	var tp *testenv.DevServerProcess
	if address == "" {
		b.progress("  starting the Temporal dev server")
		if tp, err = testenv.StartDevServerProcess(ctx, dir, b.opts.DevServerArgs...); err != nil {
			return fail(err)
		}
		defer func() { _ = tp.Stop() }()
		address = tp.Address
	}
	tc, err := client.DialContext(ctx, client.Options{HostPort: address, Namespace: b.opts.Namespace, Logger: quiet})
	if err != nil {
		return fail(fmt.Errorf("connect to Temporal at %s: %w", address, err))
	}
	defer tc.Close()

	dbURL := b.opts.DatabaseURL
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(dir, "hookflow.db")
	}
	eventType := "bench." + sanitize(sc.Name) + "." + b.tag
	b.progress("  starting hookflow serve")
	env := []string{
		"HOOKFLOW_TEMPORAL_ADDRESS=" + address,
		"HOOKFLOW_TEMPORAL_NAMESPACE=" + b.opts.Namespace,
		"HOOKFLOW_TASK_QUEUE=bench-" + sanitize(sc.Name) + "-" + b.tag,
		"HOOKFLOW_DATABASE_URL=" + dbURL,
		"HOOKFLOW_ALLOW_PRIVATE_TARGETS=true",
		"HOOKFLOW_API_KEYS=",
	}
	if sc.Slots > 0 {
		env = append(env, "HOOKFLOW_DELIVERY_SLOTS="+itoa(sc.Slots))
	}
	hf, err := startHookflow(ctx, b.opts.Hookflow, env, filepath.Join(dir, "hookflow.log"))
	if err != nil {
		return fail(err)
	}
	defer hf.stop()

	var recoverSub string
	var subs []appSub // the subscriptions whose attempts are counted
	switch sc.Kind {
	case KindRecover:
		// After hookflow has migrated the database it runs on.
		b.progress("  writing %d failed deliveries", sc.Events)
		if recoverSub, err = createOutage(ctx, dbURL, eventType, sc.Events, recv); err != nil {
			return fail(err)
		}
	case KindRate:
		b.progress("  creating 1 subscription with rate_limit %g", sc.RateLimit)
		if subs, err = setupRate(ctx, hf.url, eventType, sc, recv); err != nil {
			return fail(err)
		}
	case KindFairness:
		b.progress("  creating applications %s and %s, one subscription each", busyApp, quietApp)
		if subs, err = setupFairness(ctx, hf.url, eventType, sc, recv); err != nil {
			return fail(err)
		}
	default:
		b.progress("  creating %d subscriptions", sc.Subscribers)
		if err := createSubscriptions(ctx, hf.url, eventType, sc.Subscribers, recv); err != nil {
			return fail(err)
		}
	}

	pr := newProducer(hf.url, b.opts.Producers, b.opts.PayloadBytes)
	// One event nobody subscribes to warms the connections and the worker's
	// pollers before the clock starts.
	if p := pr.post(ctx, "warmup-"+sanitize(sc.Name)+"-"+b.tag, "bench.warmup."+b.tag); p.err != nil {
		return fail(fmt.Errorf("warm-up post: %w", p.err))
	}

	before, err := b.snapshot(ctx, hf, tp)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	b.progress("  posting")
	var (
		posts    []post
		recovery string
	)
	switch sc.Kind {
	case KindRecover:
		recovery, err = pr.recover(ctx, recoverSub)
	case KindIdle:
		posts, err = b.postIdle(ctx, sc, pr, eventType, recv)
	case KindSteady:
		posts = b.postSteady(ctx, sc, pr, eventType)
	case KindResume:
		// The clock runs from the resume: what was held is what it measures.
		posts, start, err = b.holdAndResume(ctx, sc, pr, eventType)
	case KindFairness:
		posts, err = b.postFairness(ctx, sc, pr, eventType, recv, dbURL, &res)
	default:
		posts = b.postBurst(ctx, sc, pr, eventType)
	}
	if err == nil {
		err = errors.Join(postErrors(posts)...)
	}
	if err != nil {
		return fail(err)
	}

	b.progress("  waiting for %d deliveries", sc.Deliveries())
	waitErr := b.waitDeliveries(ctx, recv, sc.Deliveries())
	delivered, requests, last := recv.counts()
	res.Delivered, res.Requests = delivered, requests
	if !last.IsZero() {
		res.ElapsedSec = seconds(last.Sub(start))
		res.LastDeliverySec = res.ElapsedSec
		res.DeliveriesPerSec = float64(delivered) / res.ElapsedSec
	}
	if sc.Kind == KindResume {
		posts = nil // post to arrival includes the hold: no first-attempt latency
	}
	accept, first := latencies(posts, recv, sc.Subscribers)
	res.AcceptP50Ms, res.AcceptP99Ms = percentile(accept, 0.50), percentile(accept, 0.99)
	res.FirstAttemptP50Ms, res.FirstAttemptP99Ms = percentile(first, 0.50), percentile(first, 0.99)
	if waitErr != nil {
		res.Error = waitErr.Error()
	}

	b.progress("  waiting for every workflow to close")
	if recovery != "" {
		if err := pr.waitRecovery(ctx, recovery); err != nil && res.Error == "" {
			res.Error = err.Error()
		}
	}
	if err := waitClosed(ctx, tc, eventType, sc.Deliveries()); err != nil && res.Error == "" {
		res.Error = err.Error()
	}
	after, err := b.snapshot(ctx, hf, tp)
	if err != nil {
		return fail(err)
	}
	b.account(&res, before, after)

	b.progress("  counting history events")
	if err := countHistories(ctx, tc, eventType, &res); err != nil && res.Error == "" {
		res.Error = err.Error()
	}
	if recovery != "" {
		if err := countRecoveryHistories(ctx, tc, recoverSub, &res); err != nil && res.Error == "" {
			res.Error = err.Error()
		}
	}
	switch sc.Kind {
	case KindRate:
		res.MaxPerSec, res.MeanPerSec = rates(recv.requestTimes("0"))
	}
	if len(subs) > 0 {
		b.progress("  counting attempts")
		if err := countAttempts(ctx, pr, subs, &res); err != nil && res.Error == "" {
			res.Error = err.Error()
		}
	}
	if res.Error == "" && res.Requests != res.Delivered {
		res.Error = fmt.Sprintf("%d repeated requests: not every delivery succeeded first time", res.Requests-res.Delivered)
	}
	return res
}

// snapshot is the counters a scenario is measured between.
type snapshot struct {
	hookflow, temporal, self procStat
	metrics                  serverMetrics
}

func (b *bench) snapshot(ctx context.Context, hf *hookflowProc, tp *testenv.DevServerProcess) (snapshot, error) {
	var s snapshot
	var err error
	if s.hookflow, err = readProc(hf.pid()); err != nil {
		return s, fmt.Errorf("read hookflow's /proc: %w", err)
	}
	if s.self, err = readProc(os.Getpid()); err != nil {
		return s, err
	}
	if tp != nil {
		if s.temporal, err = readProc(tp.Pid()); err != nil {
			return s, fmt.Errorf("read the dev server's /proc: %w", err)
		}
		if s.metrics, err = scrapeMetrics(ctx, tp.MetricsURL); err != nil {
			return s, fmt.Errorf("read the dev server's metrics: %w", err)
		}
	}
	return s, nil
}

func (b *bench) account(res *Result, before, after snapshot) {
	n := float64(max(res.Delivered, 1))
	hfCPU := seconds(after.hookflow.CPU - before.hookflow.CPU)
	res.HookflowCPUSec, res.HookflowCPUPer1k = hfCPU, hfCPU/n*1000
	res.HookflowPeakRSSMB = float64(after.hookflow.PeakRSS) / (1 << 20)
	res.BenchCPUSec = seconds(after.self.CPU - before.self.CPU)
	total := hfCPU
	if after.temporal.CPU > 0 {
		tCPU := seconds(after.temporal.CPU - before.temporal.CPU)
		res.TemporalCPUSec, res.TemporalCPUPer1k = tCPU, tCPU/n*1000
		res.TemporalPeakRSSMB = float64(after.temporal.PeakRSS) / (1 << 20)
		total += tCPU
		m := after.metrics.sub(before.metrics)
		res.PersistencePerDelivery = m.PersistenceRequests / n
		res.PersistenceSeconds = m.PersistenceSeconds
		res.PersistenceByOp = map[string]float64{}
		for op, v := range m.PersistenceByOp {
			res.PersistenceByOp[op] = math.Round(v/n*100) / 100
		}
		res.PersistenceMsByOp = map[string]float64{}
		for op, v := range m.PersistenceSecondsByOp {
			res.PersistenceMsByOp[op] = math.Round(v/n*100000) / 100
		}
		res.EagerWorkflowStarts, res.EagerWorkflowDenied, res.EagerActivities = m.EagerWorkflowStarts, m.EagerWorkflowDenied, m.EagerActivities
	}
	res.CPUMsPerDelivery = total / n * 1000
}

// createSubscriptions subscribes n receiver URLs through the API, so that
// each binary of a comparison (Compare) writes its own schema: the commit
// before a change may not know the head's migrations.
func createSubscriptions(ctx context.Context, apiURL, eventType string, n int, recv *receiver) error {
	secret, err := signing.NewSecret()
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: time.Minute}
	work := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if _, err := createSubscription(ctx, hc, apiURL, "", map[string]any{
					"url": recv.url(itoa(i)), "event_types": []string{eventType}, "secret": secret,
				}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var sendErr error
	for i := range n {
		select {
		case work <- i:
		case sendErr = <-errs:
		}
		if sendErr != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return errors.Join(sendErr, <-errs)
}

// createSubscription creates a subscription in app (empty: the default
// application) and returns its id.
func createSubscription(ctx context.Context, hc *http.Client, apiURL, app string, body map[string]any) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	if err := postJSON(ctx, hc, apiURL+appPath(app)+"/subscriptions", body, &out); err != nil {
		return "", fmt.Errorf("create subscription: %w", err)
	}
	return out.ID, nil
}

// postJSON posts body to url, wants 201 Created, and decodes the answer
// into out.
func postJSON(ctx context.Context, hc *http.Client, url string, body map[string]any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

// appPath is the API's prefix for app's routes (empty: the default
// application's shorthand).
func appPath(app string) string {
	if app == "" {
		return "/v1"
	}
	return "/v1/applications/" + app
}

// producer posts events to the API.
type producer struct {
	url     string
	client  *http.Client
	workers int
	pad     string
}

func newProducer(url string, workers, payloadBytes int) *producer {
	return &producer{
		url:     url,
		workers: workers,
		client: &http.Client{
			Timeout:   time.Minute,
			Transport: &http.Transport{MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2, IdleConnTimeout: time.Minute},
		},
		pad: strings.Repeat("x", max(payloadBytes-40, 0)),
	}
}

func (p *producer) post(ctx context.Context, id, eventType string) post {
	return p.postIn(ctx, "", id, eventType)
}

// postIn posts an event to app (empty: the default application).
func (p *producer) postIn(ctx context.Context, app, id, eventType string) post {
	body, _ := json.Marshal(map[string]any{"type": eventType, "data": map[string]any{"bench": id, "pad": p.pad}})
	out := post{id: id, sent: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+appPath(app)+"/events", bytes.NewReader(body))
	if err != nil {
		out.err = err
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	resp, err := p.client.Do(req)
	if err != nil {
		out.err = err
		return out
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	out.accepted = time.Now()
	if resp.StatusCode != http.StatusAccepted {
		out.err = fmt.Errorf("POST /v1/events: %d %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	return out
}

func eventID(eventType string, i int) string {
	return strings.ReplaceAll(eventType, ".", "-") + "-" + itoa(i)
}

func (b *bench) postBurst(ctx context.Context, sc Scenario, p *producer, eventType string) []post {
	return b.postBurstIn(ctx, sc, p, "", eventType)
}

// postBurstIn posts the scenario's events to app at once.
func (b *bench) postBurstIn(ctx context.Context, sc Scenario, p *producer, app, eventType string) []post {
	posts := make([]post, sc.Events)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(p.workers, sc.Events) {
		wg.Go(func() {
			for i := range work {
				posts[i] = p.postIn(ctx, app, eventID(eventType, i), eventType)
			}
		})
	}
	for i := range sc.Events {
		work <- i
	}
	close(work)
	wg.Wait()
	return posts
}

// postSteady posts at a fixed rate, each post on its own goroutine, so that
// a slow answer delays no later post (an open loop, as real producers are).
func (b *bench) postSteady(ctx context.Context, sc Scenario, p *producer, eventType string) []post {
	posts := make([]post, sc.Events)
	interval := time.Duration(float64(time.Second) / sc.Rate)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range sc.Events {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() { posts[i] = p.post(ctx, eventID(eventType, i), eventType) })
	}
	wg.Wait()
	return posts
}

// postIdle posts one event, waits for its delivery, rests a moment, and
// posts the next.
func (b *bench) postIdle(ctx context.Context, sc Scenario, p *producer, eventType string, recv *receiver) ([]post, error) {
	posts := make([]post, 0, sc.Events)
	for i := range sc.Events {
		ps := p.post(ctx, eventID(eventType, i), eventType)
		posts = append(posts, ps)
		if ps.err != nil {
			return posts, ps.err
		}
		deadline := time.Now().Add(b.opts.Stall)
		for {
			if _, ok := recv.arrival("0", ps.id); ok {
				break
			}
			if time.Now().After(deadline) {
				return posts, fmt.Errorf("event %s was not delivered within %s", ps.id, b.opts.Stall)
			}
			select {
			case <-recv.notify:
			case <-time.After(5 * time.Millisecond):
			case <-ctx.Done():
				return posts, ctx.Err()
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return posts, nil
}

func postErrors(posts []post) []error {
	var errs []error
	for _, p := range posts {
		if p.err != nil {
			errs = append(errs, fmt.Errorf("event %s: %w", p.id, p.err))
			if len(errs) == 3 {
				break
			}
		}
	}
	return errs
}

// waitDeliveries waits until want distinct deliveries arrived, saying
// every ProgressEvery how many did; it gives up when none arrives for the
// stall time.
func (b *bench) waitDeliveries(ctx context.Context, recv *receiver, want int) error {
	start := time.Now()
	lastCount, lastChange, lastReport := -1, start, start
	for {
		n, _, _ := recv.counts()
		if n >= want {
			return nil
		}
		if n != lastCount {
			lastCount, lastChange = n, time.Now()
		}
		if since := time.Since(lastReport); since >= b.opts.ProgressEvery {
			lastReport = time.Now()
			b.progress("    delivered %d/%d (%.0f%%), %.0f/s so far, %s", n, want,
				100*float64(n)/float64(want), float64(n)/time.Since(start).Seconds(), time.Since(start).Round(time.Second))
		}
		if time.Since(lastChange) > b.opts.Stall {
			return fmt.Errorf("stalled: %d of %d deliveries, none for %s", n, want, b.opts.Stall)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d deliveries when the scenario timed out", n, want)
		case <-recv.notify:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// latencies returns the accept latency of every post and, for every
// delivery, the time from the producer sending the event to the receiver
// getting it, both in milliseconds.
func latencies(posts []post, recv *receiver, subscribers int) (accept, first []float64) {
	for _, p := range posts {
		if p.err != nil {
			continue
		}
		accept = append(accept, ms(p.accepted.Sub(p.sent)))
		for s := range subscribers {
			if at, ok := recv.arrival(itoa(s), p.id); ok {
				first = append(first, ms(at.Sub(p.sent)))
			}
		}
	}
	return accept, first
}

// percentile is the nearest-rank percentile q of values; 0 when empty.
func percentile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	rank := int(q*float64(len(s)) + 0.999999)
	return s[min(max(rank, 1), len(s))-1]
}

// baseline sends the same number of signed POSTs straight from a pool of
// goroutines: the ceiling of this machine's HTTP without any engine.
func (b *bench) baseline(ctx context.Context, sc Scenario, recv *receiver, res Result) Result {
	secret, err := signing.NewSecret()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	workers := 64
	c := &http.Client{Transport: &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers}}
	payload := bytes.Repeat([]byte("x"), max(b.opts.PayloadBytes, 64))
	before, err := readProc(os.Getpid())
	if err != nil {
		res.Error = err.Error()
		return res
	}
	start := time.Now()
	work := make(chan int)
	lat := make([][]float64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range work {
				sent := time.Now()
				id := "baseline-" + itoa(i)
				sig, err := signing.Sign([]string{secret}, id, sent, payload)
				if err == nil {
					err = sendOnce(ctx, c, recv.url(itoa(i)), id, sent, sig, payload)
				}
				if err != nil {
					errs[w] = err
					continue
				}
				lat[w] = append(lat[w], ms(time.Since(sent)))
			}
		})
	}
	for i := range sc.Events {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	after, err := readProc(os.Getpid())
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Delivered, res.Requests, _ = recv.counts()
	res.ElapsedSec, res.LastDeliverySec = seconds(elapsed), seconds(elapsed)
	res.DeliveriesPerSec = float64(res.Delivered) / seconds(elapsed)
	all := slices.Concat(lat...)
	res.FirstAttemptP50Ms, res.FirstAttemptP99Ms = percentile(all, 0.50), percentile(all, 0.99)
	res.BenchCPUSec = seconds(after.CPU - before.CPU)
	res.CPUMsPerDelivery = res.BenchCPUSec / float64(max(res.Delivered, 1)) * 1000
	res.HookflowPeakRSSMB = 0
	if err := errors.Join(errs...); err != nil {
		res.Error = err.Error()
	}
	return res
}

func sendOnce(ctx context.Context, c *http.Client, url, id string, now time.Time, sig string, payload []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signing.HeaderID, id)
	req.Header.Set(signing.HeaderTimestamp, itoa(int(now.Unix())))
	req.Header.Set(signing.HeaderSignature, sig)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}

// createOutage writes one subscription and n events of eventType whose
// only delivery to it failed, created over the last minute, straight into
// Hookflow's database: what an outage of the receiver leaves behind. It
// returns the subscription's id.
func createOutage(ctx context.Context, dbURL, eventType string, n int, recv *receiver) (string, error) {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer func() { _ = st.Close() }()
	secret, err := signing.NewSecret()
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	sub := store.Subscription{ApplicationID: store.DefaultApplication, ID: ids.NewSubscription(), URL: recv.url("0"),
		EventTypes: []string{eventType}, Secret: secret, Status: store.SubscriptionActive, CreatedAt: now.Add(-time.Hour), UpdatedAt: now}
	if err := st.CreateSubscription(ctx, sub); err != nil {
		return "", err
	}
	const batch = 500
	for from := 0; from < n; from += batch {
		ds := make([]store.Delivery, 0, batch)
		for i := from; i < min(from+batch, n); i++ {
			id := eventID(eventType, i)
			payload := `{"id":"` + id + `","type":"` + eventType + `","timestamp":"` + now.Format(time.RFC3339) + `","data":{}}`
			created := now.Add(-time.Minute + time.Duration(i)*time.Millisecond)
			if _, _, err := st.CreateEvent(ctx, store.Event{ApplicationID: store.DefaultApplication, ID: id, Type: eventType,
				Payload: []byte(payload), BodyHash: id, WorkflowID: ids.EventWorkflow(store.DefaultApplication, id), RunID: "outage", CreatedAt: created}); err != nil {
				return "", err
			}
			if err := st.MarkEventDispatched(ctx, store.DefaultApplication, id); err != nil {
				return "", err
			}
			did := ids.Delivery(id, sub.ID)
			ds = append(ds, store.Delivery{ID: did, ApplicationID: store.DefaultApplication, EventID: id, SubscriptionID: sub.ID, URL: sub.URL,
				Status: store.DeliveryFailed, Attempts: 1, WorkflowID: ids.DeliveryWorkflow(store.DefaultApplication, did), UpdatedAt: now})
		}
		if err := st.AddDeliveries(ctx, ds); err != nil {
			return "", err
		}
	}
	return sub.ID, nil
}

// recover asks for the recovery of the last two hours of subID and
// returns the recovery's id.
func (p *producer) recover(ctx context.Context, subID string) (string, error) {
	body, _ := json.Marshal(map[string]any{"since": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)})
	var out struct {
		ID string `json:"id"`
	}
	if err := p.call(ctx, http.MethodPost, "/v1/subscriptions/"+subID+"/recover", body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// waitRecovery waits until the recovery id has completed.
func (p *producer) waitRecovery(ctx context.Context, id string) error {
	for {
		var out struct {
			Status string `json:"status"`
			Resent int    `json:"resent"`
		}
		if err := p.call(ctx, http.MethodGet, "/v1/recoveries/"+id, nil, http.StatusOK, &out); err != nil {
			return err
		}
		switch out.Status {
		case "completed":
			return nil
		case "running":
		default:
			return fmt.Errorf("recovery %s ended %s after %d resends", id, out.Status, out.Resent)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("recovery %s still running when the scenario timed out", id)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (p *producer) call(ctx context.Context, method, path string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, p.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}
