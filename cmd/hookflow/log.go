package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookflow/hookflow/client"
)

// The message log from the terminal: events list, deliveries list across
// events, resend, recover.

// timeFlag takes RFC 3339 or a duration back from now ("2h": two hours
// ago), which is how people name an incident's window.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(s string) error {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*f.t = t
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want an RFC 3339 time (2026-12-01T14:00:00Z) or a duration ago (90m)")
	}
	*f.t = time.Now().Add(-d)
	return nil
}

func (timeFlag) Type() string { return "time" }

func addWindowFlags(f *pflag.FlagSet, w *client.Window) {
	f.Var(timeFlag{&w.Since}, "since", "from this time on: RFC 3339, or a duration ago (2h)")
	f.Var(timeFlag{&w.Until}, "until", "before this time: RFC 3339, or a duration ago")
}

func eventsList(r *remote) *cobra.Command {
	var p client.ListEventsParams
	cmd := &cobra.Command{
		Use:     "list [--type TYPE] [--since T] [--until T]",
		Short:   "List events, newest first",
		Example: `  hookflow events list --app acme --type order.created --since 2h --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(r, cmd, func(c *client.Client) (client.Page[client.EventLogItem], error) {
				return c.ListEvents(cmd.Context(), p)
			}, func(w io.Writer, page client.Page[client.EventLogItem]) {
				row(w, "ID", "TYPE", "CREATED", "DELIVER AT")
				for _, e := range page.Data {
					row(w, e.ID, e.Type, when(&e.CreatedAt), when(e.DeliverAt))
				}
				nextPage(w, page.NextCursor)
			})
		},
	}
	cmd.Flags().StringVar(&p.Type, "type", "", "only events of this type")
	addWindowFlags(cmd.Flags(), &p.Window)
	addPageFlags(cmd, &p.ListParams)
	return cmd
}

func deliveriesList(r *remote) *cobra.Command {
	var p client.ListDeliveriesParams
	cmd := &cobra.Command{
		Use:   "list [--subscription ID] [--event ID] [--status STATUS] [--since T] [--until T]",
		Short: "List deliveries, newest first; the filters combine",
		Long: `List deliveries, newest first. The filters combine: a subscription, an
event, a status (pending, scheduled, delivering, retrying, held, succeeded,
failed, cancelled) and a window of creation times.`,
		Example: `  hookflow deliveries list --app acme --status failed --since 2h --json
  hookflow deliveries list --subscription sub_01K... --status failed --limit 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(r, cmd, func(c *client.Client) (client.Page[client.DeliveryLogItem], error) {
				return c.ListDeliveries(cmd.Context(), p)
			}, func(w io.Writer, page client.Page[client.DeliveryLogItem]) {
				row(w, "DELIVERY", "EVENT", "SUBSCRIPTION", "STATUS", "ATTEMPTS", "CREATED")
				for _, d := range page.Data {
					row(w, d.ID, d.EventID, d.SubscriptionID, d.Status, d.Attempts, when(&d.CreatedAt))
				}
				nextPage(w, page.NextCursor)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.SubscriptionID, "subscription", "", "only deliveries to this subscription")
	f.StringVar(&p.EventID, "event", "", "only deliveries of this event")
	f.StringVar(&p.Status, "status", "", "only deliveries in this status")
	addWindowFlags(f, &p.Window)
	addPageFlags(cmd, &p.ListParams)
	return cmd
}

func deliveriesResend(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "resend ID",
		Short: "Send a delivery's event again to its subscription, whatever its status, as a new delivery",
		Args:  exactArgs(1, "a delivery id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Resent, error) {
				return c.Resend(cmd.Context(), args[0])
			}, func(w io.Writer, res client.Resent) {
				row(w, "ID", res.ID)
				row(w, "WORKFLOW", res.WorkflowID)
			})
		},
	}
}

func newRecoverCommand() *cobra.Command {
	r := &remote{}
	var (
		win  client.RecoverWindow
		wait bool
	)
	cmd := &cobra.Command{
		Use:   "recover SUBSCRIPTION --since T [--until T] [--wait]",
		Short: "Resend everything a subscription missed in a window, as one durable workflow",
		Long: `Resend every failed delivery of the subscription whose event was created in
the window, and deliver the window's matching events it never got (it was
paused or disabled). One Temporal workflow does it, page by page; asking
again for the same window while it runs returns the same recovery.
--wait follows it until it ends. "hookflow recover get ID" and
"hookflow recover cancel ID" read and stop one.`,
		Example: `  hookflow recover sub_01K... --app acme --since 2026-12-01T14:00:00Z --until 2026-12-01T15:00:00Z
  hookflow recover sub_01K... --since 3h --wait`,
		GroupID: groupClient,
		Args:    exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client(cmd)
			if err != nil {
				return err
			}
			rec, err := c.Recover(cmd.Context(), args[0], win)
			if err != nil {
				return err
			}
			for wait && rec.Status == "running" {
				if !r.json {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: matched %d, resent %d\n", rec.ID, rec.Matched, rec.Resent)
				}
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(time.Second):
				}
				if rec, err = c.GetRecovery(cmd.Context(), rec.ID); err != nil {
					return err
				}
			}
			return r.print(cmd, rec, func(w io.Writer) { recoveryTable(w, rec) })
		},
	}
	addRemoteFlags(cmd, r)
	f := cmd.Flags()
	f.Var(timeFlag{&win.Since}, "since", "the window's start: RFC 3339, or a duration ago (2h) (required)")
	f.Var(timeFlag{&win.Until}, "until", "the window's end (default: now)")
	f.BoolVar(&wait, "wait", false, "follow the recovery until it ends, printing its progress on stderr")
	mustRequire(cmd, "since")
	steer := func(use, short string, do func(*client.Client, *cobra.Command, string) (client.Recovery, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  exactArgs(1, "a recovery id"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return call(r, cmd, func(c *client.Client) (client.Recovery, error) {
					return do(c, cmd, args[0])
				}, recoveryTable)
			},
		}
	}
	cmd.AddCommand(
		steer("get", "Show a recovery: status, matched, resent", func(c *client.Client, cmd *cobra.Command, id string) (client.Recovery, error) {
			return c.GetRecovery(cmd.Context(), id)
		}),
		steer("cancel", "Stop a running recovery before its next resend", func(c *client.Client, cmd *cobra.Command, id string) (client.Recovery, error) {
			return c.CancelRecovery(cmd.Context(), id)
		}),
	)
	return cmd
}

func recoveryTable(w io.Writer, rec client.Recovery) {
	row(w, "ID", rec.ID)
	row(w, "SUBSCRIPTION", rec.SubscriptionID)
	row(w, "STATUS", rec.Status)
	row(w, "WINDOW", when(&rec.Since)+" to "+when(&rec.Until))
	row(w, "MATCHED", rec.Matched)
	row(w, "RESENT", rec.Resent)
	row(w, "WORKFLOW", rec.WorkflowID)
}
