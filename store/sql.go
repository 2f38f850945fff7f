package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/hookflow/hookflow/store/migrations"
)

// SQL implements Store over database/sql for SQLite and PostgreSQL. The
// queries are written once with "?" placeholders and rebound for PostgreSQL.
type SQL struct {
	db       *sql.DB
	postgres bool
}

var _ Store = (*SQL)(nil)

// Open connects to the database named by url (sqlite://PATH or
// postgres://...) and brings its schema up to date.
func Open(ctx context.Context, url string) (*SQL, error) {
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
	provider, err := goose.NewProvider(dialect, s.db, fsys)
	if err == nil {
		_, err = provider.Up(ctx)
	}
	if err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	return s, nil
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

func (s *SQL) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
func (s *SQL) Close() error                   { return s.db.Close() }

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
	headers, retry, err := encodeSubscriptionJSON(sub)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO subscriptions (`+subscriptionColumns+`)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`),
			sub.ID, sub.URL, sub.Description, sub.Secret, sub.PreviousSecret, micros(sub.PreviousSecretExpiresAt),
			headers, retry, sub.Timeout.Milliseconds(), sub.Status, micros(sub.CreatedAt), micros(sub.UpdatedAt))
		if err != nil {
			return fmt.Errorf("store: insert subscription: %w", err)
		}
		return s.insertPatterns(ctx, tx, sub.ID, sub.EventTypes)
	})
}

func (s *SQL) insertPatterns(ctx context.Context, tx *sql.Tx, id string, patterns []string) error {
	seen := map[string]bool{}
	for _, p := range patterns {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO subscription_event_types (pattern, subscription_id) VALUES (?,?)`), p, id); err != nil {
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
			WHERE id > ? ORDER BY id LIMIT ?`, p.After, p.Limit)
	}
	return s.matching(ctx, p.EventType, p.After, p.Limit, false)
}

func (s *SQL) MatchSubscriptions(ctx context.Context, eventType, after string, limit int) ([]Subscription, error) {
	return s.matching(ctx, eventType, after, limit, true)
}

func (s *SQL) matching(ctx context.Context, eventType, after string, limit int, activeOnly bool) ([]Subscription, error) {
	patterns := MatchPatterns(eventType)
	args := []any{}
	for _, p := range patterns {
		args = append(args, p)
	}
	args = append(args, after, limit)
	status := ""
	if activeOnly {
		status = ` AND status = '` + SubscriptionActive + `'`
	}
	return s.querySubscriptions(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE id IN (SELECT subscription_id FROM subscription_event_types WHERE pattern IN (`+placeholders(len(patterns))+`))
		AND id > ?`+status+` ORDER BY id LIMIT ?`, args...)
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

func (s *SQL) loadPatterns(ctx context.Context, db querier, subs []Subscription) error {
	if len(subs) == 0 {
		return nil
	}
	index := make(map[string]int, len(subs))
	args := make([]any, len(subs))
	for i, sub := range subs {
		index[sub.ID] = i
		args[i] = sub.ID
	}
	rows, err := db.QueryContext(ctx, s.q(`SELECT subscription_id, pattern FROM subscription_event_types
		WHERE subscription_id IN (`+placeholders(len(subs))+`) ORDER BY subscription_id, pattern`), args...)
	if err != nil {
		return fmt.Errorf("store: query event types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, pattern string
		if err := rows.Scan(&id, &pattern); err != nil {
			return err
		}
		subs[index[id]].EventTypes = append(subs[index[id]].EventTypes, pattern)
	}
	return rows.Err()
}

func (s *SQL) UpdateSubscription(ctx context.Context, sub Subscription) error {
	headers, retry, err := encodeSubscriptionJSON(sub)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return s.updateSubscriptionTx(ctx, tx, sub, headers, retry)
	})
}

func (s *SQL) updateSubscriptionTx(ctx context.Context, tx *sql.Tx, sub Subscription, headers, retry string) error {
	res, err := tx.ExecContext(ctx, s.q(`UPDATE subscriptions SET url = ?, description = ?, secret = ?,
		previous_secret = ?, previous_secret_expires_at = ?, headers = ?, retry = ?, timeout_ms = ?,
		status = ?, updated_at = ? WHERE id = ?`),
		sub.URL, sub.Description, sub.Secret, sub.PreviousSecret, micros(sub.PreviousSecretExpiresAt),
		headers, retry, sub.Timeout.Milliseconds(), sub.Status, micros(sub.UpdatedAt), sub.ID)
	if err != nil {
		return fmt.Errorf("store: update subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM subscription_event_types WHERE subscription_id = ?`), sub.ID); err != nil {
		return err
	}
	return s.insertPatterns(ctx, tx, sub.ID, sub.EventTypes)
}

func (s *SQL) DeleteSubscription(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM subscription_event_types WHERE subscription_id = ?`), id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM subscriptions WHERE id = ?`), id)
		if err != nil {
			return fmt.Errorf("store: delete subscription: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// --- events ---

func (s *SQL) CreateEvent(ctx context.Context, e Event) (Event, bool, error) {
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
		return existing, false, ErrConflict
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
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE events SET run_id = ? WHERE id = ?`), runID, id)
	return err
}

func (s *SQL) MarkEventDispatched(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE events SET dispatched = 1 WHERE id = ?`), id)
	return err
}

func (s *SQL) DeleteEvent(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM events WHERE id = ?`), id)
	return err
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
			if _, err := stmt.ExecContext(ctx, d.ID, d.EventID, d.SubscriptionID, d.URL, d.Status, d.WorkflowID, micros(d.UpdatedAt)); err != nil {
				return fmt.Errorf("store: insert delivery: %w", err)
			}
		}
		return nil
	})
}

func (s *SQL) RecordAttempt(ctx context.Context, a Attempt, status string, nextAttemptAt time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// An attempt recorded twice (a worker crashed after writing) keeps the first row.
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO delivery_attempts
			(delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (delivery_id, attempt) DO NOTHING`),
			a.DeliveryID, a.Attempt, micros(a.StartedAt), a.DurationMs, a.StatusCode, a.Error, a.ResponseExcerpt); err != nil {
			return fmt.Errorf("store: insert attempt: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM delivery_attempts WHERE delivery_id = ? AND attempt <= ?`),
			a.DeliveryID, a.Attempt-MaxAttemptsKept); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = ?, updated_at = ?,
			attempts = CASE WHEN attempts < ? THEN ? ELSE attempts END WHERE id = ?`),
			status, micros(nextAttemptAt), micros(time.Now()), a.Attempt, a.Attempt, a.DeliveryID)
		return err
	})
}

func (s *SQL) SetDeliveryStatus(ctx context.Context, id, status string, nextAttemptAt time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE deliveries SET status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`),
		status, micros(nextAttemptAt), micros(time.Now()), id)
	return err
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
			return nil, err
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
			return nil, err
		}
		a.StartedAt = fromMicros(started)
		as = append(as, a)
	}
	return as, rows.Err()
}
