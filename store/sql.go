package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookflow/hookflow/secretbox"
	"github.com/hookflow/hookflow/store/migrations"
)

// SQL implements Store over database/sql for SQLite and PostgreSQL. The
// queries are written once with "?" placeholders; sqlx rebinds them for the
// driver ("$1, $2, ..." for PostgreSQL) and scans rows into the row structs
// next to each query. The queries hold no "?" inside a literal, which the
// rebinding would take for a placeholder: values are always arguments.
//
// The methods live by concept: subscriptions.go (with secrets.go for
// sealing), events.go, deliveries.go (deliveries and their attempts) and
// eventtypes.go.
type SQL struct {
	db       *sqlx.DB
	postgres bool
	// box seals subscriber secrets at rest; nil stores them as given.
	box *secretbox.Box
}

var _ Store = (*SQL)(nil)

// sqlx knows the placeholders of mattn's "sqlite3" driver but not of
// modernc's "sqlite"; both take "?".
func init() { sqlx.BindDriver("sqlite", sqlx.QUESTION) }

// Open connects to the database named by url (sqlite://PATH or
// postgres://...) and brings its schema up to date. Several processes may
// open a fresh database at the same moment (the API and every worker
// replica); the schema is migrated once and none of them fails.
//
// A PostgreSQL URL may name the schema to use with search_path, as in
// postgres://host/db?search_path=hookflow.
func Open(ctx context.Context, url string, opts ...Option) (*SQL, error) {
	var (
		s       = &SQL{}
		dialect goose.Dialect
		fsys    fs.FS
		err     error
	)
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create database folder: %w", err)
			}
		}
		// WAL lets the API read while the worker writes; busy_timeout makes
		// concurrent writers wait for each other instead of failing.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
			"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
		s.db, err = sqlx.Open("sqlite", dsn)
		dialect, fsys = goose.DialectSQLite3, mustSub(migrations.SQLite, "sqlite")
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s.postgres = true
		s.db, err = sqlx.Open("pgx", url)
		dialect, fsys = goose.DialectPostgres, mustSub(migrations.Postgres, "postgres")
	default:
		return nil, fmt.Errorf("store: unsupported database url %q (want sqlite:// or postgres://)", url)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if s.postgres {
		err = s.migratePostgres(ctx, fsys)
	} else {
		err = s.migrateSQLite(ctx, dialect, fsys)
	}
	if err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// migratePostgres runs the migrations under a session advisory lock, so that
// processes starting together wait for one another. The lock is keyed by the
// schema, so that databases holding several Hookflow schemas (tests do) only
// serialise the migrations of one schema.
func (s *SQL) migratePostgres(ctx context.Context, fsys fs.FS) error {
	var schema string
	if err := s.db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("read current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("hookflow migrations " + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300), // poll every second, for up to five minutes
	)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, s.db.DB, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	_, err = provider.Up(ctx)
	return err
}

// migrateSQLite runs the migrations, trying again when another process
// applied the same migration in the meantime: goose has no lock for SQLite,
// and the loser of that race fails on "table already exists" after waiting
// for the winner's transaction. Its next try finds the migration applied.
func (s *SQL) migrateSQLite(ctx context.Context, dialect goose.Dialect, fsys fs.FS) error {
	// Each failed try means another process applied a migration, so a handful
	// of tries covers a crowd of processes starting together.
	const tries = 10
	for try := 1; ; try++ {
		provider, err := goose.NewProvider(dialect, s.db.DB, fsys)
		if err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
		_, err = provider.Up(ctx)
		if err == nil || try == tries {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(try) * 20 * time.Millisecond):
		}
	}
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// Ping reports whether the database answers.
func (s *SQL) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes every connection.
func (s *SQL) Close() error { return s.db.Close() }

// The three helpers below run a query written with "?" placeholders on the
// database or inside a transaction (both are a sqlx.ExtContext), rebound
// for its driver.

func exec(ctx context.Context, db sqlx.ExtContext, query string, args ...any) (sql.Result, error) {
	return db.ExecContext(ctx, db.Rebind(query), args...)
}

// selectRows scans every row into dest, a pointer to a slice of row structs.
func selectRows(ctx context.Context, db sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, db, dest, db.Rebind(query), args...)
}

// getRow scans the one row into dest; no row is sql.ErrNoRows.
func getRow(ctx context.Context, db sqlx.ExtContext, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, db, dest, db.Rebind(query), args...)
}

func (s *SQL) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// forUpdate locks the rows a read in a transaction returns, in PostgreSQL.
// SQLite needs nothing: its transactions take the write lock when they
// begin (_txlock=immediate).
func (s *SQL) forUpdate(query string) string {
	if s.postgres {
		return query + ` FOR UPDATE`
	}
	return query
}

// isUniqueViolation reports whether err is an insert that broke a primary
// key or unique constraint, in either database.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" // unique_violation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// mustAffect turns an update or delete that matched no row into ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// pageLimit turns "no limit" (zero or less) into a bound that both databases
// accept: SQLite reads a negative LIMIT as none, PostgreSQL rejects it.
func pageLimit(limit int) int {
	if limit <= 0 {
		return math.MaxInt32
	}
	return limit
}

// cleanText makes text from the outside world (response bodies cut at a byte
// limit, error strings naming raw bytes) storable as text everywhere:
// PostgreSQL rejects invalid UTF-8 and NUL. Each run of invalid bytes and
// each NUL becomes U+FFFD.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Times are Unix microseconds in the database (see the first migration);
// zero is the zero time.

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
