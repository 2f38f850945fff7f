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
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/api"
	"github.com/hookflow/hookflow/backoff"
	"github.com/hookflow/hookflow/config"
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
	listener net.Listener
}

// New connects to the database and Temporal and prepares the parts mode
// needs. Close releases them.
func New(ctx context.Context, cfg config.Config, mode Mode, logger *slog.Logger) (*App, error) {
	if logger == nil {
		logger = slog.Default()
	}
	a := &App{cfg: cfg, mode: mode, log: logger}
	var err error
	if a.store, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	a.temporal, err = client.DialContext(ctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    log.NewStructuredLogger(logger),
	})
	if err != nil {
		_ = a.store.Close()
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	if err := EnsureSearchAttributes(ctx, a.temporal, cfg.TemporalNamespace); err != nil {
		a.Close()
		return nil, err
	}
	defaults := activities.Defaults{
		Retry: backoff.Policy{
			InitialInterval: cfg.Retry.InitialInterval, BackoffCoefficient: cfg.Retry.BackoffCoefficient,
			MaxInterval: cfg.Retry.MaxInterval, MaxAttempts: cfg.Retry.MaxAttempts, MaxDuration: cfg.Retry.MaxDuration,
		},
		AttemptTimeout:  cfg.AttemptTimeout,
		FailedRetention: cfg.FailedRetention,
	}
	a.service = &service.Service{
		Store: a.store, Temporal: a.temporal, TaskQueue: cfg.TaskQueue, Defaults: defaults,
		SecretGrace: cfg.SecretRotationGrace, AllowUnknownEventTypes: cfg.AllowUnknownEventTypes,
	}
	a.acts = &activities.Activities{
		Store: a.store, HTTP: activities.NewHTTPClient(nil), Defaults: defaults, UserAgent: "hookflow/" + Version,
	}
	if mode != ModeWorker {
		if a.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			a.Close()
			return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
		}
	}
	return a, nil
}

// Addr is the API's listen address, useful when HOOKFLOW_HTTP_ADDR asked
// for port 0.
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Temporal is the process's Temporal client.
func (a *App) Temporal() client.Client { return a.temporal }

// Store is the process's store.
func (a *App) Store() store.Store { return a.store }

// Run serves until ctx ends, then stops cleanly: the HTTP server drains its
// requests and the worker finishes or hands back its tasks.
func (a *App) Run(ctx context.Context) error {
	if len(a.cfg.APIKeys) == 0 && a.mode != ModeWorker {
		a.log.Warn("HOOKFLOW_API_KEYS is empty: the API accepts requests WITHOUT authentication")
	}
	g, ctx := errgroup.WithContext(ctx)
	if a.mode != ModeAPI {
		w := worker.New(a.temporal, a.cfg.TaskQueue, a.acts)
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		a.log.Info("worker started", "task_queue", a.cfg.TaskQueue)
		g.Go(func() error {
			<-ctx.Done()
			w.Stop()
			return nil
		})
	}
	if a.mode != ModeWorker {
		gin.SetMode(gin.ReleaseMode)
		srv := &http.Server{
			Handler:           api.NewRouter(api.Deps{Service: a.service, MaxBodyBytes: a.cfg.MaxBodyBytes, Logger: a.log, APIKeys: a.cfg.APIKeys}),
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
	return g.Wait()
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
	return nil
}
