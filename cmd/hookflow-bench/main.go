// Command hookflow-bench measures Hookflow's throughput, latency and cost
// per delivery; `make bench` runs it. Each scenario starts a Temporal dev
// server with the settings `make run` uses (unless -temporal-address names
// an existing one), a local receiver, and `hookflow serve` as a child
// process, then prints one table and writes the numbers as JSON.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hookflow/hookflow/internal/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hookflow-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		opts      bench.Options
		quick     = flag.Bool("quick", false, "smaller scenarios, for a run of a few minutes")
		scenarios = flag.String("scenarios", "", "comma-separated scenario names to run (default: all; see -list)")
		list      = flag.Bool("list", false, "list the scenarios and exit")
		out       = flag.String("out", "bench-results", "folder for the JSON results")
		keep      = flag.String("keep", "", "keep databases and logs in this folder instead of a temporary one")
		devArgs   = flag.String("dev-server-args", "", "extra arguments for `temporal server start-dev`, space-separated, to try other settings")
		base      = flag.String("base", "", "a hookflow binary built from the commit before a change: each scenario runs with it, then with -hookflow, and the table shows both")
	)
	flag.StringVar(&opts.Hookflow, "hookflow", "bin/hookflow", "hookflow binary to run as `hookflow serve`")
	flag.StringVar(&opts.TemporalAddress, "temporal-address", "", "existing Temporal frontend host:port (default: start a dev server per scenario)")
	flag.StringVar(&opts.Namespace, "namespace", "default", "Temporal namespace")
	flag.StringVar(&opts.DatabaseURL, "database-url", "", "Hookflow's database (default: a fresh SQLite file per scenario)")
	flag.IntVar(&opts.Producers, "producers", 16, "clients posting events at once in the burst scenarios")
	flag.IntVar(&opts.PayloadBytes, "payload-bytes", 256, "approximate size of each event's data")
	flag.DurationVar(&opts.Stall, "stall", 2*time.Minute, "give up on a scenario that made no delivery for this long")
	flag.DurationVar(&opts.Timeout, "timeout", 15*time.Minute, "longest a scenario may take")
	flag.Parse()

	all := bench.Scenarios(*quick)
	if *list {
		for _, s := range all {
			fmt.Printf("%-18s %s %d events x %d subscribers\n", s.Name, s.Kind, s.Events, s.Subscribers)
		}
		return nil
	}
	chosen := all
	if *scenarios != "" {
		chosen = nil
		for _, name := range strings.Split(*scenarios, ",") {
			i := slices.IndexFunc(all, func(s bench.Scenario) bool { return s.Name == strings.TrimSpace(name) })
			if i < 0 {
				return fmt.Errorf("unknown scenario %q (see -list; -quick changes the names)", name)
			}
			chosen = append(chosen, all[i])
		}
	}
	if *keep != "" {
		if err := os.MkdirAll(*keep, 0o750); err != nil {
			return err
		}
		opts.WorkDir = *keep
	}
	opts.Progress = os.Stderr
	opts.DevServerArgs = strings.Fields(*devArgs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		rep bench.Report
		err error
	)
	if *base != "" {
		rep, err = bench.Compare(ctx, opts, *base, chosen)
	} else {
		rep, err = bench.Run(ctx, opts, chosen)
	}
	if len(rep.Results) > 0 {
		fmt.Println()
		if werr := rep.WriteTable(os.Stdout); werr != nil {
			return werr
		}
		path, werr := rep.WriteJSON(*out)
		if werr != nil {
			return werr
		}
		fmt.Println("\nJSON:", path)
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		return fmt.Errorf("some scenarios failed")
	}
	return nil
}
