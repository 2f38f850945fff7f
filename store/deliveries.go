package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

const deliveryColumns = `id, application_id, event_id, subscription_id, url, status, attempts, next_attempt_at, workflow_id, created_at, updated_at, resent_from, superseded_by, recovery_id`

// deliveryRow is a row of deliveries as stored.
type deliveryRow struct {
	ID             string `db:"id"`
	ApplicationID  string `db:"application_id"`
	EventID        string `db:"event_id"`
	SubscriptionID string `db:"subscription_id"`
	URL            string `db:"url"`
	Status         string `db:"status"`
	Attempts       int    `db:"attempts"`
	NextAttemptAt  int64  `db:"next_attempt_at"`
	WorkflowID     string `db:"workflow_id"`
	CreatedAt      int64  `db:"created_at"`
	UpdatedAt      int64  `db:"updated_at"`
	ResentFrom     string `db:"resent_from"`
	SupersededBy   string `db:"superseded_by"`
	RecoveryID     string `db:"recovery_id"`
}

// attemptRow is a row of delivery_attempts as stored.
type attemptRow struct {
	DeliveryID      string `db:"delivery_id"`
	Attempt         int    `db:"attempt"`
	StartedAt       int64  `db:"started_at"`
	DurationMs      int64  `db:"duration_ms"`
	StatusCode      int    `db:"status_code"`
	Error           string `db:"error"`
	ResponseExcerpt string `db:"response_excerpt"`
}

func (s *SQL) AddDeliveries(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		stmt, err := tx.PrepareContext(ctx, tx.Rebind(`INSERT INTO deliveries
			(id, application_id, event_id, subscription_id, url, status, attempts, next_attempt_at, workflow_id, created_at, updated_at)
			VALUES (?,?,?,?,?,?,0,0,?,?,?) ON CONFLICT (id) DO NOTHING`))
		if err != nil {
			return fmt.Errorf("store: prepare delivery insert: %w", err)
		}
		defer stmt.Close()
		for _, d := range ds {
			status := d.Status
			if status == "" {
				status = DeliveryPending
			}
			created := d.CreatedAt
			if created.IsZero() {
				created = d.UpdatedAt
			}
			if _, err := stmt.ExecContext(ctx, d.ID, d.ApplicationID, d.EventID, d.SubscriptionID, d.URL, status, d.WorkflowID, micros(created), micros(d.UpdatedAt)); err != nil {
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
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The right-hand sides all read the row as it was before the update.
		// A cancelled delivery stays cancelled, whatever an attempt that was
		// still running reports.
		res, err := exec(ctx, tx, `UPDATE deliveries SET
			status = CASE WHEN attempts <= ? AND status <> ? THEN ? ELSE status END,
			next_attempt_at = CASE WHEN attempts <= ? AND status <> ? THEN ? ELSE next_attempt_at END,
			attempts = CASE WHEN attempts < ? THEN ? ELSE attempts END,
			updated_at = ?
			WHERE id = ?`,
			a.Attempt, DeliveryCancelled, status, a.Attempt, DeliveryCancelled, micros(nextAttemptAt),
			a.Attempt, a.Attempt, micros(time.Now()), a.DeliveryID)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: record attempt of delivery %s: %w", a.DeliveryID, err)
		}
		if _, err := exec(ctx, tx, `INSERT INTO delivery_attempts
			(delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
			a.DeliveryID, a.Attempt, micros(a.StartedAt), a.DurationMs, a.StatusCode, a.Error, a.ResponseExcerpt); err != nil {
			return fmt.Errorf("store: insert attempt: %w", err)
		}
		// Keep the newest MaxAttemptsKept, counted from the highest number, so
		// that a late, older attempt cannot stretch the log either.
		if _, err := exec(ctx, tx, `DELETE FROM delivery_attempts WHERE delivery_id = ?
			AND attempt <= (SELECT attempts FROM deliveries WHERE id = ?) - ?`,
			a.DeliveryID, a.DeliveryID, MaxAttemptsKept); err != nil {
			return fmt.Errorf("store: trim attempts: %w", err)
		}
		return nil
	})
}

func (s *SQL) SetDeliveryStatus(ctx context.Context, id, status string, nextAttemptAt time.Time) error {
	// A cancelled delivery stays cancelled.
	res, err := exec(ctx, s.db, `UPDATE deliveries SET
		status = CASE WHEN status = ? THEN status ELSE ? END,
		next_attempt_at = CASE WHEN status = ? THEN next_attempt_at ELSE ? END,
		updated_at = ? WHERE id = ?`,
		DeliveryCancelled, status, DeliveryCancelled, micros(nextAttemptAt), micros(time.Now()), id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: set status of delivery %s: %w", id, err)
	}
	return nil
}

func (s *SQL) GetDelivery(ctx context.Context, app, id string) (Delivery, error) {
	ds, err := s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE application_id = ? AND id = ?`, app, id)
	if err != nil {
		return Delivery{}, err
	}
	if len(ds) == 0 {
		return Delivery{}, ErrNotFound
	}
	return ds[0], nil
}

func (s *SQL) ListDeliveries(ctx context.Context, app, eventID string) ([]Delivery, error) {
	return s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE application_id = ? AND event_id = ? ORDER BY id`, app, eventID)
}

func (s *SQL) ListUnfinishedDeliveries(ctx context.Context, app, after string, limit int) ([]Delivery, error) {
	return s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE application_id = ? AND id > ? AND status NOT IN (?,?,?) ORDER BY id LIMIT ?`,
		app, after, DeliverySucceeded, DeliveryFailed, DeliveryCancelled, pageLimit(limit))
}

func (s *SQL) queryDeliveries(ctx context.Context, query string, args ...any) ([]Delivery, error) {
	var rows []deliveryRow
	if err := selectRows(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("store: query deliveries: %w", err)
	}
	var ds []Delivery
	for _, r := range rows {
		ds = append(ds, r.delivery())
	}
	return ds, nil
}

func (r deliveryRow) delivery() Delivery {
	return Delivery{
		ID:             r.ID,
		ApplicationID:  r.ApplicationID,
		EventID:        r.EventID,
		SubscriptionID: r.SubscriptionID,
		URL:            r.URL,
		Status:         r.Status,
		Attempts:       r.Attempts,
		NextAttemptAt:  fromMicros(r.NextAttemptAt),
		WorkflowID:     r.WorkflowID,
		CreatedAt:      fromMicros(r.CreatedAt),
		UpdatedAt:      fromMicros(r.UpdatedAt),
		ResentFrom:     r.ResentFrom,
		SupersededBy:   r.SupersededBy,
		RecoveryID:     r.RecoveryID,
	}
}

func (s *SQL) ListAttempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	var rows []attemptRow
	if err := selectRows(ctx, s.db, &rows, `SELECT delivery_id, attempt, started_at, duration_ms, status_code, error, response_excerpt
		FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt`, deliveryID); err != nil {
		return nil, fmt.Errorf("store: query attempts: %w", err)
	}
	var as []Attempt
	for _, r := range rows {
		as = append(as, Attempt{
			DeliveryID:      r.DeliveryID,
			Attempt:         r.Attempt,
			StartedAt:       fromMicros(r.StartedAt),
			DurationMs:      r.DurationMs,
			StatusCode:      r.StatusCode,
			Error:           r.Error,
			ResponseExcerpt: r.ResponseExcerpt,
		})
	}
	return as, nil
}
