// Command hookflow runs Hookflow: `hookflow serve` (API and worker in one
// process), `hookflow api`, or `hookflow worker`. Configuration comes from
// HOOKFLOW_* environment variables; see package config.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
)

const usage = `usage: hookflow serve|api|worker

  serve   run the HTTP API and the worker in one process
  api     run the HTTP API only
  worker  run the Temporal worker only

Configuration is read from HOOKFLOW_* environment variables (see README).`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hookflow:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s", usage)
	}
	mode, ok := map[string]app.Mode{"serve": app.ModeServe, "api": app.ModeAPI, "worker": app.ModeWorker}[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	slog.SetDefault(logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, mode, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
