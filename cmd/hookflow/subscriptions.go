package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/client"
)

func newSubscriptionsCommand() *cobra.Command {
	r := &remote{}
	cmd := groupCommand("subscriptions", "Create, list, change and remove subscriptions",
		`A subscription is a URL that receives the events whose type matches one of
its event types (an exact type, a prefix like "order.*", or "*").`)
	cmd.Aliases = []string{"subscription", "subs"}
	addRemoteFlags(cmd, r)
	cmd.AddCommand(
		subscriptionsCreate(r), subscriptionsList(r), subscriptionsGet(r), subscriptionsUpdate(r),
		subscriptionsStatus(r, "pause", "paused", "Pause a subscription: its deliveries wait instead of being sent"),
		subscriptionsStatus(r, "resume", "active", "Resume a paused subscription (what waited is sent), or re-enable a disabled one"),
		subscriptionsDelete(r), subscriptionsSecret(r), subscriptionsRotate(r),
	)
	return cmd
}

func subscriptionsCreate(r *remote) *cobra.Command {
	var (
		in      client.NewSubscription
		headers []string
		retry   retryFlags
	)
	cmd := &cobra.Command{
		Use:   "create --url URL --event-type TYPE [--event-type TYPE ...]",
		Short: "Subscribe a URL to event types; prints its signing secret",
		Example: `  hookflow subscriptions create --url https://example.com/hooks --event-type 'order.*'
  hookflow subscriptions create --url https://example.com/hooks --event-type order.created,order.paid --header X-Team=billing
  hookflow subscriptions create --url https://example.com/hooks --event-type 'invoice.*' --retry-max-attempts 3 --retry-initial-interval 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.Headers, err = parseHeaders(headers); err != nil {
				return usageError{cmd: cmd, err: err}
			}
			in.Retry, _ = retry.policy(cmd)
			return call(r, cmd, func(c *client.Client) (client.Subscription, error) {
				return c.CreateSubscription(cmd.Context(), in)
			}, func(w io.Writer, sub client.Subscription) { subscriptionTable(w, sub) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.URL, "url", "", "the subscriber's http(s) URL (required)")
	f.StringSliceVar(&in.EventTypes, "event-type", nil, "event type or pattern to receive; repeat or separate with commas (required)")
	f.StringVar(&in.Description, "description", "", "what the subscription is for")
	f.StringVar(&in.Secret, "secret", "", "signing secret (whsec_ and base64); generated when left out")
	f.StringArrayVar(&headers, "header", nil, "NAME=VALUE header sent with every webhook; repeat for more")
	f.Float64Var(&in.TimeoutSeconds, "timeout-seconds", 0, "per-attempt timeout, 1 to 60 (default: the server's)")
	f.Float64Var(&in.RateLimit, "rate-limit", 0, "at most this many requests a second, across every worker (default: no limit)")
	f.IntVar(&in.MaxInFlight, "max-in-flight", 0, "at most this many requests at once, across every worker (default: no cap)")
	retry.add(cmd)
	mustRequire(cmd, "url", "event-type")
	return cmd
}

func subscriptionsList(r *remote) *cobra.Command {
	var p client.ListSubscriptionsParams
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List subscriptions, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(r, cmd, func(c *client.Client) (client.Page[client.Subscription], error) {
				return c.ListSubscriptions(cmd.Context(), p)
			}, func(w io.Writer, page client.Page[client.Subscription]) {
				row(w, "ID", "STATUS", "URL", "EVENT TYPES")
				for _, s := range page.Data {
					row(w, s.ID, s.Status, s.URL, strings.Join(s.EventTypes, ","))
				}
				nextPage(w, page.NextCursor)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.EventType, "event-type", "", "only the subscriptions that receive this event type")
	addPageFlags(cmd, &p.ListParams)
	return cmd
}

func subscriptionsGet(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one subscription",
		Args:  exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Subscription, error) {
				return c.GetSubscription(cmd.Context(), args[0])
			}, func(w io.Writer, sub client.Subscription) { subscriptionTable(w, sub) })
		},
	}
}

func subscriptionsUpdate(r *remote) *cobra.Command {
	var (
		p            client.SubscriptionPatch
		description  string
		headers      []string
		clearHeaders bool
		timeout      float64
		rateLimit    float64
		maxInFlight  int
		clearLimits  bool
		retry        retryFlags
		clearRetry   bool
	)
	cmd := &cobra.Command{
		Use:   "update ID [flags]",
		Short: "Change a subscription; flags left out keep their value",
		Example: `  hookflow subscriptions update sub_01... --url https://example.com/v2/hooks
  hookflow subscriptions update sub_01... --event-type 'order.*' --clear-headers`,
		Args: exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			flags := cmd.Flags()
			if flags.Changed("description") {
				p.Description = client.Value(description)
			}
			if flags.Changed("timeout-seconds") {
				p.TimeoutSeconds = client.Value(timeout)
			}
			if clearLimits && (flags.Changed("rate-limit") || flags.Changed("max-in-flight")) {
				return usageError{cmd: cmd, err: fmt.Errorf("--rate-limit or --max-in-flight and --clear-limits together")}
			}
			if clearLimits {
				p.RateLimit, p.MaxInFlight = client.Null[float64](), client.Null[int]()
			}
			if flags.Changed("rate-limit") {
				p.RateLimit = client.Value(rateLimit)
			}
			if flags.Changed("max-in-flight") {
				p.MaxInFlight = client.Value(maxInFlight)
			}
			switch {
			case clearHeaders && len(headers) > 0:
				return usageError{cmd: cmd, err: fmt.Errorf("--header and --clear-headers together")}
			case clearHeaders:
				p.Headers = client.Null[map[string]string]()
			case len(headers) > 0:
				h, err := parseHeaders(headers)
				if err != nil {
					return usageError{cmd: cmd, err: err}
				}
				p.Headers = client.Value(h)
			}
			switch policy, given := retry.policy(cmd); {
			case clearRetry && given:
				return usageError{cmd: cmd, err: fmt.Errorf("--retry-* and --clear-retry together")}
			case clearRetry:
				p.Retry = client.Null[client.Retry]()
			case given:
				p.Retry = client.Value(*policy)
			}
			return call(r, cmd, func(c *client.Client) (client.Subscription, error) {
				return c.UpdateSubscription(cmd.Context(), args[0], p)
			}, func(w io.Writer, sub client.Subscription) { subscriptionTable(w, sub) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.URL, "url", "", "new URL")
	f.StringSliceVar(&p.EventTypes, "event-type", nil, "new event types (replace all); repeat or separate with commas")
	f.StringVar(&description, "description", "", "new description")
	f.StringArrayVar(&headers, "header", nil, "NAME=VALUE header; the given ones replace all")
	f.BoolVar(&clearHeaders, "clear-headers", false, "remove every header")
	f.Float64Var(&timeout, "timeout-seconds", 0, "new per-attempt timeout, 1 to 60")
	f.Float64Var(&rateLimit, "rate-limit", 0, "new rate limit, requests a second (> 0)")
	f.IntVar(&maxInFlight, "max-in-flight", 0, "new cap on requests at once (1 to 1000)")
	f.BoolVar(&clearLimits, "clear-limits", false, "remove the rate limit and the in-flight cap")
	f.StringVar(&p.Status, "status", "", "active or paused")
	retry.add(cmd)
	f.BoolVar(&clearRetry, "clear-retry", false, "follow the server's retry schedule again")
	return cmd
}

// subscriptionsStatus is pause or resume: a PATCH of the status alone.
func subscriptionsStatus(r *remote, use, status, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Args:  exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Subscription, error) {
				return c.UpdateSubscription(cmd.Context(), args[0], client.SubscriptionPatch{Status: status})
			}, func(w io.Writer, sub client.Subscription) { subscriptionTable(w, sub) })
		},
	}
}

func subscriptionsDelete(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Remove a subscription",
		Args:  exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client(cmd)
			if err != nil {
				return err
			}
			if err := c.DeleteSubscription(cmd.Context(), args[0]); err != nil {
				return err
			}
			out := map[string]string{"id": args[0], "status": "deleted"}
			return r.print(cmd, out, func(w io.Writer) { row(w, "deleted", args[0]) })
		},
	}
}

func subscriptionsSecret(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "secret ID",
		Short: "Print a subscription's current signing secret",
		Args:  exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := r.client(cmd)
			if err != nil {
				return err
			}
			secret, err := c.SubscriptionSecret(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return r.print(cmd, map[string]string{"secret": secret}, func(w io.Writer) { row(w, secret) })
		},
	}
}

func subscriptionsRotate(r *remote) *cobra.Command {
	var secret string
	cmd := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Give a subscription a new secret; the old one signs beside it for the grace period",
		Args:  exactArgs(1, "a subscription id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Subscription, error) {
				return c.RotateSecret(cmd.Context(), args[0], secret)
			}, func(w io.Writer, sub client.Subscription) { subscriptionTable(w, sub) })
		},
	}
	cmd.Flags().StringVar(&secret, "secret", "", "the new secret (whsec_ and base64); generated when left out")
	return cmd
}

// retryFlags are a subscription's own retry schedule; each one left out
// follows the server's.
type retryFlags struct {
	initial, maxInterval, maxDuration time.Duration
	coefficient                       float64
	maxAttempts                       int
}

func (rf *retryFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&rf.maxAttempts, "retry-max-attempts", 0, "attempts per round; 0 is no limit but --retry-max-duration")
	f.DurationVar(&rf.initial, "retry-initial-interval", 0, "first backoff, like 5s")
	f.Float64Var(&rf.coefficient, "retry-backoff-coefficient", 0, "growth of each backoff, 1 to 10")
	f.DurationVar(&rf.maxInterval, "retry-max-interval", 0, "longest backoff, like 4h")
	f.DurationVar(&rf.maxDuration, "retry-max-duration", 0, "how long a round of attempts may last, like 72h")
}

// policy is the schedule the given flags make, and whether any was given.
func (rf *retryFlags) policy(cmd *cobra.Command) (*client.Retry, bool) {
	f := cmd.Flags()
	var r client.Retry
	given := false
	seconds := func(name string, d time.Duration) *float64 {
		if !f.Changed(name) {
			return nil
		}
		given = true
		s := d.Seconds()
		return &s
	}
	r.InitialIntervalSeconds = seconds("retry-initial-interval", rf.initial)
	r.MaxIntervalSeconds = seconds("retry-max-interval", rf.maxInterval)
	r.MaxDurationSeconds = seconds("retry-max-duration", rf.maxDuration)
	if f.Changed("retry-backoff-coefficient") {
		given, r.BackoffCoefficient = true, &rf.coefficient
	}
	if f.Changed("retry-max-attempts") {
		given, r.MaxAttempts = true, &rf.maxAttempts
	}
	if !given {
		return nil, false
	}
	return &r, true
}

func subscriptionTable(w io.Writer, s client.Subscription) {
	row(w, "ID", s.ID)
	row(w, "URL", s.URL)
	row(w, "STATUS", s.Status)
	if s.DisabledReason != "" {
		row(w, "DISABLED", s.DisabledReason)
	}
	if s.FailingSince != nil {
		row(w, "FAILING SINCE", s.FailingSince.UTC().Format(time.RFC3339))
	}
	row(w, "EVENT TYPES", strings.Join(s.EventTypes, ","))
	row(w, "DESCRIPTION", orDash(s.Description))
	names := make([]string, 0, len(s.Headers))
	for k := range s.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		row(w, "HEADER", k+": "+s.Headers[k])
	}
	if s.TimeoutSeconds > 0 {
		row(w, "TIMEOUT", fmt.Sprintf("%gs", s.TimeoutSeconds))
	}
	if s.RateLimit > 0 {
		row(w, "RATE LIMIT", fmt.Sprintf("%g/s", s.RateLimit))
	}
	if s.MaxInFlight > 0 {
		row(w, "MAX IN FLIGHT", fmt.Sprintf("%d", s.MaxInFlight))
	}
	if s.Retry != nil {
		row(w, "RETRY", retryText(*s.Retry))
	}
	if s.Secret != "" {
		row(w, "SECRET", s.Secret)
	}
	if s.PreviousSecretExpiresAt != nil {
		row(w, "PREVIOUS SECRET UNTIL", when(s.PreviousSecretExpiresAt))
	}
	row(w, "CREATED", when(&s.CreatedAt))
	row(w, "UPDATED", when(&s.UpdatedAt))
}

// parseHeaders reads NAME=VALUE pairs.
func parseHeaders(pairs []string) (map[string]string, error) { return parsePairs("--header", pairs) }

// parsePairs reads repeated NAME=VALUE flags into a map; none is nil.
func parsePairs(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		name, value, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%s %q: want NAME=VALUE", flag, p)
		}
		m[strings.TrimSpace(name)] = value
	}
	return m, nil
}

// mustRequire marks flags required; a name that is not a flag is a
// programming error.
func mustRequire(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err)
		}
	}
}

// retryText is a subscription's own schedule in words, the fields it sets.
func retryText(r client.Retry) string {
	var parts []string
	if r.MaxAttempts != nil {
		parts = append(parts, fmt.Sprintf("max %d attempts", *r.MaxAttempts))
	}
	secs := func(label string, v *float64) {
		if v != nil {
			parts = append(parts, label+" "+(time.Duration(*v*float64(time.Second))).String())
		}
	}
	secs("first backoff", r.InitialIntervalSeconds)
	if r.BackoffCoefficient != nil {
		parts = append(parts, fmt.Sprintf("x%g", *r.BackoffCoefficient))
	}
	secs("longest backoff", r.MaxIntervalSeconds)
	secs("for at most", r.MaxDurationSeconds)
	return strings.Join(parts, ", ")
}
