// Command receiver is a Hookflow subscriber that logs every event it
// receives. It serves every path, so a subscription URL such as
// http://127.0.0.1:9000/webhooks reaches it.
//
//	WEBHOOK_SECRET  the subscription's secret; during a rotation, both, comma-separated (required)
//	LISTEN_ADDR     listen address [127.0.0.1:9000]
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hookflow/hookflow/receiver"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stdout, nil)))
	if err := run(); err != nil {
		slog.Error("receiver stopped", "error", err)
		os.Exit(1)
	}
}

func run() error {
	var secrets []string
	for s := range strings.SplitSeq(os.Getenv("WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, s)
		}
	}
	rcv, err := receiver.New(secrets...)
	if err != nil {
		return fmt.Errorf("WEBHOOK_SECRET: %w", err)
	}
	rcv.OnAny(func(ctx context.Context, e receiver.Event) error {
		slog.InfoContext(ctx, "event", "type", e.Type, "id", e.ID, "data", string(e.Data))
		return nil
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Addr:              cmp.Or(os.Getenv("LISTEN_ADDR"), "127.0.0.1:9000"),
		Handler:           rcv,
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	slog.Info("receiving webhooks", "addr", srv.Addr)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
