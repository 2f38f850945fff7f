// Package bench measures Hookflow end to end: it starts a Temporal dev
// server with the settings `make run` uses (or uses an existing cluster), a
// fast local receiver and `hookflow serve` as a child process, posts events
// through the public API, and reports throughput, latencies, history events
// per delivery and the CPU and memory every delivery costs. `make bench`
// runs it through cmd/hookflow-bench.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/log"

	"github.com/hookflow/hookflow/ids"
)

var quiet = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// Scenario kinds.
const (
	// KindIdle posts one event at a time to one subscriber and waits for
	// its delivery before the next: latency on an idle system.
	KindIdle = "idle"
	// KindBurst posts every event at once through a pool of producers.
	KindBurst = "burst"
	// KindSteady posts events at a fixed rate, whatever the answers take.
	KindSteady = "steady"
	// KindBaseline sends the same signed POSTs to the receiver straight
	// from a goroutine pool: what the machine does without Hookflow.
	KindBaseline = "baseline"
	// KindRecover writes Events failed deliveries of one subscription
	// straight into the database (an outage that is over), then makes one
	// recover call and measures until every one has arrived again.
	KindRecover = "recover"
	// KindRate posts every event at once to one subscription with a
	// rate_limit: does the receiver see the rate, and what does waiting
	// for a turn cost in attempts and history events.
	KindRate = "rate"
	// KindFairness gives one application a backlog of Events queued behind
	// a slow receiver and a worker with few delivery slots, then posts one
	// event to another application: how long it waits, and how much of
	// the first one's backlog it passed.
	KindFairness = "fairness"
)

// Scenario is one measured run.
type Scenario struct {
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	Events      int           `json:"events"`
	Subscribers int           `json:"subscribers"`
	Rate        float64       `json:"rate,omitempty"`     // events per second (steady)
	Duration    time.Duration `json:"duration,omitempty"` // how long (steady)
	// RateLimit is the subscription's rate_limit (rate).
	RateLimit float64 `json:"rate_limit,omitempty"`
	// Slots is HOOKFLOW_DELIVERY_SLOTS when set (fairness).
	Slots int `json:"delivery_slots,omitempty"`
	// ReceiverDelay is how long the receiver takes for each request of
	// the busy application (fairness).
	ReceiverDelay time.Duration `json:"receiver_delay,omitempty"`
}

// Deliveries is how many deliveries the scenario makes: for fairness, the
// backlog and the quiet application's one.
func (s Scenario) Deliveries() int {
	if s.Kind == KindFairness {
		return s.Events*s.Subscribers + 1
	}
	return s.Events * s.Subscribers
}

// Scenarios returns the scenarios; quick shrinks them for a smoke
// run of a minute or two.
func Scenarios(quick bool) []Scenario {
	if quick {
		return []Scenario{
			{Name: "idle-1x1", Kind: KindIdle, Events: 10, Subscribers: 1},
			{Name: "400x1", Kind: KindBurst, Events: 400, Subscribers: 1},
			{Name: "100x10", Kind: KindBurst, Events: 100, Subscribers: 10},
			{Name: "1x2500", Kind: KindBurst, Events: 1, Subscribers: 2500},
			{Name: "steady-5x5-15s", Kind: KindSteady, Events: 75, Subscribers: 5, Rate: 5, Duration: 15 * time.Second},
			{Name: "steady-20x5-15s", Kind: KindSteady, Events: 300, Subscribers: 5, Rate: 20, Duration: 15 * time.Second},
			{Name: "baseline", Kind: KindBaseline, Events: 1000, Subscribers: 1},
			{Name: "recover-1000", Kind: KindRecover, Events: 1000, Subscribers: 1},
			{Name: "resume-1000", Kind: KindResume, Events: 1000, Subscribers: 1},
			{Name: "rate-20-200", Kind: KindRate, Events: 200, Subscribers: 1, RateLimit: 20},
			{Name: "fairness-300", Kind: KindFairness, Events: 300, Subscribers: 1, Slots: fairnessSlots, ReceiverDelay: fairnessDelay},
		}
	}
	return []Scenario{
		{Name: "idle-1x1", Kind: KindIdle, Events: 30, Subscribers: 1},
		{Name: "2000x1", Kind: KindBurst, Events: 2000, Subscribers: 1},
		{Name: "500x10", Kind: KindBurst, Events: 500, Subscribers: 10},
		{Name: "1x10000", Kind: KindBurst, Events: 1, Subscribers: 10000},
		// Below what this machine sustains, then the 100 deliveries/s.
		{Name: "steady-5x5-60s", Kind: KindSteady, Events: 300, Subscribers: 5, Rate: 5, Duration: time.Minute},
		{Name: "steady-20x5-60s", Kind: KindSteady, Events: 1200, Subscribers: 5, Rate: 20, Duration: time.Minute},
		{Name: "baseline", Kind: KindBaseline, Events: 5000, Subscribers: 1},
		{Name: "recover-10000", Kind: KindRecover, Events: 10000, Subscribers: 1},
		{Name: "resume-5000", Kind: KindResume, Events: 5000, Subscribers: 1},
		{Name: "rate-20-600", Kind: KindRate, Events: 600, Subscribers: 1, RateLimit: 20},
		// The fairness test: 800 queued, one posted right after.
		{Name: "fairness-800", Kind: KindFairness, Events: 800, Subscribers: 1, Slots: fairnessSlots, ReceiverDelay: fairnessDelay},
	}
}

// Options configure a bench run.
type Options struct {
	// Hookflow is the hookflow binary to run as `hookflow serve`.
	Hookflow string
	// TemporalAddress, when set, is an existing Temporal frontend to use
	// instead of starting a dev server per scenario.
	TemporalAddress string
	Namespace       string
	// DevServerArgs are added to the dev server's command line, after
	// testenv.DevServerArgs: for trying other settings.
	DevServerArgs []string
	// DatabaseURL, when set, is Hookflow's database; otherwise each
	// scenario gets a fresh SQLite file.
	DatabaseURL string
	// Producers is how many clients post events at once in a burst.
	Producers int
	// PayloadBytes pads each event's data to about this size.
	PayloadBytes int
	// Stall ends a scenario that made no delivery for this long.
	Stall time.Duration
	// Timeout bounds one scenario.
	Timeout time.Duration
	// WorkDir holds the databases and logs; empty: a temporary folder.
	WorkDir string
	// Progress receives one line per step; nil: silent.
	Progress io.Writer
	// ProgressEvery is how often a line says how many deliveries arrived
	// while a scenario waits for them, so that a long run does not look
	// hung. Defaults to 5 seconds.
	ProgressEvery time.Duration
}

// Report is everything one bench run measured.
type Report struct {
	StartedAt time.Time `json:"started_at"`
	Machine   Machine   `json:"machine"`
	Temporal  string    `json:"temporal"`
	Database  string    `json:"database"`
	Results   []Result  `json:"results"`
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	LoadAvg   string `json:"load_average"`
}

// Result is one scenario's numbers. Durations are in milliseconds or
// seconds, as their names say, so that the JSON reads without units.
type Result struct {
	Scenario Scenario `json:"scenario"`
	// Binary is "base" or "head" in a comparison (see Compare), empty in
	// a plain run.
	Binary string `json:"binary,omitempty"`
	Error  string `json:"error,omitempty"`

	Delivered        int     `json:"delivered"`
	Requests         int     `json:"requests"` // every request the receiver got, repeats included
	ElapsedSec       float64 `json:"elapsed_s"`
	DeliveriesPerSec float64 `json:"deliveries_per_s"`

	AcceptP50Ms       float64 `json:"accept_p50_ms"`
	AcceptP99Ms       float64 `json:"accept_p99_ms"`
	FirstAttemptP50Ms float64 `json:"first_attempt_p50_ms"`
	FirstAttemptP99Ms float64 `json:"first_attempt_p99_ms"`
	LastDeliverySec   float64 `json:"last_delivery_s"`

	HistoryEvents     int     `json:"history_events"`
	EventsPerDelivery float64 `json:"history_events_per_delivery"`
	EventRuns         int     `json:"event_workflow_runs"`
	// EventRunEvents is the history events of every event workflow run
	// alone, so that the per-delivery figure splits into the fan-out's
	// share and the deliveries'.
	EventRunEvents int `json:"event_run_events"`
	// EventRunEventTypes counts the events of the event runs read event
	// by event (HistoriesChecked), by type.
	EventRunEventTypes   map[string]int `json:"event_run_event_types,omitempty"`
	MaxEventRunEvents    int64          `json:"max_event_run_events"`
	MaxEventRunBytes     int64          `json:"max_event_run_bytes"`
	WorkflowTaskFailures int            `json:"workflow_task_failures"`
	HistoriesChecked     int            `json:"histories_checked"`
	// FailureCauses counts the failed or timed-out workflow tasks and
	// failed child starts of the histories read, by cause.
	FailureCauses map[string]int `json:"failure_causes,omitempty"`

	HookflowCPUSec    float64 `json:"hookflow_cpu_s"`
	HookflowCPUPer1k  float64 `json:"hookflow_cpu_s_per_1k"`
	HookflowPeakRSSMB float64 `json:"hookflow_peak_rss_mb"`
	TemporalCPUSec    float64 `json:"temporal_cpu_s"`
	TemporalCPUPer1k  float64 `json:"temporal_cpu_s_per_1k"`
	TemporalPeakRSSMB float64 `json:"temporal_peak_rss_mb"`
	BenchCPUSec       float64 `json:"bench_cpu_s"` // receiver and producers
	// CPUMsPerDelivery is Hookflow's and Temporal's CPU per delivery (the
	// bench's own receiver and producers excluded; for the baseline, the
	// bench's CPU, since it does the sending).
	CPUMsPerDelivery float64 `json:"cpu_ms_per_delivery"`

	PersistencePerDelivery float64 `json:"persistence_requests_per_delivery"`
	// PersistenceSeconds is how long the server's persistence requests
	// took in all; the dev server's SQLite has one connection, so past the
	// scenario's elapsed time the database is the bottleneck.
	PersistenceSeconds float64 `json:"persistence_seconds,omitempty"`
	// PersistenceByOp is persistence requests per delivery by operation.
	PersistenceByOp map[string]float64 `json:"persistence_requests_per_delivery_by_op,omitempty"`
	// PersistenceMsByOp is persistence time per delivery by operation.
	PersistenceMsByOp   map[string]float64 `json:"persistence_ms_per_delivery_by_op,omitempty"`
	EagerWorkflowStarts float64            `json:"eager_workflow_starts"`
	EagerWorkflowDenied float64            `json:"eager_workflow_denied"`
	EagerActivities     float64            `json:"eager_activities"`

	// RecoveryRuns and RecoveryEvents are the runs of the recovery
	// workflow (recover scenario) and their history events in all;
	// RecoveryEventsPerResend divides those by the deliveries resent.
	RecoveryRuns            int     `json:"recovery_runs,omitempty"`
	RecoveryEvents          int     `json:"recovery_history_events,omitempty"`
	RecoveryEventsPerResend float64 `json:"recovery_history_events_per_resend,omitempty"`

	// AttemptsPerDelivery is the attempts the store logged (sent or not)
	// per delivery (rate, fairness).
	AttemptsPerDelivery float64 `json:"attempts_per_delivery,omitempty"`
	// MaxPerSec is the most requests the receiver got in any one second,
	// MeanPerSec the requests less one over the time from the first to
	// the last (rate).
	MaxPerSec  int     `json:"max_requests_per_s,omitempty"`
	MeanPerSec float64 `json:"mean_requests_per_s,omitempty"`
	// QuietLagMs is from posting the quiet application's event to its
	// arrival; BacklogAtPost and BacklogQueued are the busy application's
	// deliveries not yet arrived when it was posted and when it arrived
	// (fairness).
	QuietLagMs    float64 `json:"quiet_lag_ms,omitempty"`
	BacklogAtPost int     `json:"backlog_queued_at_quiet_post,omitempty"`
	BacklogQueued int     `json:"backlog_queued_at_quiet_arrival,omitempty"`

	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
}

// Run runs the scenarios one after the other, each on fresh processes.
func Run(ctx context.Context, opts Options, scenarios []Scenario) (Report, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Producers <= 0 {
		opts.Producers = 16
	}
	if opts.Stall <= 0 {
		opts.Stall = 2 * time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Minute
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 5 * time.Second
	}
	if opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "hookflow-bench-")
		if err != nil {
			return Report{}, err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		opts.WorkDir = dir
	}
	if _, err := os.Stat(opts.Hookflow); err != nil && needsHookflow(scenarios) {
		return Report{}, fmt.Errorf("hookflow binary: %w (run `make build` first)", err)
	}
	rep := Report{StartedAt: time.Now().UTC(), Machine: machine(), Temporal: "dev server per scenario (testenv.DevServerArgs)", Database: "SQLite per scenario"}
	if opts.TemporalAddress != "" {
		rep.Temporal = opts.TemporalAddress + " namespace " + opts.Namespace
	}
	if opts.DatabaseURL != "" {
		rep.Database = redactURL(opts.DatabaseURL)
	}
	b := &bench{opts: opts, tag: strings.ToLower(ids.NewEvent()[4:])}
	for _, sc := range scenarios {
		b.progress("scenario %s: %s", sc.Name, describe(sc))
		res := b.run(ctx, sc)
		if res.Error != "" {
			b.progress("scenario %s: %s", sc.Name, res.Error)
		} else {
			b.progress("scenario %s: %d deliveries, %.1f/s", sc.Name, res.Delivered, res.DeliveriesPerSec)
		}
		rep.Results = append(rep.Results, res)
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
	}
	return rep, nil
}

// Compare runs each scenario with the base binary, then at once with
// opts.Hookflow, so that a change is measured against the commit before it
// under the same load on the same machine: run apart, two runs on this kind
// of machine differ by more than most changes do. The baseline scenario,
// which runs no Hookflow, runs once.
func Compare(ctx context.Context, opts Options, base string, scenarios []Scenario) (Report, error) {
	var rep Report
	for _, sc := range scenarios {
		runs := []struct{ label, binary string }{{"base", base}, {"head", opts.Hookflow}}
		if sc.Kind == KindBaseline {
			runs = runs[1:]
		}
		for _, r := range runs {
			o := opts
			o.Hookflow = r.binary
			part, err := Run(ctx, o, []Scenario{sc})
			if rep.StartedAt.IsZero() {
				rep = part
				rep.Results = nil
			}
			for i := range part.Results {
				part.Results[i].Binary = r.label
			}
			rep.Results = append(rep.Results, part.Results...)
			if err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

func needsHookflow(scenarios []Scenario) bool {
	for _, s := range scenarios {
		if s.Kind != KindBaseline {
			return true
		}
	}
	return false
}

func describe(s Scenario) string {
	switch s.Kind {
	case KindIdle:
		return fmt.Sprintf("%d events one at a time to 1 subscriber", s.Events)
	case KindSteady:
		return fmt.Sprintf("%.0f events/s x %d subscribers for %s", s.Rate, s.Subscribers, s.Duration)
	case KindBaseline:
		return fmt.Sprintf("%d signed POSTs from a goroutine pool, no Hookflow", s.Events)
	case KindRecover:
		return fmt.Sprintf("%d failed deliveries of 1 subscriber recovered by one recover call", s.Events)
	case KindResume:
		return fmt.Sprintf("%d events x %d subscribers held by a pause, then resumed (clock from the resume)", s.Events, s.Subscribers)
	case KindRate:
		return fmt.Sprintf("%d events at once to 1 subscriber with rate_limit %g", s.Events, s.RateLimit)
	case KindFairness:
		return fmt.Sprintf("%d events queued for one application (receiver %s a request, %d delivery slots), then 1 for another", s.Events, s.ReceiverDelay, s.Slots)
	}
	return fmt.Sprintf("%d events x %d subscribers at once", s.Events, s.Subscribers)
}

type bench struct {
	opts Options
	tag  string // makes event types and task queues unique per bench run
}

func (b *bench) progress(format string, args ...any) {
	if b.opts.Progress != nil {
		fmt.Fprintf(b.opts.Progress, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), LoadAvg: loadAvg()}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// loadAvg is the 1, 5 and 15 minute load averages, as uptime prints them.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}

// sanitize turns a scenario name into an event-type word.
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

func scenarioDir(root string, sc Scenario) (string, error) {
	dir := filepath.Join(root, sanitize(sc.Name))
	return dir, os.MkdirAll(dir, 0o750)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func itoa(i int) string { return strconv.Itoa(i) }
