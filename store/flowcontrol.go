package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// AcquireFlight counts the live leases of the subscription and adds
// holder's when fewer than max are held, in one transaction. PostgreSQL
// serialises the transactions of one subscription on its row (FOR UPDATE),
// so two workers never both take the last slot; SQLite's transactions take
// the write lock when they begin.
func (s *SQL) AcquireFlight(ctx context.Context, subscriptionID, holder string, max int, now, until time.Time) (bool, error) {
	var ok bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if s.postgres {
			var id string
			err := getRow(ctx, tx, &id, `SELECT id FROM subscriptions WHERE id = ? FOR UPDATE`, subscriptionID)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: lock subscription %s: %w", subscriptionID, err)
			}
		}
		if _, err := exec(ctx, tx, `DELETE FROM flight_leases WHERE subscription_id = ? AND expires_at <= ?`, subscriptionID, micros(now)); err != nil {
			return fmt.Errorf("store: expire flight leases: %w", err)
		}
		res, err := exec(ctx, tx, `UPDATE flight_leases SET expires_at = ? WHERE subscription_id = ? AND holder = ?`, micros(until), subscriptionID, holder)
		if err != nil {
			return fmt.Errorf("store: renew flight lease: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			ok = true
			return nil
		}
		var held int
		if err := getRow(ctx, tx, &held, `SELECT COUNT(*) FROM flight_leases WHERE subscription_id = ?`, subscriptionID); err != nil {
			return fmt.Errorf("store: count flight leases: %w", err)
		}
		if held >= max {
			return nil
		}
		if _, err := exec(ctx, tx, `INSERT INTO flight_leases (subscription_id, holder, expires_at) VALUES (?,?,?)`, subscriptionID, holder, micros(until)); err != nil {
			return fmt.Errorf("store: take flight lease: %w", err)
		}
		ok = true
		return nil
	})
	return ok, err
}

func (s *SQL) ReleaseFlight(ctx context.Context, subscriptionID, holder string) error {
	if _, err := exec(ctx, s.db, `DELETE FROM flight_leases WHERE subscription_id = ? AND holder = ?`, subscriptionID, holder); err != nil {
		return fmt.Errorf("store: release flight lease: %w", err)
	}
	return nil
}

// ReserveSend is one upsert: the row's next_at, or now when it is past,
// is the caller's time, and next_at moves one interval beyond it, unless
// that time is after latest: then the row is left as it is (the upsert's
// condition is false and it returns no row) and a read says when the next
// turn is free.
func (s *SQL) ReserveSend(ctx context.Context, subscriptionID string, interval time.Duration, now, latest time.Time) (time.Time, bool, error) {
	var next int64
	query := `INSERT INTO rate_schedule (subscription_id, next_at) VALUES (?1, ?2 + ?3)
		ON CONFLICT (subscription_id) DO UPDATE SET next_at = MAX(rate_schedule.next_at, ?2) + ?3
		WHERE MAX(rate_schedule.next_at, ?2) <= ?4
		RETURNING next_at`
	if s.postgres {
		query = `INSERT INTO rate_schedule (subscription_id, next_at) VALUES ($1, $2::bigint + $3::bigint)
		ON CONFLICT (subscription_id) DO UPDATE SET next_at = GREATEST(rate_schedule.next_at, $2::bigint) + $3::bigint
		WHERE GREATEST(rate_schedule.next_at, $2::bigint) <= $4::bigint
		RETURNING next_at`
	}
	step := interval.Microseconds()
	err := s.db.QueryRowContext(ctx, query, subscriptionID, micros(now), step, micros(latest)).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		var free int64
		if err := getRow(ctx, s.db, &free, `SELECT next_at FROM rate_schedule WHERE subscription_id = ?`, subscriptionID); err != nil {
			return time.Time{}, false, fmt.Errorf("store: read the send schedule of %s: %w", subscriptionID, err)
		}
		return fromMicros(free), false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: reserve a send to %s: %w", subscriptionID, err)
	}
	return fromMicros(next - step), true, nil
}
