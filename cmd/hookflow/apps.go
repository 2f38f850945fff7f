package main

import (
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/client"
)

func newAppsCommand() *cobra.Command {
	r := &remote{}
	cmd := groupCommand("apps", "Create and remove applications; mint and revoke their tokens",
		`An application is one consumer of the platform (a customer, a partner): its
subscriptions, events and deliveries are its own, and its tokens reach
nothing else. Every other client command takes --app to work inside one.
These commands need an admin API key.`)
	cmd.Aliases = []string{"app", "applications"}
	addRemoteFlags(cmd, r)
	cmd.AddCommand(appsCreate(r), appsList(r), appsGet(r), appsUpdate(r), appsDelete(r), appsPortalLink(r), newTokensCommand(r))
	return cmd
}

func appsCreate(r *remote) *cobra.Command {
	var (
		in   client.NewApplication
		meta []string
	)
	cmd := &cobra.Command{
		Use:     "create --name NAME [--id ID]",
		Short:   "Create an application",
		Example: `  hookflow apps create --id acme --name "Acme Corp" --metadata plan=enterprise`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.Metadata, err = parsePairs("--metadata", meta); err != nil {
				return usageError{cmd: cmd, err: err}
			}
			return call(r, cmd, func(c *client.Client) (client.Application, error) {
				return c.CreateApplication(cmd.Context(), in)
			}, applicationTable)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.ID, "id", "", "URL-safe id (letters, digits, _ . : -); generated when left out")
	f.StringVar(&in.Name, "name", "", "a name for people (required)")
	f.StringArrayVar(&meta, "metadata", nil, "KEY=VALUE to keep with it; repeat for more")
	mustRequire(cmd, "name")
	return cmd
}

func appsList(r *remote) *cobra.Command {
	var p client.ListParams
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List applications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(r, cmd, func(c *client.Client) (client.Page[client.Application], error) {
				return c.ListApplications(cmd.Context(), p)
			}, func(w io.Writer, page client.Page[client.Application]) {
				row(w, "ID", "NAME", "CREATED")
				for _, a := range page.Data {
					row(w, a.ID, a.Name, when(&a.CreatedAt))
				}
				nextPage(w, page.NextCursor)
			})
		},
	}
	addPageFlags(cmd, &p)
	return cmd
}

func appsGet(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one application",
		Args:  exactArgs(1, "an application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Application, error) {
				return c.GetApplication(cmd.Context(), args[0])
			}, applicationTable)
		},
	}
}

func appsUpdate(r *remote) *cobra.Command {
	var (
		name string
		meta []string
	)
	cmd := &cobra.Command{
		Use:   "update ID [--name NAME] [--metadata KEY=VALUE ...]",
		Short: "Rename an application or replace its metadata",
		Args:  exactArgs(1, "an application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p client.ApplicationPatch
			if cmd.Flags().Changed("name") {
				p.Name = &name
			}
			if cmd.Flags().Changed("metadata") {
				m, err := parsePairs("--metadata", meta)
				if err != nil {
					return usageError{cmd: cmd, err: err}
				}
				p.Metadata = m
			}
			return call(r, cmd, func(c *client.Client) (client.Application, error) {
				return c.UpdateApplication(cmd.Context(), args[0], p)
			}, applicationTable)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringArrayVar(&meta, "metadata", nil, "KEY=VALUE; the given ones replace all")
	return cmd
}

func appsDelete(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an application: its subscriptions and tokens go, its unfinished deliveries are cancelled",
		Args:  exactArgs(1, "an application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (deleted, error) {
				return deleted{ID: args[0], Deleted: true}, c.DeleteApplication(cmd.Context(), args[0])
			}, func(w io.Writer, d deleted) { row(w, "DELETED", d.ID) })
		},
	}
}

func appsPortalLink(r *remote) *cobra.Command {
	var expiresIn time.Duration
	cmd := &cobra.Command{
		Use:   "portal-link APP [--expires-in 1h]",
		Short: "Mint a subscriber portal link for an application's developers",
		Long: `Mint a link that opens the subscriber portal (/portal/) signed in as the
application, with an application token in the link's fragment (so that it
never reaches a server log). Hand it to the application's developers; it
stops working when the token expires or is revoked (apps tokens revoke).`,
		Example: `  hookflow apps portal-link acme --expires-in 30m`,
		Args:    exactArgs(1, "an application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.PortalLink, error) {
				return c.PortalAccess(cmd.Context(), args[0], expiresIn)
			}, func(w io.Writer, l client.PortalLink) {
				row(w, "URL", l.URL)
				row(w, "EXPIRES", when(&l.ExpiresAt))
			})
		},
	}
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "how long the link works (default: the server's, 1h)")
	return cmd
}

// deleted is what a delete prints, the API answering with no body.
type deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

func newTokensCommand(r *remote) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Mint, list and revoke an application's tokens",
		Long: `An application token (hfat_...) reaches its own application's routes and
nothing else: give it to that consumer, or to a service acting for it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(tokensCreate(r), tokensList(r), tokensRevoke(r))
	return cmd
}

func tokensCreate(r *remote) *cobra.Command {
	var in client.NewToken
	cmd := &cobra.Command{
		Use:     "create APP [--expires-in 720h] [--description TEXT]",
		Short:   "Mint a token for an application; printed once, keep it",
		Example: `  hookflow apps tokens create acme --expires-in 24h --description "acme's CI"`,
		Args:    exactArgs(1, "an application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.MintedToken, error) {
				return c.MintToken(cmd.Context(), args[0], in)
			}, func(w io.Writer, t client.MintedToken) {
				row(w, "ID", t.ID)
				row(w, "TOKEN", t.Token)
				row(w, "EXPIRES", when(&t.ExpiresAt))
			})
		},
	}
	cmd.Flags().DurationVar(&in.ExpiresIn, "expires-in", 0, "lifetime, at most a year (default: the server's)")
	cmd.Flags().StringVar(&in.Description, "description", "", "what or who it is for")
	return cmd
}

func tokensList(r *remote) *cobra.Command {
	var p client.ListParams
	cmd := &cobra.Command{
		Use:   "list APP",
		Short: "List an application's tokens (never their secret part)",
		Args:  exactArgs(1, "an application id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (client.Page[client.Token], error) {
				return c.ListTokens(cmd.Context(), args[0], p)
			}, func(w io.Writer, page client.Page[client.Token]) {
				row(w, "ID", "STATE", "EXPIRES", "DESCRIPTION")
				for _, t := range page.Data {
					row(w, t.ID, tokenState(t, time.Now()), when(&t.ExpiresAt), orDash(t.Description))
				}
				nextPage(w, page.NextCursor)
			})
		},
	}
	addPageFlags(cmd, &p)
	return cmd
}

func tokenState(t client.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case !t.ExpiresAt.After(now):
		return "expired"
	}
	return "valid"
}

func tokensRevoke(r *remote) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke APP TOKEN_ID",
		Short: "Revoke a token at once",
		Args:  exactArgs(2, "an application id and a token id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(r, cmd, func(c *client.Client) (deleted, error) {
				return deleted{ID: args[1], Deleted: true}, c.RevokeToken(cmd.Context(), args[0], args[1])
			}, func(w io.Writer, d deleted) { row(w, "REVOKED", d.ID) })
		},
	}
}

func applicationTable(w io.Writer, a client.Application) {
	row(w, "ID", a.ID)
	row(w, "NAME", a.Name)
	keys := make([]string, 0, len(a.Metadata))
	for k := range a.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row(w, "METADATA", k+"="+a.Metadata[k])
	}
	row(w, "CREATED", when(&a.CreatedAt))
	row(w, "UPDATED", when(&a.UpdatedAt))
}

func addPageFlags(cmd *cobra.Command, p *client.ListParams) {
	cmd.Flags().IntVar(&p.Limit, "limit", 0, "page size (default: the server's)")
	cmd.Flags().StringVar(&p.Cursor, "cursor", "", "the next page after a list that printed this cursor")
}
