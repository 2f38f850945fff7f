package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ModifySubscription implements Store. SQLite transactions take the write
// lock when they begin (_txlock=immediate); PostgreSQL locks the row with
// SELECT ... FOR UPDATE. Either way two modifications of one subscription
// run one after the other.
func (s *SQL) ModifySubscription(ctx context.Context, id string, fn SubscriptionModifier) (Subscription, error) {
	var out Subscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		query := `SELECT ` + subscriptionColumns + ` FROM subscriptions WHERE id = ?`
		if s.postgres {
			query += ` FOR UPDATE`
		}
		subs, err := s.querySubscriptionsOn(ctx, tx, query, id)
		if err != nil {
			return err
		}
		if len(subs) == 0 {
			return ErrNotFound
		}
		sub := subs[0]
		if err := fn(&sub); err != nil {
			return err
		}
		sub.ID = subs[0].ID
		if err := s.updateSubscriptionTx(ctx, tx, sub); err != nil {
			return err
		}
		out = sub
		return nil
	})
	return out, err
}

// --- event types ---

const eventTypeColumns = `name, description, json_schema, created_at, updated_at`

// CreateEventType implements Store.
func (s *SQL) CreateEventType(ctx context.Context, t EventType) error {
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO event_types (`+eventTypeColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (name) DO NOTHING`),
		t.Name, t.Description, string(t.Schema), micros(t.CreatedAt), micros(t.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: insert event type: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return nil
}

// PutEventType implements Store.
func (s *SQL) PutEventType(ctx context.Context, t EventType) (EventType, bool, error) {
	var (
		out     EventType
		created bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		query := `SELECT ` + eventTypeColumns + ` FROM event_types WHERE name = ?`
		if s.postgres {
			query += ` FOR UPDATE`
		}
		existing, err := s.queryEventTypesOn(ctx, tx, query, t.Name)
		if err != nil {
			return err
		}
		if len(existing) == 0 {
			created = true
			_, err = tx.ExecContext(ctx, s.q(`INSERT INTO event_types (`+eventTypeColumns+`) VALUES (?,?,?,?,?)`),
				t.Name, t.Description, string(t.Schema), micros(t.CreatedAt), micros(t.UpdatedAt))
		} else {
			t.CreatedAt = existing[0].CreatedAt
			_, err = tx.ExecContext(ctx, s.q(`UPDATE event_types SET description = ?, json_schema = ?, updated_at = ? WHERE name = ?`),
				t.Description, string(t.Schema), micros(t.UpdatedAt), t.Name)
		}
		if err != nil {
			return fmt.Errorf("store: put event type: %w", err)
		}
		out = t
		return nil
	})
	return out, created, err
}

// GetEventType implements Store.
func (s *SQL) GetEventType(ctx context.Context, name string) (EventType, error) {
	ts, err := s.queryEventTypesOn(ctx, s.db, `SELECT `+eventTypeColumns+` FROM event_types WHERE name = ?`, name)
	if err != nil {
		return EventType{}, err
	}
	if len(ts) == 0 {
		return EventType{}, ErrNotFound
	}
	return ts[0], nil
}

// ListEventTypes implements Store.
func (s *SQL) ListEventTypes(ctx context.Context, p ListEventTypesParams) ([]EventType, error) {
	return s.queryEventTypesOn(ctx, s.db, `SELECT `+eventTypeColumns+` FROM event_types
		WHERE name > ? ORDER BY name LIMIT ?`, p.After, p.Limit)
}

func (s *SQL) queryEventTypesOn(ctx context.Context, db querier, query string, args ...any) ([]EventType, error) {
	rows, err := db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: query event types: %w", err)
	}
	defer rows.Close()
	var ts []EventType
	for rows.Next() {
		var (
			t                EventType
			schema           string
			created, updated int64
		)
		if err := rows.Scan(&t.Name, &t.Description, &schema, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: scan event type: %w", err)
		}
		if schema != "" {
			t.Schema = []byte(schema)
		}
		t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return ts, nil
}
