package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/client"
)

func newDeliveriesCommand() *cobra.Command {
	r := &remote{}
	cmd := groupCommand("deliveries", "Inspect deliveries and steer them: retry now, cancel, resend",
		`A delivery is one event on its way to one subscription: its attempts, its
status, and the Temporal workflow that runs it.`)
	cmd.Aliases = []string{"delivery"}
	addRemoteFlags(cmd, r)
	cmd.AddCommand(deliveriesGet(r), deliveriesList(r), deliveriesResend(r),
		deliveriesSteer(r, "retry", "Attempt a delivery now; a delivery that failed for good starts a new round",
			(*client.Client).RetryDelivery),
		deliveriesSteer(r, "cancel", "Cancel a delivery that has not finished", (*client.Client).CancelDelivery),
	)
	return cmd
}

func deliveriesGet(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a delivery and its attempts",
		Args:  exactArgs(1, "a delivery id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Delivery, error) {
				return c.GetDelivery(cmd.Context(), args[0])
			}, func(w io.Writer, d client.Delivery) {
				row(w, "ID", d.ID)
				row(w, "EVENT", d.EventID)
				row(w, "SUBSCRIPTION", d.SubscriptionID)
				row(w, "URL", d.URL)
				row(w, "STATUS", d.Status)
				row(w, "NEXT ATTEMPT", when(d.NextAttemptAt))
				row(w, "WORKFLOW", d.WorkflowID)
				row(w, "RUN", orDash(d.RunID))
				fmt.Fprintln(w)
				row(w, "ATTEMPT", "STARTED", "DURATION", "STATUS CODE", "ERROR")
				for _, a := range d.Attempts {
					code := "-"
					if a.StatusCode != nil {
						code = fmt.Sprint(*a.StatusCode)
					}
					row(w, a.Attempt, when(&a.StartedAt), fmt.Sprintf("%dms", a.DurationMS), code, orDash(a.Error))
				}
			})
		},
	}
}

// deliveriesSteer is retry or cancel: a signal to the delivery's workflow.
func deliveriesSteer(r *remote, use, short string, call func(*client.Client, context.Context, string) (client.Steered, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Args:  exactArgs(1, "a delivery id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client(cmd)
			if err != nil {
				return err
			}
			res, err := call(c, cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return r.print(cmd, res, func(w io.Writer) {
				row(w, "ID", res.ID)
				row(w, "STATUS", res.Status)
				row(w, "WORKFLOW", res.WorkflowID)
				row(w, "RUN", orDash(res.RunID))
			})
		},
	}
}

func deliveriesTable(w io.Writer, ds []client.DeliverySummary) {
	row(w, "DELIVERY", "EVENT", "SUBSCRIPTION", "STATUS", "ATTEMPTS")
	for _, d := range ds {
		row(w, d.ID, orDash(d.EventID), d.SubscriptionID, d.Status, d.Attempts)
	}
}
