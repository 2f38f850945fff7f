// Package migrations embeds the schema of each database dialect, applied by
// goose at start. A change to the schema is a new numbered file in both
// folders; released files are never edited.
package migrations

import "embed"

// SQLite holds the migrations for SQLite, under "sqlite".
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Postgres holds the migrations for PostgreSQL, under "postgres".
//
//go:embed postgres/*.sql
var Postgres embed.FS
