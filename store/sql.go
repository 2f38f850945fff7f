package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookflow/hookflow/secretbox"
	"github.com/hookflow/hookflow/store/migrations"
)

// SQL implements Store over database/sql for SQLite and PostgreSQL. The
// queries are written once with "?" placeholders and rebound for PostgreSQL.
type SQL struct {
	db       *sql.DB
	postgres bool
	// box seals subscriber secrets at rest; nil stores them as given.
	box *secretbox.Box
}

var _ Store = (*SQL)(nil)

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
		s.db, err = sql.Open("sqlite", dsn)
		dialect, fsys = goose.DialectSQLite3, mustSub(migrations.SQLite, "sqlite")
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s.postgres = true
		s.db, err = sql.Open("pgx", url)
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
		return err
	}
	h := fnv.New64a()
	h.Write([]byte("hookflow migrations " + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300), // poll every second, for up to five minutes
	)
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, s.db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return err
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
		provider, err := goose.NewProvider(dialect, s.db, fsys)
		if err != nil {
			return err
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

// q rewrites "?" placeholders as "$1, $2, ..." for PostgreSQL.
func (s *SQL) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Ping reports whether the database answers.
func (s *SQL) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close closes every connection.
func (s *SQL) Close() error { return s.db.Close() }

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

func (s *SQL) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// --- subscriptions ---

const subscriptionColumns = `id, url, description, secret, previous_secret, previous_secret_expires_at,
	headers, retry, timeout_ms, status, created_at, updated_at`

func (s *SQL) CreateSubscription(ctx context.Context, sub Subscription) error {
	sub, err := s.sealSecrets(sub)
	if err != nil {
		return err
	}
	headers, retry, err := encodeSubscriptionJSON(sub)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO subscriptions (`+subscriptionColumns+`)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`),
			sub.ID, sub.URL, sub.Description, sub.Secret, sub.PreviousSecret, micros(sub.PreviousSecretExpiresAt),
			headers, retry, sub.Timeout.Milliseconds(), sub.Status, micros(sub.CreatedAt), micros(sub.UpdatedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: subscription %s exists: %w", sub.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: insert subscription: %w", err)
		}
		return s.insertPatterns(ctx, tx, sub)
	})
}

// insertPatterns records the event types of sub with its activity, which
// MatchSubscriptions reads from the same index. Every write of a
// subscription's status goes through here (create and update rewrite the
// rows), so the copy cannot drift from subscriptions.status.
func (s *SQL) insertPatterns(ctx context.Context, tx *sql.Tx, sub Subscription) error {
	active := 0
	if sub.Status == SubscriptionActive {
		active = 1
	}
	seen := map[string]bool{}
	for _, p := range sub.EventTypes {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO subscription_event_types (pattern, subscription_id, active) VALUES (?,?,?)`),
			p, sub.ID, active); err != nil {
			return fmt.Errorf("store: insert event type: %w", err)
		}
	}
	return nil
}

func encodeSubscriptionJSON(sub Subscription) (headers, retry string, err error) {
	h := sub.Headers
	if h == nil {
		h = map[string]string{}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", "", err
	}
	if sub.Retry != nil {
		rb, err := json.Marshal(sub.Retry)
		if err != nil {
			return "", "", err
		}
		retry = string(rb)
	}
	return string(hb), retry, nil
}

func (s *SQL) GetSubscription(ctx context.Context, id string) (Subscription, error) {
	subs, err := s.querySubscriptions(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = ?`, id)
	if err != nil {
		return Subscription{}, err
	}
	if len(subs) == 0 {
		return Subscription{}, ErrNotFound
	}
	return subs[0], nil
}

func (s *SQL) ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) ([]Subscription, error) {
	if p.EventType == "" {
		return s.querySubscriptions(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE id > ? ORDER BY id LIMIT ?`, p.After, pageLimit(p.Limit))
	}
	return s.matching(ctx, p.EventType, p.After, p.Limit, false)
}

func (s *SQL) MatchSubscriptions(ctx context.Context, eventType, after string, limit int) ([]Subscription, error) {
	return s.matching(ctx, eventType, after, limit, true)
}

// matching returns a page of the subscriptions whose patterns receive
// eventType. Each pattern contributes at most one page of ids after the
// cursor, read in order from an index, and the page is the first limit ids
// of their union: a page costs (patterns x limit) index entries however many
// subscriptions match, so paging through every match stays linear. With
// activeOnly the index is (pattern, active, subscription_id), otherwise the
// primary key (pattern, subscription_id).
func (s *SQL) matching(ctx context.Context, eventType, after string, limit int, activeOnly bool) ([]Subscription, error) {
	limit = pageLimit(limit)
	active := ""
	if activeOnly {
		active = " AND active = 1"
	}
	var (
		arms []string
		args []any
		seen = map[string]bool{}
	)
	for _, p := range MatchPatterns(eventType) {
		if seen[p] {
			continue
		}
		seen[p] = true
		arms = append(arms, `SELECT subscription_id FROM (SELECT subscription_id FROM subscription_event_types
			WHERE pattern = ?`+active+` AND subscription_id > ? ORDER BY subscription_id LIMIT ?) AS arm`)
		args = append(args, p, after, limit)
	}
	status := ""
	if activeOnly {
		status = ` AND status = '` + SubscriptionActive + `'`
	}
	args = append(args, limit)
	return s.querySubscriptions(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE id IN (`+strings.Join(arms, " UNION ")+`)`+status+` ORDER BY id LIMIT ?`, args...)
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *SQL) querySubscriptions(ctx context.Context, query string, args ...any) ([]Subscription, error) {
	return s.querySubscriptionsOn(ctx, s.db, query, args...)
}

func (s *SQL) querySubscriptionsOn(ctx context.Context, db querier, query string, args ...any) ([]Subscription, error) {
	rows, err := db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: query subscriptions: %w", err)
	}
	defer rows.Close()
	var subs []Subscription
	for rows.Next() {
		var (
			sub                       Subscription
			headers, retry            string
			prevExp, created, updated int64
			timeoutMs                 int64
		)
		if err := rows.Scan(&sub.ID, &sub.URL, &sub.Description, &sub.Secret, &sub.PreviousSecret, &prevExp,
			&headers, &retry, &timeoutMs, &sub.Status, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: scan subscription: %w", err)
		}
		if err := s.openSecrets(&sub); err != nil {
			return nil, err
		}
		sub.PreviousSecretExpiresAt, sub.CreatedAt, sub.UpdatedAt = fromMicros(prevExp), fromMicros(created), fromMicros(updated)
		sub.Timeout = time.Duration(timeoutMs) * time.Millisecond
		if err := json.Unmarshal([]byte(headers), &sub.Headers); err != nil {
			return nil, fmt.Errorf("store: decode headers of %s: %w", sub.ID, err)
		}
		if retry != "" {
			sub.Retry = &RetryOverride{}
			if err := json.Unmarshal([]byte(retry), sub.Retry); err != nil {
				return nil, fmt.Errorf("store: decode retry of %s: %w", sub.ID, err)
			}
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return subs, s.loadPatterns(ctx, db, subs)
}

// patternBatch bounds the ids of one event-type query, well below the
// parameter limits of SQLite (32766) and PostgreSQL (65535).
const patternBatch = 500

// loadPatterns fills in the event types of subs, sorted.
func (s *SQL) loadPatterns(ctx context.Context, db querier, subs []Subscription) error {
	index := make(map[string]int, len(subs))
	for i, sub := range subs {
		index[sub.ID] = i
	}
	for start := 0; start < len(subs); start += patternBatch {
		batch := subs[start:min(start+patternBatch, len(subs))]
		args := make([]any, len(batch))
		for i, sub := range batch {
			args[i] = sub.ID
		}
		if err := s.loadPatternBatch(ctx, db, subs, index, args); err != nil {
			return err
		}
	}
	return nil
}

func (s *SQL) loadPatternBatch(ctx context.Context, db querier, subs []Subscription, index map[string]int, ids []any) error {
	rows, err := db.QueryContext(ctx, s.q(`SELECT subscription_id, pattern FROM subscription_event_types
		WHERE subscription_id IN (`+placeholders(len(ids))+`) ORDER BY subscription_id, pattern`), ids...)
	if err != nil {
		return fmt.Errorf("store: query event types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, pattern string
		if err := rows.Scan(&id, &pattern); err != nil {
			return fmt.Errorf("store: scan event type: %w", err)
		}
		subs[index[id]].EventTypes = append(subs[index[id]].EventTypes, pattern)
	}
	return rows.Err()
}

func (s *SQL) UpdateSubscription(ctx context.Context, sub Subscription) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return s.updateSubscriptionTx(ctx, tx, sub)
	})
}

// updateSubscriptionTx writes sub (secrets in plaintext) within tx.
func (s *SQL) updateSubscriptionTx(ctx context.Context, tx *sql.Tx, sub Subscription) error {
	sub, err := s.sealSecrets(sub)
	if err != nil {
		return err
	}
	headers, retry, err := encodeSubscriptionJSON(sub)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE subscriptions SET url = ?, description = ?, secret = ?,
		previous_secret = ?, previous_secret_expires_at = ?, headers = ?, retry = ?, timeout_ms = ?,
		status = ?, updated_at = ? WHERE id = ?`),
		sub.URL, sub.Description, sub.Secret, sub.PreviousSecret, micros(sub.PreviousSecretExpiresAt),
		headers, retry, sub.Timeout.Milliseconds(), sub.Status, micros(sub.UpdatedAt), sub.ID)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: update subscription %s: %w", sub.ID, err)
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM subscription_event_types WHERE subscription_id = ?`), sub.ID); err != nil {
		return fmt.Errorf("store: replace event types: %w", err)
	}
	return s.insertPatterns(ctx, tx, sub)
}

func (s *SQL) DeleteSubscription(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM subscription_event_types WHERE subscription_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete event types: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM subscriptions WHERE id = ?`), id)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: delete subscription %s: %w", id, err)
		}
		return nil
	})
}

// --- events ---

func (s *SQL) CreateEvent(ctx context.Context, e Event) (Event, bool, error) {
	// What is returned is what is stored: microseconds in UTC, not dispatched.
	e.CreatedAt, e.Dispatched = fromMicros(micros(e.CreatedAt)), false
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO events (id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at)
		VALUES (?,?,?,?,?,?,0,?) ON CONFLICT (id) DO NOTHING`),
		e.ID, e.Type, e.Payload, e.BodyHash, e.WorkflowID, e.RunID, micros(e.CreatedAt))
	if err != nil {
		return Event{}, false, fmt.Errorf("store: insert event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return e, true, nil
	}
	existing, err := s.GetEvent(ctx, e.ID)
	if err != nil {
		return Event{}, false, err
	}
	if existing.BodyHash != e.BodyHash {
		return existing, false, fmt.Errorf("store: event %s exists with another body: %w", e.ID, ErrConflict)
	}
	return existing, false, nil
}

func (s *SQL) GetEvent(ctx context.Context, id string) (Event, error) {
	var (
		e          Event
		dispatched int
		created    int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at
		FROM events WHERE id = ?`), id).Scan(&e.ID, &e.Type, &e.Payload, &e.BodyHash, &e.WorkflowID, &e.RunID, &dispatched, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("store: get event: %w", err)
	}
	e.Dispatched, e.CreatedAt = dispatched == 1, fromMicros(created)
	return e, nil
}

func (s *SQL) SetEventRun(ctx context.Context, id, runID string) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE events SET run_id = ? WHERE id = ?`), runID, id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: set run of event %s: %w", id, err)
	}
	return nil
}

func (s *SQL) MarkEventDispatched(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE events SET dispatched = 1 WHERE id = ?`), id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: mark event %s dispatched: %w", id, err)
	}
	return nil
}

// DeleteEvent forgets the event with its deliveries and their attempts, so
// that nothing is left pointing at an event that no longer exists.
func (s *SQL) DeleteEvent(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM events WHERE id = ?`), id)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: delete event %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM delivery_attempts
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?)`), id); err != nil {
			return fmt.Errorf("store: delete attempts of event %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM deliveries WHERE event_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete deliveries of event %s: %w", id, err)
		}
		return nil
	})
}

// --- deliveries ---

func (s *SQL) AddDeliveries(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO deliveries
			(id, event_id, subscription_id, url, status, attempts, next_attempt_at, workflow_id, updated_at)
			VALUES (?,?,?,?,?,0,0,?,?) ON CONFLICT (id) DO NOTHING`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			status := d.Status
			if status == "" {
				status = DeliveryPending
			}
			if _, err := stmt.ExecContext(ctx, d.ID, d.EventID, d.SubscriptionID, d.URL, status, d.WorkflowID, micros(d.UpdatedAt)); err != nil {
				return fmt.Errorf("store: insert delivery: %w", err)
			}
		}
		return nil
	})
}

// RecordAttempt logs a and, unless a newer attempt was recorded already,
// moves the delivery to status and nextAttemptAt. Attempt numbers must grow
// over the whole life of a delivery (a new round after a manual retry goes
// on counting): an attempt recorded twice (the activity ran again after a
// crash) keeps its first row. Attempts is the highest number recorded.
func (s *SQL) RecordAttempt(ctx context.Context, a Attempt, status string, nextAttemptAt time.Time) error {
	a.Error, a.ResponseExcerpt = cleanText(a.Error), cleanText(a.ResponseExcerpt)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// The right-hand sides all read the row as it was before the update.
		// A cancelled delivery stays cancelled, whatever an attempt that was
		// still running reports.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET
			status = CASE WHEN attempts <= ? AND status <> ? THEN ? ELSE status END,
			next_attempt_at = CASE WHEN attempts <= ? AND status <> ? THEN ? ELSE next_attempt_at END,
			attempts = CASE WHEN attempts < ? THEN ? ELSE attempts END,
			updated_at = ?
			WHERE id = ?`),
			a.Attempt, DeliveryCancelled, status, a.Attempt, DeliveryCancelled, micros(nextAttemptAt),
			a.Attempt, a.Attempt, micros(time.Now()), a.DeliveryID)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: record attempt of delivery %s: %w", a.DeliveryID, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO delivery_attempts
			(delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (delivery_id, attempt) DO NOTHING`),
			a.DeliveryID, a.Attempt, micros(a.StartedAt), a.DurationMs, a.StatusCode, a.Error, a.ResponseExcerpt); err != nil {
			return fmt.Errorf("store: insert attempt: %w", err)
		}
		// Keep the newest MaxAttemptsKept, counted from the highest number, so
		// that a late, older attempt cannot stretch the log either.
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM delivery_attempts WHERE delivery_id = ?
			AND attempt <= (SELECT attempts FROM deliveries WHERE id = ?) - ?`),
			a.DeliveryID, a.DeliveryID, MaxAttemptsKept); err != nil {
			return fmt.Errorf("store: trim attempts: %w", err)
		}
		return nil
	})
}

func (s *SQL) SetDeliveryStatus(ctx context.Context, id, status string, nextAttemptAt time.Time) error {
	// A cancelled delivery stays cancelled.
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE deliveries SET
		status = CASE WHEN status = ? THEN status ELSE ? END,
		next_attempt_at = CASE WHEN status = ? THEN next_attempt_at ELSE ? END,
		updated_at = ? WHERE id = ?`),
		DeliveryCancelled, status, DeliveryCancelled, micros(nextAttemptAt), micros(time.Now()), id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: set status of delivery %s: %w", id, err)
	}
	return nil
}

const deliveryColumns = `id, event_id, subscription_id, url, status, attempts, next_attempt_at, workflow_id, updated_at`

func (s *SQL) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	ds, err := s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id)
	if err != nil {
		return Delivery{}, err
	}
	if len(ds) == 0 {
		return Delivery{}, ErrNotFound
	}
	return ds[0], nil
}

func (s *SQL) ListDeliveries(ctx context.Context, eventID string) ([]Delivery, error) {
	return s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = ? ORDER BY id`, eventID)
}

func (s *SQL) queryDeliveries(ctx context.Context, query string, args ...any) ([]Delivery, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: query deliveries: %w", err)
	}
	defer rows.Close()
	var ds []Delivery
	for rows.Next() {
		var (
			d             Delivery
			next, updated int64
		)
		if err := rows.Scan(&d.ID, &d.EventID, &d.SubscriptionID, &d.URL, &d.Status, &d.Attempts, &next, &d.WorkflowID, &updated); err != nil {
			return nil, fmt.Errorf("store: scan delivery: %w", err)
		}
		d.NextAttemptAt, d.UpdatedAt = fromMicros(next), fromMicros(updated)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

func (s *SQL) ListAttempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt
		FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt`), deliveryID)
	if err != nil {
		return nil, fmt.Errorf("store: query attempts: %w", err)
	}
	defer rows.Close()
	var as []Attempt
	for rows.Next() {
		var (
			a       Attempt
			started int64
		)
		if err := rows.Scan(&a.DeliveryID, &a.Attempt, &started, &a.DurationMs, &a.StatusCode, &a.Error, &a.ResponseExcerpt); err != nil {
			return nil, fmt.Errorf("store: scan attempt: %w", err)
		}
		a.StartedAt = fromMicros(started)
		as = append(as, a)
	}
	return as, rows.Err()
}
