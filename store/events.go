package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// eventRow is a row of events as stored.
type eventRow struct {
	ID         string `db:"id"`
	Type       string `db:"type"`
	Payload    []byte `db:"payload"`
	BodyHash   string `db:"body_hash"`
	WorkflowID string `db:"workflow_id"`
	RunID      string `db:"run_id"`
	Dispatched int    `db:"dispatched"`
	CreatedAt  int64  `db:"created_at"`
}

func (s *SQL) CreateEvent(ctx context.Context, e Event) (Event, bool, error) {
	// What is returned is what is stored: microseconds in UTC, not dispatched.
	e.CreatedAt, e.Dispatched = fromMicros(micros(e.CreatedAt)), false
	res, err := exec(ctx, s.db, `INSERT INTO events (id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at)
		VALUES (?,?,?,?,?,?,0,?) ON CONFLICT (id) DO NOTHING`,
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
	var r eventRow
	err := getRow(ctx, s.db, &r, `SELECT id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at
		FROM events WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("store: get event: %w", err)
	}
	return Event{
		ID:         r.ID,
		Type:       r.Type,
		Payload:    r.Payload,
		BodyHash:   r.BodyHash,
		WorkflowID: r.WorkflowID,
		RunID:      r.RunID,
		Dispatched: r.Dispatched == 1,
		CreatedAt:  fromMicros(r.CreatedAt),
	}, nil
}

func (s *SQL) SetEventRun(ctx context.Context, id, runID string) error {
	res, err := exec(ctx, s.db, `UPDATE events SET run_id = ? WHERE id = ?`, runID, id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: set run of event %s: %w", id, err)
	}
	return nil
}

func (s *SQL) MarkEventDispatched(ctx context.Context, id string) error {
	res, err := exec(ctx, s.db, `UPDATE events SET dispatched = 1 WHERE id = ?`, id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: mark event %s dispatched: %w", id, err)
	}
	return nil
}

// DeleteEvent forgets the event with its deliveries and their attempts, so
// that nothing is left pointing at an event that no longer exists.
func (s *SQL) DeleteEvent(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := exec(ctx, tx, `DELETE FROM events WHERE id = ?`, id)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: delete event %s: %w", id, err)
		}
		if _, err := exec(ctx, tx, `DELETE FROM delivery_attempts
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?)`, id); err != nil {
			return fmt.Errorf("store: delete attempts of event %s: %w", id, err)
		}
		if _, err := exec(ctx, tx, `DELETE FROM deliveries WHERE event_id = ?`, id); err != nil {
			return fmt.Errorf("store: delete deliveries of event %s: %w", id, err)
		}
		return nil
	})
}
