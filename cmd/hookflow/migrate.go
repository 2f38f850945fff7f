package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/store"
)

func newMigrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "migrate",
		Short:   "Apply the store's database migrations and exit",
		GroupID: groupServer,
		Long: `Apply every store migration HOOKFLOW_DATABASE_URL's database lacks, then
exit: a deploy pipeline runs it before rolling out new API and worker
processes. It is safe to run again, and beside running processes
(PostgreSQL migrations take an advisory lock). serve, api and worker also
migrate when they start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			s, err := store.Open(cmd.Context(), cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("migrate %s: %w", redactURL(cfg.DatabaseURL), err)
			}
			if err := s.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "migrated %s: the schema is up to date\n", redactURL(cfg.DatabaseURL))
			return nil
		},
	}
}

// redactURL hides a database URL's password, for messages.
func redactURL(raw string) string {
	if strings.HasPrefix(raw, "sqlite://") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "HOOKFLOW_DATABASE_URL"
	}
	return u.Redacted()
}
