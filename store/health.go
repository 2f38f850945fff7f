package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// MarkFailing implements EndpointHealth, in one statement: a
// subscription failing already keeps the start of its run. It is called
// only for the first failure an attempt sees, so the write it always makes
// is rare.
func (s *SQL) MarkFailing(ctx context.Context, app, id string, at time.Time) (time.Time, error) {
	var since int64
	err := getRow(ctx, s.db, &since, `UPDATE subscriptions
		SET failing_since = CASE WHEN failing_since = 0 THEN ? ELSE failing_since END
		WHERE application_id = ? AND id = ? RETURNING failing_since`, micros(at), app, id)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: mark %s failing: %w", id, err)
	}
	return fromMicros(since), nil
}

// MarkHealthy implements EndpointHealth.
func (s *SQL) MarkHealthy(ctx context.Context, app, id string) error {
	if _, err := exec(ctx, s.db, `UPDATE subscriptions SET failing_since = 0
		WHERE application_id = ? AND id = ? AND failing_since <> 0`, app, id); err != nil {
		return fmt.Errorf("store: mark %s healthy: %w", id, err)
	}
	return nil
}

// DisableSubscription implements EndpointHealth. The conditions are in the
// UPDATE, so that of two workers deciding at once one disables and the
// other learns it did not (and publishes nothing).
func (s *SQL) DisableSubscription(ctx context.Context, app, id, reason string, failingBefore, at time.Time) (Subscription, bool, error) {
	var (
		out     Subscription
		changed bool
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		cond, args := "", []any{SubscriptionDisabled, reason, micros(at), micros(at), app, id, SubscriptionDisabled}
		if !failingBefore.IsZero() {
			cond = ` AND failing_since <> 0 AND failing_since <= ?`
			args = append(args, micros(failingBefore))
		}
		res, err := exec(ctx, tx, `UPDATE subscriptions SET status = ?, disabled_reason = ?, updated_at = ?,
			failing_since = CASE WHEN failing_since = 0 THEN ? ELSE failing_since END
			WHERE application_id = ? AND id = ? AND status <> ?`+cond, args...)
		if err != nil {
			return fmt.Errorf("store: disable %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: disable %s: %w", id, err)
		} else if n == 1 {
			changed = true
			if _, err := exec(ctx, tx, `UPDATE subscription_event_types SET active = 0 WHERE subscription_id = ?`, id); err != nil {
				return fmt.Errorf("store: stop matching %s: %w", id, err)
			}
		}
		subs, err := s.querySubscriptions(ctx, tx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE application_id = ? AND id = ?`, app, id)
		if err != nil {
			return err
		}
		if len(subs) == 0 {
			return ErrNotFound
		}
		out = subs[0]
		return nil
	})
	return out, changed, err
}

// ListSubscriptionDeliveries implements EndpointHealth, from the index
// deliveries_recover (application_id, subscription_id, status, id).
func (s *SQL) ListSubscriptionDeliveries(ctx context.Context, app, subscriptionID, status, after string, limit int) ([]Delivery, error) {
	return s.queryDeliveries(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE application_id = ? AND subscription_id = ? AND status = ? AND id > ? ORDER BY id LIMIT ?`,
		app, subscriptionID, status, after, pageLimit(limit))
}

// HealthStats implements EndpointHealth: the held deliveries from the
// partial index deliveries_held, the disabled subscriptions from their
// table, which is small beside the deliveries.
func (s *SQL) HealthStats(ctx context.Context) (held, disabled int, err error) {
	if err := getRow(ctx, s.db, &held, `SELECT count(*) FROM deliveries WHERE status = ?`, DeliveryHeld); err != nil {
		return 0, 0, fmt.Errorf("store: count held deliveries: %w", err)
	}
	if err := getRow(ctx, s.db, &disabled, `SELECT count(*) FROM subscriptions WHERE status = ?`, SubscriptionDisabled); err != nil {
		return 0, 0, fmt.Errorf("store: count disabled subscriptions: %w", err)
	}
	return held, disabled, nil
}
