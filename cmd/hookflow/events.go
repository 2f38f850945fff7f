package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/client"
)

func newEventsCommand() *cobra.Command {
	r := &remote{}
	cmd := groupCommand("events", "Publish events and follow them to their deliveries",
		`An event is published once and delivered to every subscription whose event
types match its type, each delivery with its own retries.`)
	cmd.Aliases = []string{"event"}
	addRemoteFlags(cmd, r)
	cmd.AddCommand(eventsSend(r), eventsGet(r), eventsList(r), eventsCancel(r))
	return cmd
}

func eventsSend(r *remote) *cobra.Command {
	var (
		in   client.NewEvent
		data string
	)
	cmd := &cobra.Command{
		Use:   "send --type TYPE --data JSON",
		Short: "Publish an event",
		Long: `Publish an event. --data is a JSON object, @FILE to read it from a file, or
- to read it from standard input. --id (or --idempotency-key) makes the
publish idempotent: the same id again returns the first answer and delivers
nothing twice.`,
		Example: `  hookflow events send --type order.created --data '{"id":1}'
  hookflow events send --type order.created --id order-1-created --data @order.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := readData(cmd, data)
			if err != nil {
				return usageError{cmd: cmd, err: err}
			}
			in.Data = raw
			return call(r, cmd, func(c *client.Client) (client.Accepted, error) {
				return c.SendEvent(cmd.Context(), in)
			}, func(w io.Writer, acc client.Accepted) {
				row(w, "ID", acc.ID)
				row(w, "TYPE", acc.Type)
				row(w, "STATUS", acc.Status)
				row(w, "WORKFLOW", acc.WorkflowID)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Type, "type", "", "event type, like order.created (required)")
	f.StringVar(&data, "data", "", "the event's data: a JSON object, @FILE, or - for standard input (required)")
	f.StringVar(&in.ID, "id", "", "event id (letters, digits and _ . : -); makes the publish idempotent")
	f.StringVar(&in.IdempotencyKey, "idempotency-key", "", "sent as the Idempotency-Key header")
	mustRequire(cmd, "type", "data")
	return cmd
}

// readData is --data as JSON: given inline, from @FILE, or from standard
// input for "-". It must be JSON; the API says whether it is an object.
func readData(cmd *cobra.Command, data string) (json.RawMessage, error) {
	var raw []byte
	switch {
	case data == "-":
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("--data -: %w", err)
		}
		raw = b
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		raw = b
	default:
		raw = []byte(data)
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("--data is not JSON: %.80q", raw)
	}
	return json.RawMessage(raw), nil
}

func eventsGet(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show an event and its deliveries",
		Args:  exactArgs(1, "an event id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Event, error) {
				return c.GetEvent(cmd.Context(), args[0])
			}, func(w io.Writer, ev client.Event) {
				row(w, "ID", ev.ID)
				row(w, "TYPE", ev.Type)
				row(w, "STATUS", ev.Status)
				row(w, "CREATED", when(&ev.CreatedAt))
				row(w, "WORKFLOW", ev.WorkflowID)
				row(w, "RUN", orDash(ev.RunID))
				fmt.Fprintln(w)
				ds := append([]client.DeliverySummary(nil), ev.Deliveries...)
				for i := range ds {
					ds[i].EventID = ev.ID
				}
				deliveriesTable(w, ds)
			})
		},
	}
}

func eventsCancel(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel every delivery of an event that has not finished",
		Args:  exactArgs(1, "an event id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.EventCancel, error) {
				return c.CancelEvent(cmd.Context(), args[0])
			}, func(w io.Writer, res client.EventCancel) {
				row(w, "ID", res.ID)
				row(w, "STATUS", res.Status)
				row(w, "WORKFLOW", res.WorkflowID)
				if res.CancelledDeliveries != nil {
					row(w, "CANCELLED DELIVERIES", *res.CancelledDeliveries)
				}
			})
		},
	}
}
