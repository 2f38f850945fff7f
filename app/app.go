// Package app wires Hookflow's parts together from a Config and runs them:
// the API, the worker, or both in one process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/api"
	"github.com/hookflow/hookflow/codec"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/dispatch"
	"github.com/hookflow/hookflow/metrics"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/portal"
	"github.com/hookflow/hookflow/secretbox"
	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/worker"
	"github.com/hookflow/hookflow/workflows"
)

// Version is stamped into the User-Agent of every webhook.
var Version = "dev"

// Mode selects what a process runs.
type Mode int

const (
	ModeServe  Mode = iota // API and worker
	ModeAPI                // API only
	ModeWorker             // worker only
)

// App is a running Hookflow process.
type App struct {
	cfg      config.Config
	mode     Mode
	log      *slog.Logger
	store    store.Store
	temporal client.Client
	service  *service.Service
	acts     *activities.Activities
	// dispatch starts the workflows of the events the API accepted; API
	// processes run one each.
	dispatch *dispatch.Dispatcher
	listener net.Listener
	// codec is the payload codec when HOOKFLOW_CODEC_KEYS is set, and
	// codecHTTP its /v1/codec endpoint.
	codec     *codec.Codec
	codecHTTP http.Handler
	// metrics are served on the API's /metrics and, when
	// HOOKFLOW_METRICS_ADDR is set, on metricsListener.
	metrics         *metrics.Metrics
	metricsListener net.Listener
}

// New connects to the database and Temporal and builds the parts mode
// needs from cfg: the outbound guard, the secret box and the payload codec
// first (a bad key fails before any connection), then the store, the
// Temporal client, the service and the activities. Close releases them.
func New(ctx context.Context, cfg config.Config, mode Mode, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.Default()
	}
	targets, err := targetPolicy(cfg)
	if err != nil {
		return nil, err
	}
	box, err := secretBox(cfg)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, mode: mode, log: logger}
	if a.codec, err = payloadCodec(cfg); err != nil {
		return nil, err
	}
	if a.codecHTTP, err = a.codecHandler(); err != nil {
		return nil, err
	}
	if a.metrics, err = metrics.New(metrics.Options{MaxSubscriptionLabels: cfg.MetricsMaxSubscriptions, Logger: logger}); err != nil {
		return nil, err
	}
	if err := a.openStore(ctx, box); err != nil {
		return nil, err
	}
	a.temporal, err = client.DialContext(ctx, a.temporalOptions())
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	if err := EnsureSearchAttributes(ctx, a.temporal, cfg.TemporalNamespace); err != nil {
		a.Close()
		return nil, err
	}
	defaults := deliveryDefaults(cfg)
	a.service = &service.Service{
		Store: a.store, Temporal: a.temporal, TaskQueue: cfg.TaskQueue, Defaults: defaults,
		SecretGrace: cfg.SecretRotationGrace, AllowUnknownEventTypes: cfg.AllowUnknownEventTypes,
		Targets: targets, // checked when a subscription's URL is set
		Log:     logger, Metrics: a.metrics,
	}
	a.service.MaxPendingEvents = cfg.MaxPendingEvents
	if mode != ModeWorker {
		a.dispatch = dispatch.New(dispatch.Options{
			Store: a.store, Temporal: a.temporal, TaskQueue: cfg.TaskQueue, Metrics: a.metrics, Log: logger,
		})
		a.service.Dispatch = a.dispatch
	}
	a.acts = &activities.Activities{
		Store: a.store, Defaults: defaults, UserAgent: "hookflow/" + Version, Metrics: a.metrics,
		StartResend: workflows.StartResend, StartWake: workflows.StartWake,
		// Every connection passes the outbound guard, after DNS; no proxy
		// from the environment; redirects are answers, never followed. As
		// many idle connections per host as the worker has delivery slots,
		// so a fan-out to one host reuses them instead of handshaking again.
		HTTP: netguard.NewHTTPClient(targets, netguard.ClientOptions{MaxIdleConns: 512, MaxIdleConnsPerHost: cfg.DeliverySlots}),
	}
	if err := a.listen(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openStore opens the database with box sealing secrets. A process that
// serves the API also seals with the current key the rows stored before
// the key was set, or under an older key (see SECURITY.md, rotating keys).
func (a *App) openStore(ctx context.Context, box *secretbox.Box) error {
	st, err := store.Open(ctx, a.cfg.DatabaseURL, store.WithSecretBox(box))
	if err != nil {
		return err
	}
	a.store = st
	if a.mode == ModeWorker {
		return nil
	}
	n, err := st.ResealSecrets(ctx)
	if err != nil {
		a.Close()
		return err
	}
	if n > 0 {
		a.log.Info("sealed stored secrets with the current HOOKFLOW_SECRET_KEY", "subscriptions", n)
	}
	return nil
}

// listen opens the API's listener (unless the process is a worker only)
// and the metrics listener when HOOKFLOW_METRICS_ADDR is set.
func (a *App) listen() error {
	var err error
	if a.mode != ModeWorker {
		if a.listener, err = net.Listen("tcp", a.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
		}
	}
	if a.cfg.MetricsAddr != "" {
		if a.metricsListener, err = net.Listen("tcp", a.cfg.MetricsAddr); err != nil {
			return fmt.Errorf("HOOKFLOW_METRICS_ADDR: listen on %s: %w", a.cfg.MetricsAddr, err)
		}
	}
	return nil
}

// temporalOptions are the Temporal client's options. With
// HOOKFLOW_CODEC_KEYS set every payload (workflow and activity inputs and
// results, summaries, signal and query arguments) is encrypted before it
// leaves the process, and so are failure messages and stack traces, which
// may quote what a receiver answered.
func (a *App) temporalOptions() client.Options {
	opts := client.Options{
		HostPort:  a.cfg.TemporalAddress,
		Namespace: a.cfg.TemporalNamespace,
		Logger:    log.NewStructuredLogger(a.log),
		// The SDK's client and worker metrics land in the same registry
		// as Hookflow's own.
		MetricsHandler: a.metrics.TemporalHandler(),
	}
	if a.codec != nil {
		dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), a.codec)
		opts.DataConverter = dc
		opts.FailureConverter = codec.NewFailureConverter(dc)
	}
	return opts
}

// codecHandler serves /v1/codec when payloads are encrypted: the Temporal
// Web UI and CLI decode histories through it, with an API key.
func (a *App) codecHandler() (http.Handler, error) {
	if a.codec == nil {
		return nil, nil
	}
	h, err := codec.NewHandler(codec.HandlerOptions{
		APIKeys:        a.cfg.APIKeys,
		AllowedOrigins: a.cfg.CodecAllowedOrigins,
	}, a.codec)
	if err != nil {
		return nil, fmt.Errorf("HOOKFLOW_CODEC_ALLOWED_ORIGINS: %w", err)
	}
	return h, nil
}

// warnings names every guard that is off, once at start.
func (a *App) warnings() {
	if len(a.cfg.APIKeys) == 0 && a.mode != ModeWorker {
		a.log.Warn("HOOKFLOW_API_KEYS is empty: the API accepts requests WITHOUT authentication, as admin (a request presenting an application token is still held to that token)")
	}
	if a.cfg.AllowPrivateTargets {
		a.log.Warn("HOOKFLOW_ALLOW_PRIVATE_TARGETS is on: webhooks may reach loopback, private and link-local addresses, cloud metadata included")
	}
	if a.cfg.SecretKey == "" && a.mode != ModeWorker {
		a.log.Warn("HOOKFLOW_SECRET_KEY is empty: subscriber secrets are stored unencrypted")
	}
	if a.codec == nil {
		a.log.Warn("HOOKFLOW_CODEC_KEYS is empty: Temporal histories hold delivery inputs and results in clear")
	}
}

// Addr is the API's listen address, useful when HOOKFLOW_HTTP_ADDR asked
// for port 0.
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// MetricsAddr is the address of the HOOKFLOW_METRICS_ADDR listener, or ""
// without one.
func (a *App) MetricsAddr() string {
	if a.metricsListener == nil {
		return ""
	}
	return a.metricsListener.Addr().String()
}

// Metrics is the process's collectors and registry.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Temporal is the process's Temporal client.
func (a *App) Temporal() client.Client { return a.temporal }

// Store is the process's store.
func (a *App) Store() store.Store { return a.store }

// Run serves until ctx ends, then stops cleanly: the HTTP server drains its
// requests and the worker finishes or hands back its tasks.
func (a *App) Run(ctx context.Context) error {
	a.warnings()
	g, ctx := errgroup.WithContext(ctx)
	if a.mode != ModeAPI {
		w := worker.New(a.temporal, a.cfg.TaskQueue, a.acts, a.cfg.DeliverySlots)
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		a.log.Info("worker started", "task_queue", a.cfg.TaskQueue)
		g.Go(func() error {
			worker.KeepRetentionSchedule(ctx, a.temporal, worker.RetentionSchedule{
				TaskQueue: a.cfg.TaskQueue, Retention: a.cfg.Retention, Interval: a.cfg.RetentionInterval,
			}, a.log)
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			w.Stop()
			return nil
		})
	}
	if a.mode != ModeWorker {
		// After the worker, so that the first events it starts can be
		// handed to it eagerly.
		g.Go(func() error { return a.dispatch.Run(ctx) })
		gin.SetMode(gin.ReleaseMode)
		srv := &http.Server{
			// The subscriber portal beside the API, in serve and api modes.
			Handler: portal.Mount(api.NewRouter(api.Deps{
				Service: a.service, MaxBodyBytes: a.cfg.MaxBodyBytes, Logger: a.log, APIKeys: a.cfg.APIKeys,
				Codec: a.codecHTTP, Metrics: a.metrics, PublicURL: a.cfg.PublicURL,
			})),
			ReadHeaderTimeout: 10 * time.Second,
		}
		a.log.Info("API listening", "addr", a.Addr())
		g.Go(func() error {
			if err := srv.Serve(a.listener); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			return srv.Shutdown(shutdownCtx)
		})
	}
	g.Go(func() error {
		a.countHealth(ctx)
		return nil
	})
	if a.metricsListener != nil {
		a.serveMetrics(ctx, g)
	} else if a.mode == ModeWorker {
		a.log.Info("no metrics listener: set HOOKFLOW_METRICS_ADDR to serve this worker's /metrics")
	}
	return g.Wait()
}

// healthCountEvery is how often a process counts the held deliveries and
// disabled subscriptions for its metrics: two indexed counts.
const healthCountEvery = 10 * time.Second

// countHealth keeps the gauges of held deliveries and disabled
// subscriptions until ctx ends.
func (a *App) countHealth(ctx context.Context) {
	t := time.NewTicker(healthCountEvery)
	defer t.Stop()
	for {
		held, disabled, err := a.store.HealthStats(ctx)
		switch {
		case err == nil:
			a.metrics.Health(held, disabled)
		case ctx.Err() == nil:
			a.log.Warn("cannot count held deliveries and disabled subscriptions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveMetrics serves /metrics, and /healthz for container health checks,
// on the HOOKFLOW_METRICS_ADDR listener until ctx ends.
func (a *App) serveMetrics(ctx context.Context, g *errgroup.Group) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("metrics listening", "addr", a.MetricsAddr())
	g.Go(func() error {
		if err := srv.Serve(a.metricsListener); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})
}

// Close releases the connections.
func (a *App) Close() {
	if a.temporal != nil {
		a.temporal.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
	if a.listener != nil {
		_ = a.listener.Close()
	}
	if a.metricsListener != nil {
		_ = a.metricsListener.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.metrics.Shutdown(ctx)
}

// EnsureSearchAttributes registers on the namespace every custom search
// attribute Hookflow uses that is not there yet.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, key := range workflows.SearchAttributes {
		if _, ok := have.GetCustomAttributes()[key.GetName()]; !ok {
			missing[key.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return waitSearchAttributes(ctx, c, namespace)
}

// waitSearchAttributes waits until the frontend accepts Hookflow's search
// attributes. It serves a namespace's search attributes from a cache that
// it refreshes every few seconds (unless told to re-read them on every use,
// which costs database reads on every workflow start), and until it has
// the new ones, a workflow started with them is refused.
func waitSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	var conds []string
	for _, key := range workflows.SearchAttributes {
		conds = append(conds, key.GetName()+" = ''")
	}
	query := strings.Join(conds, " AND ")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		var invalid *serviceerror.InvalidArgument
		if err == nil || !errors.As(err, &invalid) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes added but not served yet: %w", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
