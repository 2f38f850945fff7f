package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
)

// serverCommands are serve, api and worker: the same process with other
// parts switched on. scripts/run.sh, the bench and the cluster test run
// them by these names.
func serverCommands() []*cobra.Command {
	modes := []struct {
		name, short string
		mode        app.Mode
	}{
		{"serve", "Run the HTTP API and the Temporal worker in one process", app.ModeServe},
		{"api", "Run the HTTP API only", app.ModeAPI},
		{"worker", "Run the Temporal worker only", app.ModeWorker},
	}
	cmds := make([]*cobra.Command, 0, len(modes))
	for _, m := range modes {
		cmds = append(cmds, &cobra.Command{
			Use:     m.name,
			Short:   m.short,
			GroupID: groupServer,
			Long: m.short + `.

Configuration is read from HOOKFLOW_* environment variables; README
"Configuration" lists them. The API refuses to listen on an address other
than loopback without HOOKFLOW_API_KEYS, unless HOOKFLOW_INSECURE_NO_AUTH=true.
SIGINT or SIGTERM stops it cleanly: requests drain, the worker hands back
its tasks.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd, m.mode) },
		})
	}
	return cmds
}

func runServer(cmd *cobra.Command, mode app.Mode) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if mode != app.ModeWorker {
		// Before connecting to anything: an open API on a public address
		// must not start, not even for a moment.
		if err := cfg.CheckAPIExposure(); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	slog.SetDefault(logger)
	ctx := cmd.Context()
	a, err := app.New(ctx, cfg, mode, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Run(ctx); err != nil {
		return fmt.Errorf("%s: %w", cmd.Name(), err)
	}
	return nil
}
