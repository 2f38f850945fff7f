package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// finishedEvent is the condition of an event that may be purged at cutoff
// (the two placeholders): its fan-out ran or it was cancelled, and no
// delivery of it is unfinished or changed since. It reads events as e.
const finishedEvent = `e.created_at < ? AND (e.dispatched = 1 OR e.cancelled = 1) AND NOT EXISTS (
	SELECT 1 FROM deliveries d WHERE d.application_id = e.application_id AND d.event_id = e.id
	AND (d.status NOT IN ('succeeded','failed','cancelled') OR d.updated_at >= ?))`

// purgeCandidates is the next batch of finished events, oldest first, read
// through the partial index events_age.
const purgeCandidates = `SELECT e.application_id, e.id FROM events e WHERE ` + finishedEvent + `
	ORDER BY e.created_at, e.application_id, e.id LIMIT ?`

// PurgeFinished picks the oldest finished events through events_age and
// deletes each with its deliveries and attempts in one transaction. Every
// delete repeats its condition, so that what became unfinished between the
// pick and the delete (a resend, a retry) stays: an event whose delete
// finds it unfinished is skipped, and only deliveries that ended before
// cutoff go.
func (s *SQL) PurgeFinished(ctx context.Context, cutoff time.Time, limit int) (Purged, error) {
	if limit <= 0 {
		return Purged{}, nil
	}
	c := micros(cutoff)
	var keys []struct {
		ApplicationID string `db:"application_id"`
		ID            string `db:"id"`
	}
	if err := selectRows(ctx, s.db, &keys, purgeCandidates, c, c, limit); err != nil {
		return Purged{}, fmt.Errorf("store: find finished events: %w", err)
	}
	var p Purged
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, k := range keys {
			res, err := exec(ctx, tx, `DELETE FROM events WHERE application_id = ? AND id = ? AND EXISTS (
				SELECT 1 FROM events e WHERE e.application_id = ? AND e.id = ? AND `+finishedEvent+`)`,
				k.ApplicationID, k.ID, k.ApplicationID, k.ID, c, c)
			if err != nil {
				return fmt.Errorf("store: purge event %s: %w", k.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			p.Events++
			ended := `application_id = ? AND event_id = ? AND status IN ('succeeded','failed','cancelled') AND updated_at < ?`
			res, err = exec(ctx, tx, `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE `+ended+`)`,
				k.ApplicationID, k.ID, c)
			if err != nil {
				return fmt.Errorf("store: purge attempts of event %s: %w", k.ID, err)
			}
			n, _ := res.RowsAffected()
			p.Attempts += int(n)
			res, err = exec(ctx, tx, `DELETE FROM deliveries WHERE `+ended, k.ApplicationID, k.ID, c)
			if err != nil {
				return fmt.Errorf("store: purge deliveries of event %s: %w", k.ID, err)
			}
			n, _ = res.RowsAffected()
			p.Deliveries += int(n)
		}
		return nil
	})
	if err != nil {
		return Purged{}, err
	}
	return p, nil
}
