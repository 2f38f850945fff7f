package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as one table, then the notes that do not
// fit in it.
func (r Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Hookflow bench, %s, %d CPUs (%s), load %s\n", r.StartedAt.Format("2006-01-02 15:04 MST"),
		r.Machine.CPUs, r.Machine.CPUModel, r.Machine.LoadAvg)
	fmt.Fprintf(w, "Temporal: %s; database: %s\n\n", r.Temporal, r.Database)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tdeliveries\tdeliv/s\taccept p50/p99 ms\tto 1st attempt p50/p99 ms\tlast at s\thist ev/deliv\thookflow CPU s/1k\thookflow peak RSS MB\ttemporal CPU s/1k\tCPU ms/deliv\tpersist ops/deliv\tload before/after\t")
	for _, x := range r.Results {
		accept := fmt.Sprintf("%.0f / %.0f", x.AcceptP50Ms, x.AcceptP99Ms)
		hist, hf, rss, tcpu, persist := f1(x.EventsPerDelivery), f2(x.HookflowCPUPer1k), f0(x.HookflowPeakRSSMB), f2(x.TemporalCPUPer1k), f1(x.PersistencePerDelivery)
		if x.Scenario.Kind == KindBaseline {
			accept, hist, hf, rss, tcpu, persist = "-", "-", "-", "-", "-", "-"
		}
		if x.TemporalCPUPer1k == 0 && x.Scenario.Kind != KindBaseline {
			tcpu, persist = "n/a", "n/a"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%.1f\t%s\t%.0f / %.0f\t%.1f\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s / %s\t\n",
			x.label(), x.Delivered, x.Scenario.Deliveries(), x.DeliveriesPerSec, accept,
			x.FirstAttemptP50Ms, x.FirstAttemptP99Ms, x.LastDeliverySec, hist, hf, rss, tcpu,
			x.CPUMsPerDelivery, persist, first(x.LoadBefore), first(x.LoadAfter))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "to 1st attempt: from the producer sending POST /v1/events to the receiver getting the webhook (baseline: one POST's round trip).")
	fmt.Fprintln(w, "hist ev/deliv: history events of every run of the event workflows (recover: of the recovery workflow) and of every delivery workflow, divided by deliveries.")
	fmt.Fprintln(w, "CPU ms/deliv: CPU of hookflow and the Temporal server per delivery (baseline: the sender's and receiver's).")
	for _, x := range r.Results {
		if x.Scenario.Kind == KindBaseline {
			continue
		}
		fanOut := 0.0
		if d := x.Scenario.Deliveries(); d > 0 {
			fanOut = float64(x.EventRunEvents) / float64(d)
		}
		fmt.Fprintf(w, "%s: event workflow runs %d (%.2f of the history events per delivery; largest %d events, %d KiB); failed workflow tasks or child starts %d %v; %d histories read event by event",
			x.label(), x.EventRuns, fanOut, x.MaxEventRunEvents, x.MaxEventRunBytes>>10, x.WorkflowTaskFailures, x.FailureCauses, x.HistoriesChecked)
		if x.Scenario.Kind == KindRecover {
			fmt.Fprintf(w, "; recovery workflow runs %d, %d history events, %.3f per resent delivery", x.RecoveryRuns, x.RecoveryEvents, x.RecoveryEventsPerResend)
		}
		if x.TemporalCPUPer1k > 0 {
			fmt.Fprintf(w, "; eager workflow starts %.0f (denied %.0f), eager activities %.0f; temporal peak RSS %.0f MB",
				x.EagerWorkflowStarts, x.EagerWorkflowDenied, x.EagerActivities, x.TemporalPeakRSSMB)
		}
		fmt.Fprintln(w)
	}
	for _, x := range r.Results {
		switch x.Scenario.Kind {
		case KindRate:
			fmt.Fprintf(w, "%s: rate_limit %g: at most %d requests in any one second, %.2f a second from the first to the last; %.2f attempts and %.1f history events per delivery\n",
				x.label(), x.Scenario.RateLimit, x.MaxPerSec, x.MeanPerSec, x.AttemptsPerDelivery, x.EventsPerDelivery)
		case KindFairness:
			fmt.Fprintf(w, "%s: the quiet application's event arrived %.0f ms after its post, with %d of the busy one's %d events still queued (%d at the post); %.2f attempts and %.1f history events per delivery\n",
				x.label(), x.QuietLagMs, x.BacklogQueued, x.Scenario.Events, x.BacklogAtPost, x.AttemptsPerDelivery, x.EventsPerDelivery)
		}
	}
	for _, x := range r.Results {
		if x.Error != "" {
			fmt.Fprintf(w, "%s FAILED: %s\n", x.label(), x.Error)
		}
	}
	return nil
}

// label names the scenario, and in a comparison which binary ran it.
func (x Result) label() string {
	if x.Binary == "" {
		return x.Scenario.Name
	}
	return x.Scenario.Name + " [" + x.Binary + "]"
}

// WriteJSON writes the report into dir as bench-<time>.json and returns the
// file's path.
func (r Report) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "bench-"+r.StartedAt.Format("20060102-150405")+".json")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// Failed reports whether any scenario failed.
func (r Report) Failed() bool {
	for _, x := range r.Results {
		if x.Error != "" {
			return true
		}
	}
	return false
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

func first(load string) string {
	f := strings.Fields(load)
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
