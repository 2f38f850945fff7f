package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookflow/hookflow/client"
)

// Defaults of the client flags; the environment variables named in each
// flag's help come before them, the flags before both.
const (
	defaultURL     = "http://127.0.0.1:8080"
	defaultTimeout = 30 * time.Second
)

// remote is what every client command shares: where the API is, the key,
// the application, and how to print.
type remote struct {
	url     string
	apiKey  string
	app     string
	json    bool
	timeout time.Duration
}

// addRemoteFlags puts the shared client flags on a command group (as
// persistent flags, so `hookflow events send --json` and `hookflow events
// --json send` both work).
func addRemoteFlags(cmd *cobra.Command, r *remote) {
	f := cmd.PersistentFlags()
	// Not --url: that is the subscriber's URL in `subscriptions create`.
	f.StringVar(&r.url, "hookflow-url", defaultURL, "Hookflow's base URL (env HOOKFLOW_URL)")
	f.StringVar(&r.apiKey, "api-key", "", "API key, one of the server's HOOKFLOW_API_KEYS (env HOOKFLOW_API_KEY; the variable keeps it out of ps)")
	f.StringVar(&r.app, "app", "", `application id (env HOOKFLOW_APP); empty: the top-level routes, the application "default"`)
	f.BoolVar(&r.json, "json", false, "print the API's answer as JSON instead of a table")
	f.DurationVar(&r.timeout, "timeout", defaultTimeout, "how long one request may take")
}

// client builds the API client from the flags, or from the environment
// for a flag left unset.
func (r *remote) client(cmd *cobra.Command) (*client.Client, error) {
	flags := cmd.Flags()
	url := fromEnv(flags, "hookflow-url", "HOOKFLOW_URL", r.url)
	key := fromEnv(flags, "api-key", "HOOKFLOW_API_KEY", r.apiKey)
	app := fromEnv(flags, "app", "HOOKFLOW_APP", r.app)
	c, err := client.New(url, key, client.WithUserAgent("hookflow-cli/"+readBuildVersion().Version),
		client.WithHTTPClient(&http.Client{Timeout: r.timeout}))
	if err != nil {
		return nil, err
	}
	return c.ForApp(app), nil
}

// fromEnv is the flag's value when it was given, else the environment
// variable's when that is set, else the flag's default.
func fromEnv(flags *pflag.FlagSet, flag, env, value string) string {
	if flags.Changed(flag) {
		return value
	}
	if v, ok := os.LookupEnv(env); ok && v != "" {
		return v
	}
	return value
}

// print prints one answer: as JSON with --json, else as the table the
// command draws.
func (r *remote) print(cmd *cobra.Command, v any, table func(w io.Writer)) error {
	out := cmd.OutOrStdout()
	if r.json {
		return writeJSON(out, v)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes tab-separated cells and a newline.
func row(w io.Writer, cells ...any) {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(w, strings.Join(s, "\t"))
}

// when prints a time for people: UTC, to the second; "-" for none.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash is s, or "-" when it is empty, so that table columns stay put.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// groupCommand is a parent such as `hookflow events`, which only groups.
func groupCommand(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		GroupID: groupClient,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
}

// call is the body of most client commands: build the client, make one
// call, print its answer as JSON or as the command's table.
func call[T any](r *remote, cmd *cobra.Command, do func(*client.Client) (T, error), table func(io.Writer, T)) error {
	c, err := r.client(cmd)
	if err != nil {
		return err
	}
	v, err := do(c)
	if err != nil {
		return err
	}
	return r.print(cmd, v, func(w io.Writer) { table(w, v) })
}

// nextPage tells people how to read on after a list page.
func nextPage(w io.Writer, cursor string) {
	if cursor != "" {
		fmt.Fprintf(w, "\nmore: --cursor %s\n", cursor)
	}
}
