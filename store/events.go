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
	ApplicationID string `db:"application_id"`
	ID            string `db:"id"`
	Type          string `db:"type"`
	Payload       []byte `db:"payload"`
	BodyHash      string `db:"body_hash"`
	WorkflowID    string `db:"workflow_id"`
	RunID         string `db:"run_id"`
	Dispatched    int    `db:"dispatched"`
	DeliverAt     int64  `db:"deliver_at"`
	Cancelled     int    `db:"cancelled"`
	CreatedAt     int64  `db:"created_at"`
	Target        string `db:"target_subscription_id"`
}

func (r eventRow) event() Event {
	return Event{
		ApplicationID: r.ApplicationID,
		ID:            r.ID,
		Type:          r.Type,
		Payload:       r.Payload,
		BodyHash:      r.BodyHash,
		WorkflowID:    r.WorkflowID,
		RunID:         r.RunID,
		Dispatched:    r.Dispatched == 1,
		DeliverAt:     fromMicros(r.DeliverAt),
		Cancelled:     r.Cancelled == 1,
		CreatedAt:     fromMicros(r.CreatedAt),

		TargetSubscriptionID: r.Target,
	}
}

func (s *SQL) CreateEvent(ctx context.Context, e Event) (Event, bool, error) {
	// What is returned is what is stored: microseconds in UTC, not dispatched.
	e.CreatedAt, e.Dispatched, e.Cancelled = fromMicros(micros(e.CreatedAt)), false, false
	e.DeliverAt = fromMicros(micros(e.DeliverAt))
	res, err := exec(ctx, s.db, `INSERT INTO events (application_id, id, type, payload, body_hash, workflow_id, run_id, dispatched, deliver_at, created_at, target_subscription_id)
		VALUES (?,?,?,?,?,?,?,0,?,?,?) ON CONFLICT (application_id, id) DO NOTHING`,
		e.ApplicationID, e.ID, e.Type, e.Payload, e.BodyHash, e.WorkflowID, e.RunID, micros(e.DeliverAt), micros(e.CreatedAt), e.TargetSubscriptionID)
	if err != nil {
		return Event{}, false, fmt.Errorf("store: insert event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return e, true, nil
	}
	existing, err := s.GetEvent(ctx, e.ApplicationID, e.ID)
	if err != nil {
		return Event{}, false, err
	}
	if existing.BodyHash != e.BodyHash {
		return existing, false, fmt.Errorf("store: event %s exists with another body: %w", e.ID, ErrConflict)
	}
	return existing, false, nil
}

func (s *SQL) GetEvent(ctx context.Context, app, id string) (Event, error) {
	var r eventRow
	err := getRow(ctx, s.db, &r, `SELECT `+eventColumns+` FROM events WHERE application_id = ? AND id = ?`, app, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, ErrNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("store: get event: %w", err)
	}
	return r.event(), nil
}

func (s *SQL) SetEventRun(ctx context.Context, app, id, runID string) error {
	res, err := exec(ctx, s.db, `UPDATE events SET run_id = ? WHERE application_id = ? AND id = ?`, runID, app, id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: set run of event %s: %w", id, err)
	}
	return nil
}

func (s *SQL) MarkEventDispatched(ctx context.Context, app, id string) error {
	res, err := exec(ctx, s.db, `UPDATE events SET dispatched = 1 WHERE application_id = ? AND id = ?`, app, id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: mark event %s dispatched: %w", id, err)
	}
	return nil
}

func (s *SQL) MarkEventCancelled(ctx context.Context, app, id string) error {
	res, err := exec(ctx, s.db, `UPDATE events SET cancelled = 1 WHERE application_id = ? AND id = ?`, app, id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: mark event %s cancelled: %w", id, err)
	}
	return nil
}

// DeleteEvent forgets the event with its deliveries and their attempts, so
// that nothing is left pointing at an event that no longer exists.
func (s *SQL) DeleteEvent(ctx context.Context, app, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := exec(ctx, tx, `DELETE FROM events WHERE application_id = ? AND id = ?`, app, id)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: delete event %s: %w", id, err)
		}
		if _, err := exec(ctx, tx, `DELETE FROM delivery_attempts
			WHERE delivery_id IN (SELECT id FROM deliveries WHERE application_id = ? AND event_id = ?)`, app, id); err != nil {
			return fmt.Errorf("store: delete attempts of event %s: %w", id, err)
		}
		if _, err := exec(ctx, tx, `DELETE FROM deliveries WHERE application_id = ? AND event_id = ?`, app, id); err != nil {
			return fmt.Errorf("store: delete deliveries of event %s: %w", id, err)
		}
		return nil
	})
}
