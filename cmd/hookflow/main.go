// Command hookflow runs Hookflow and talks to a running one.
//
// Server commands: `hookflow serve` (API and worker in one process),
// `hookflow api`, `hookflow worker`, configured by HOOKFLOW_* environment
// variables (see package config), and `hookflow migrate`, which applies the
// store's migrations and exits. Client commands (`subscriptions`, `events`,
// `deliveries`) call a running Hookflow's API at HOOKFLOW_URL with
// HOOKFLOW_API_KEY, through package client. `hookflow --help` lists them.
//
// The commands are built with spf13/cobra; README "Operator CLI" says why.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs one command line and returns the process's exit status: 0,
// or 1 after printing the error (the API's message for a refused call).
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "hookflow:", err)
		var usage usageError
		if errors.As(err, &usage) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", usage.cmd.CommandPath())
		}
		return 1
	}
	return 0
}

// usageError is a command line that does not parse; execute points at the
// command's help after it.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func newRootCommand() *cobra.Command {
	// The order of the help is the order they are added in: serve first.
	cobra.EnableCommandSorting = false
	root := &cobra.Command{
		Use:   "hookflow",
		Short: "Webhook delivery on Temporal: run it, and operate a running one",
		Long: `Hookflow takes in a platform's events and delivers them, signed per
Standard Webhooks, to every subscriber, with retries, on Temporal.

Server commands read their configuration from HOOKFLOW_* environment
variables (README "Configuration"). Client commands call a running
Hookflow at HOOKFLOW_URL with HOOKFLOW_API_KEY (or --hookflow-url, --api-key),
print a table, or JSON with --json, and exit non-zero on any error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare `hookflow` prints the help instead of doing nothing.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{cmd: cmd, err: err} })
	// Shell completion is cobra's, not ours to keep in step with the docs.
	root.CompletionOptions.DisableDefaultCmd = true

	root.AddGroup(
		&cobra.Group{ID: groupServer, Title: "Running Hookflow:"},
		&cobra.Group{ID: groupClient, Title: "Operating a running Hookflow (HOOKFLOW_URL, HOOKFLOW_API_KEY):"},
	)
	root.AddCommand(serverCommands()...)
	root.AddCommand(newMigrateCommand(), newVersionCommand())
	root.AddCommand(newAppsCommand(), newSubscriptionsCommand(), newEventsCommand(), newDeliveriesCommand(), newRecoverCommand())
	return root
}

const (
	groupServer = "server"
	groupClient = "client"
)

// exactArgs is cobra.ExactArgs with the command's own words for a missing
// argument, as a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{cmd: cmd, err: fmt.Errorf("%s wants %s", cmd.CommandPath(), what)}
		}
		return nil
	}
}
