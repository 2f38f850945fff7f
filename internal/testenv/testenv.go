// Package testenv starts the real things integration tests run against: a
// Temporal dev server from the pinned CLI, and Hookflow itself on free
// ports with its own database and task queue.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/workflows"
)

// CLIVersion is the pinned Temporal CLI, the same `make run` installs.
const CLIVersion = "v1.5.1"

// DevServerArgs are the dev server settings that matter for throughput and
// latency; scripts/run.sh passes the same (TestRunScriptUsesDevServerArgs
// keeps them in step), and `make bench` measures them:
//
//   - SQLite in WAL mode without an fsync per commit.
//   - Eager workflow start and eager activities: the first workflow task of
//     an event, and the retries of a delivery, go from the server's answer
//     straight to the worker that asked, without a trip through matching.
//   - Search attributes served from the server's cache. The dev server
//     re-reads them from the database on every use by default (so that new
//     ones show at once); Hookflow's are registered when the server starts.
//     `make bench` measured the default at 14 of the 27 persistence
//     requests of a delivery.
//   - A 32 MiB events cache instead of 512 KiB, so that starting a batch of
//     children does not read their initiated events back from the database.
//   - One partition per task queue: on one machine more only make tasks
//     miss the pollers waiting on another partition and go to the database.
//   - Task queue fairness (FairnessArgs).
var DevServerArgs = append([]string{
	"--sqlite-pragma", "journal_mode=wal",
	"--sqlite-pragma", "synchronous=normal",
	"--dynamic-config-value", "system.enableActivityEagerExecution=true",
	"--dynamic-config-value", "system.enableEagerWorkflowStart=true",
	"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=false",
	"--dynamic-config-value", "history.eventsCacheMaxSizeBytes=33554432",
	"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
	"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
}, FairnessArgs...)

// FairnessArgs turn on task queue fairness, which the server (1.29, in the
// pinned CLI) leaves off by default: matching then hands out the tasks of a
// queue by their fairness key (Hookflow's is the application, see
// workflows.Priority) in turns, instead of first in, first out, so that an
// application's backlog does not hold up another's. enableFairness implies
// the priority-aware matcher (useNewMatcher); both are set so that the
// intent reads plainly. Without them the keys are carried but ignored.
var FairnessArgs = []string{
	"--dynamic-config-value", "matching.useNewMatcher=true",
	"--dynamic-config-value", "matching.enableFairness=true",
}

var installOnce sync.Once

// TemporalCLI returns the path of the pinned Temporal CLI, installing it
// with `go install` when it is missing.
func TemporalCLI() (string, error) {
	gobin, err := goEnv("GOBIN")
	if err != nil {
		return "", err
	}
	if gobin == "" {
		gopath, err := goEnv("GOPATH")
		if err != nil {
			return "", err
		}
		gobin = filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin")
	}
	path := filepath.Join(gobin, "temporal")
	var installErr error
	installOnce.Do(func() {
		if _, err := os.Stat(path); err == nil {
			return
		}
		cmd := exec.Command("go", "install", "github.com/temporalio/cli/cmd/temporal@"+CLIVersion)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		installErr = cmd.Run()
	})
	if installErr != nil {
		return "", fmt.Errorf("install temporal CLI: %w", installErr)
	}
	return path, nil
}

func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Temporal is a running dev server.
type Temporal struct {
	Server *testsuite.DevServer
	Client client.Client
	// Address is the frontend's host:port.
	Address string
}

// StartTemporal starts a dev server on free ports with Hookflow's search
// attributes registered. Stop it with Stop.
func StartTemporal(ctx context.Context) (*Temporal, error) {
	cli, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	attrs := make([]temporal.SearchAttributeUpdate, 0, len(workflows.SearchAttributes))
	for _, key := range workflows.SearchAttributes {
		attrs = append(attrs, key.ValueSet(""))
	}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &client.Options{Namespace: "default", Logger: quietLogger()},
		SearchAttributes: temporal.NewSearchAttributes(attrs...),
		ExtraArgs:        DevServerArgs,
		LogLevel:         "error",
		Stdout:           io.Discard,
		Stderr:           os.Stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server: %w", err)
	}
	return &Temporal{Server: srv, Client: srv.Client(), Address: srv.FrontendHostPort()}, nil
}

// Stop stops the dev server.
func (t *Temporal) Stop() error { return t.Server.Stop() }

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// Hookflow is a Hookflow process (API and worker) running inside the test.
type Hookflow struct {
	App *app.App
	// URL is the API's base URL, like http://127.0.0.1:PORT.
	URL    string
	Config config.Config
}

// StartHookflow runs Hookflow against tp with a fresh SQLite database and
// task queue, private targets allowed, no retention schedule, and the given changes to its
// configuration. It stops when the test ends.
func StartHookflow(t testing.TB, tp *Temporal, mode app.Mode, change func(*config.Config)) *Hookflow {
	t.Helper()
	cfg := config.Default()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.TemporalAddress = tp.Address
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "hookflow.db")
	cfg.TaskQueue = "hookflow-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	cfg.AllowPrivateTargets = true
	// No retention schedule unless a test asks for one: the dev server is
	// shared by every test of a package, and an hourly schedule per test
	// would start purges on the task queues of tests long over.
	cfg.Retention = 0
	if change != nil {
		change(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Info and up, so that the secret scan (LeakedInLogs) reads what an
	// operator's log would hold; the test's own log shows warnings only.
	logger := slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(ctx, cfg, mode, logger)
	if err != nil {
		cancel()
		t.Fatalf("start hookflow: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("hookflow stopped with: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("hookflow did not stop within 30s")
		}
		a.Close()
	})
	h := &Hookflow{App: a, Config: cfg}
	if addr := a.Addr(); addr != "" {
		h.URL = "http://" + addr
	}
	return h
}

// testWriter sends logs to the test's log, so they show only on failure.
type testWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (w *testWriter) Write(p []byte) (int, error) {
	rememberLeakyLogLine(p)
	if bytes.Contains(p, []byte("level=INFO ")) {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
