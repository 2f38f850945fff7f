// Package metrics holds Hookflow's Prometheus collectors and the registry
// they live in, served at /metrics:
//
//	hookflow_http_requests_total{method,route,status}              API requests
//	hookflow_http_request_duration_seconds{method,route,status}    their latency
//	hookflow_events_accepted_total                                 events accepted (new ones, not repeats)
//	hookflow_outbox_pending_events                                 accepted events whose workflow has not started
//	hookflow_outbox_oldest_pending_age_seconds                     how long the oldest of them has waited
//	hookflow_outbox_starts_total{outcome}                          event workflow starts: started, failed
//	hookflow_deliveries_throttled{limit}                           attempts waiting for max_in_flight or rate_limit
//	hookflow_deliveries_total{outcome}                             deliveries that ended: succeeded, failed, cancelled
//	hookflow_delivery_attempts_total{outcome}                      webhook requests made: succeeded, failed
//	hookflow_delivery_attempt_duration_seconds{subscription}       their latency, per subscription (bounded, see Options)
//	temporal_*                                                     the Temporal SDK's client and worker metrics
//	go_*, process_*                                                the Go runtime and the process
//
// Every Metrics has a registry of its own, so that several Hookflow
// processes in one test binary never share a series. The methods that
// record are safe on a nil *Metrics, which records nothing.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Outcomes of a delivery and of one attempt, as label values.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
	// OutcomeStarted is an event workflow started (or found started).
	OutcomeStarted = "started"
)

// OtherSubscriptions is the subscription label of every subscription past
// Options.MaxSubscriptionLabels.
const OtherSubscriptions = "other"

// UnmatchedRoute is the route label of requests no route matched, so that
// scanners probing random paths cannot grow the series without end.
const UnmatchedRoute = "unmatched"

// DefaultMaxSubscriptionLabels is the default bound on distinct
// subscription label values per process.
const DefaultMaxSubscriptionLabels = 1000

// Options configure New.
type Options struct {
	// Registry receives every collector; nil makes a new one.
	Registry *prometheus.Registry
	// MaxSubscriptionLabels bounds how many subscriptions get series of
	// their own in the attempt latency histogram of one process; attempts
	// to the others are observed under subscription="other". Zero puts
	// every subscription there, which turns the per-subscription series off.
	MaxSubscriptionLabels int
	// Logger hears of errors the metrics pipeline meets; nil is slog.Default().
	Logger *slog.Logger
}

// Metrics is a process's collectors and registry.
type Metrics struct {
	registry *prometheus.Registry
	provider *sdkmetric.MeterProvider
	temporal client.MetricsHandler

	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	eventsAccepted  prometheus.Counter
	outboxPending   prometheus.Gauge
	outboxOldest    prometheus.Gauge
	held            prometheus.Gauge
	disabled        prometheus.Gauge
	outboxStarts    *prometheus.CounterVec
	throttled       *prometheus.GaugeVec
	deliveries      *prometheus.CounterVec
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec

	subsMu   sync.Mutex
	subs     map[string]struct{}
	maxSubs  int
	overflow bool
	log      *slog.Logger
}

// latencyBuckets (seconds) span a fast local request to a webhook that
// takes the whole default attempt timeout.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 60}

// New registers Hookflow's collectors, the Go and process collectors, and
// a bridge for the Temporal SDK's metrics in one registry.
func New(opts Options) (*Metrics, error) {
	if opts.MaxSubscriptionLabels < 0 {
		return nil, fmt.Errorf("metrics: MaxSubscriptionLabels must not be negative, got %d", opts.MaxSubscriptionLabels)
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		registry: reg,
		subs:     map[string]struct{}{},
		maxSubs:  opts.MaxSubscriptionLabels,
		log:      opts.Logger,
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookflow_http_requests_total",
		Help: "HTTP requests the API answered, by method, route template and status code.",
	}, []string{"method", "route", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookflow_http_request_duration_seconds",
		Help:    "Time the API took to answer, by method, route template and status code.",
		Buckets: latencyBuckets,
	}, []string{"method", "route", "status"})
	m.eventsAccepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hookflow_events_accepted_total",
		Help: "Events accepted (stored, to be started by the dispatcher); a repeated post of the same event is not counted again.",
	})
	m.outboxPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookflow_outbox_pending_events",
		Help: "Accepted events whose workflow has not been started yet, in the whole database, as this process's dispatcher last counted them.",
	})
	m.outboxOldest = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookflow_outbox_oldest_pending_age_seconds",
		Help: "How long the oldest accepted event whose workflow has not started has waited; 0 when none waits.",
	})
	m.held = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookflow_deliveries_held",
		Help: "Deliveries waiting, held, for their paused subscription to resume, in the whole database, as this process last counted them.",
	})
	m.disabled = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "hookflow_subscriptions_disabled",
		Help: "Subscriptions Hookflow disabled (failing for HOOKFLOW_DISABLE_AFTER, or a 410 Gone), in the whole database, as this process last counted them.",
	})
	m.throttled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "hookflow_deliveries_throttled",
		Help: "Attempts of this process waiting for a subscription's max_in_flight slot or rate_limit turn, by limit; sum over the workers for the whole.",
	}, []string{"limit"})
	m.outboxStarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookflow_outbox_starts_total",
		Help: "Event workflow starts this process's dispatcher tried, by outcome: started (or found started), failed (Temporal unreachable or refusing; the event is tried again).",
	}, []string{"outcome"})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookflow_deliveries_total",
		Help: "Deliveries whose workflow brought them to an end, by outcome (succeeded, failed, cancelled). A failed delivery retried later counts again when it ends again.",
	}, []string{"outcome"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookflow_delivery_attempts_total",
		Help: "Webhook requests made, by outcome: succeeded (2xx) or failed (any other answer, a timeout, a connection error).",
	}, []string{"outcome"})
	m.attemptDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hookflow_delivery_attempt_duration_seconds",
		Help:    `Time from sending a webhook to its answer or error, by subscription id ("other" past the process's bound on subscription labels).`,
		Buckets: latencyBuckets,
	}, []string{"subscription"})
	// Every outcome is exported from the start, at zero, so that rate()
	// and alerts see the series before the first delivery ends.
	for _, o := range []string{OutcomeSucceeded, OutcomeFailed, OutcomeCancelled} {
		m.deliveries.WithLabelValues(o)
	}
	for _, o := range []string{OutcomeSucceeded, OutcomeFailed} {
		m.attempts.WithLabelValues(o)
	}
	for _, o := range []string{OutcomeStarted, OutcomeFailed} {
		m.outboxStarts.WithLabelValues(o)
	}
	for _, c := range []prometheus.Collector{
		m.httpRequests, m.httpDuration, m.eventsAccepted, m.outboxPending, m.outboxOldest, m.held, m.disabled, m.outboxStarts, m.throttled, m.deliveries, m.attempts, m.attemptDuration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	if err := m.bridgeTemporal(); err != nil {
		return nil, err
	}
	return m, nil
}

// bridgeTemporal exports the Temporal SDK's metrics (workflow and activity
// task latencies, poller and slot counts, request failures, ...) into the
// same registry, through the SDK's OpenTelemetry integration and the
// OpenTelemetry Prometheus exporter.
func (m *Metrics) bridgeTemporal() error {
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(m.registry),
		otelprom.WithoutTargetInfo(),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return fmt.Errorf("metrics: Temporal SDK exporter: %w", err)
	}
	// The SDK records every timer in seconds; OpenTelemetry's default
	// buckets are made for milliseconds.
	seconds := sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}},
	)
	m.provider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(seconds))
	m.temporal = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                m.provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		OnError: func(err error) {
			m.log.Warn("cannot record a Temporal SDK metric", "err", err)
		},
	})
	return nil
}

// Registry is the registry every collector is in.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:          m.registry, // counts its own errors
		EnableOpenMetrics: true,
	})
}

// TemporalHandler is the metrics handler for the Temporal client's
// options; workers created from that client report through it too.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return nil
	}
	return m.temporal
}

// Shutdown stops the Temporal SDK bridge.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if m == nil || m.provider == nil {
		return nil
	}
	return m.provider.Shutdown(ctx)
}

// GinMiddleware counts and times every request by its route template
// (/v1/events/:id, never the id itself, so the series stay few). Put it
// first, so that it sees the status of answers other middleware writes.
func (m *Metrics) GinMiddleware() gin.HandlerFunc {
	if m == nil {
		return func(c *gin.Context) { c.Next() }
	}
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = UnmatchedRoute
		}
		labels := prometheus.Labels{"method": c.Request.Method, "route": route, "status": strconv.Itoa(c.Writer.Status())}
		m.httpRequests.With(labels).Inc()
		m.httpDuration.With(labels).Observe(time.Since(start).Seconds())
	}
}

// EventAccepted counts an event that was stored.
func (m *Metrics) EventAccepted() {
	if m == nil {
		return
	}
	m.eventsAccepted.Inc()
}

// Outbox records the backlog of events waiting for their workflow to
// start: how many, and how long the oldest has waited.
func (m *Metrics) Outbox(pending int, oldest time.Duration) {
	if m == nil {
		return
	}
	m.outboxPending.Set(float64(pending))
	m.outboxOldest.Set(oldest.Seconds())
}

// Health records the held deliveries and the disabled subscriptions.
func (m *Metrics) Health(held, disabled int) {
	if m == nil {
		return
	}
	m.held.Set(float64(held))
	m.disabled.Set(float64(disabled))
}

// Limits of Throttled.
const (
	LimitMaxInFlight = "max_in_flight"
	LimitRateLimit   = "rate_limit"
)

// Throttled counts an attempt waiting for limit (LimitMaxInFlight,
// LimitRateLimit) until the returned func is called.
func (m *Metrics) Throttled(limit string) (done func()) {
	if m == nil {
		return func() {}
	}
	g := m.throttled.WithLabelValues(limit)
	g.Inc()
	return g.Dec
}

// OutboxStarts counts event workflow starts by outcome (OutcomeStarted,
// OutcomeFailed).
func (m *Metrics) OutboxStarts(outcome string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.outboxStarts.WithLabelValues(outcome).Add(float64(n))
}

// DeliveryEnded counts a delivery that reached outcome.
func (m *Metrics) DeliveryEnded(outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(outcome).Inc()
}

// Attempt records one webhook request to a subscription: how long it took
// and whether the receiver took it.
func (m *Metrics) Attempt(subscriptionID string, took time.Duration, succeeded bool) {
	if m == nil {
		return
	}
	outcome := OutcomeFailed
	if succeeded {
		outcome = OutcomeSucceeded
	}
	m.attempts.WithLabelValues(outcome).Inc()
	m.attemptDuration.WithLabelValues(m.subscriptionLabel(subscriptionID)).Observe(took.Seconds())
}

// subscriptionLabel is the subscription's id while the process has seen
// fewer than maxSubs subscriptions, and "other" for every one after.
func (m *Metrics) subscriptionLabel(id string) string {
	m.subsMu.Lock()
	defer m.subsMu.Unlock()
	if _, ok := m.subs[id]; ok {
		return id
	}
	if len(m.subs) >= m.maxSubs {
		if !m.overflow && m.maxSubs > 0 {
			m.overflow = true
			m.log.Warn("more subscriptions than HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS: attempts to the rest are observed under subscription=\"other\"",
				"max", m.maxSubs)
		}
		return OtherSubscriptions
	}
	m.subs[id] = struct{}{}
	return id
}
