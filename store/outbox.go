package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Outbox is the transactional outbox of accepted events. CreateEvent stores
// an event, and the one statement that stores it is what accepts it: the
// producer is answered at once, and the event is pending until SetEventRun
// records the run of its workflow. Dispatchers claim pending events for a
// lease, start their workflows and record the runs. A claim that is neither
// recorded nor released comes back when its lease ends, so the events a
// dispatcher held when it crashed are started by another one, or by itself
// after a restart.
//
// Starting an event's workflow twice is harmless (its id is derived from
// the event's, and a second start joins the first), so a lease only has to
// keep dispatchers from doing the same work at the same time, not to be
// exact.
type Outbox interface {
	// ClaimPendingEvents leases up to limit pending events that no lease
	// holds at now, oldest first, to the caller until until. While that
	// lease lasts no other call returns them, in this process or another.
	// The events come back with ApplicationID, ID, Type, WorkflowID,
	// DeliverAt and CreatedAt set.
	ClaimPendingEvents(ctx context.Context, now, until time.Time, limit int) ([]Event, error)
	// ReleaseEvents ends the leases on the given events, so that the next
	// claim may take them at once (after their start failed, say). Keys of
	// events that are not pending are ignored.
	ReleaseEvents(ctx context.Context, keys []EventKey) error
	// RecordEventRuns sets the RunID of each event in runs in one
	// transaction, which takes them out of the outbox. Keys of events that
	// do not exist are ignored.
	RecordEventRuns(ctx context.Context, runs map[EventKey]string) error
	// OutboxStats counts the pending events and finds the oldest.
	OutboxStats(ctx context.Context) (OutboxStats, error)
}

// EventKey names one event: event ids are unique within an application.
type EventKey struct {
	ApplicationID string
	ID            string
}

// Key is the event's EventKey.
func (e Event) Key() EventKey { return EventKey{ApplicationID: e.ApplicationID, ID: e.ID} }

// OutboxStats describes the pending events, leased or not.
type OutboxStats struct {
	Pending int
	// Oldest is when the oldest pending event was accepted; zero when none is.
	Oldest time.Time
}

// ClaimPendingEvents takes pending events whose lease ended, in turns
// between applications: every application's oldest, then every one's
// second oldest, and so on, each turn oldest first. First in, first out
// across applications let one application's burst of thousands hold up
// every other's events behind it in the outbox, before Temporal's
// fairness (workflows.Priority) could even see them. Each application
// offers at most limit events to the ranking, read in order from the
// events_pending_by_app index, so a claim costs one pass over that index
// to find the applications with pending events (9 ms with 100,000 pending
// on SQLite) and limit rows per application, however deep one backlog is.
//
// PostgreSQL locks the rows it picks and skips those another claim locked
// meanwhile, so that claims in several processes never wait for each other
// nor take the same event; the locking subquery sits in a CTE, which
// PostgreSQL evaluates once, and checks the lease again on the row it
// locked. SQLite has one writer at a time, and a single UPDATE is atomic.
func (s *SQL) ClaimPendingEvents(ctx context.Context, now, until time.Time, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	query := `UPDATE events SET claimed_until = ?1 WHERE rowid IN (
		SELECT rid FROM (
			SELECT e.rowid AS rid, e.application_id, e.id, e.created_at,
				ROW_NUMBER() OVER (PARTITION BY e.application_id ORDER BY e.created_at, e.id) AS turn
			FROM (SELECT DISTINCT application_id FROM events WHERE run_id = '') apps
			JOIN events e ON e.rowid IN (
				SELECT rowid FROM events WHERE application_id = apps.application_id AND run_id = '' AND claimed_until <= ?2
				ORDER BY created_at, id LIMIT ?3))
		ORDER BY turn, created_at, application_id, id LIMIT ?3)
		RETURNING application_id, id, type, workflow_id, deliver_at, created_at`
	if s.postgres {
		query = `WITH apps AS (SELECT DISTINCT application_id FROM events WHERE run_id = ''),
		ranked AS (
			SELECT application_id, id FROM (
				SELECT p.application_id, p.id, p.created_at,
					ROW_NUMBER() OVER (PARTITION BY p.application_id ORDER BY p.created_at, p.id) AS turn
				FROM apps CROSS JOIN LATERAL (
					SELECT application_id, id, created_at FROM events
					WHERE application_id = apps.application_id AND run_id = '' AND claimed_until <= $2
					ORDER BY created_at, id LIMIT $3) p) r
			ORDER BY turn, created_at, application_id, id LIMIT $3),
		claimed AS (
			SELECT e.application_id, e.id FROM events e JOIN ranked USING (application_id, id)
			WHERE e.run_id = '' AND e.claimed_until <= $2
			FOR UPDATE OF e SKIP LOCKED)
		UPDATE events SET claimed_until = $1 FROM claimed
		WHERE events.application_id = claimed.application_id AND events.id = claimed.id
		RETURNING events.application_id, events.id, events.type, events.workflow_id, events.deliver_at, events.created_at`
	}
	rows, err := s.db.QueryContext(ctx, query, micros(until), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim pending events: %w", err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var (
			e                  Event
			deliverAt, created int64
		)
		if err := rows.Scan(&e.ApplicationID, &e.ID, &e.Type, &e.WorkflowID, &deliverAt, &created); err != nil {
			return nil, fmt.Errorf("store: scan claimed event: %w", err)
		}
		e.DeliverAt, e.CreatedAt = fromMicros(deliverAt), fromMicros(created)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim pending events: %w", err)
	}
	// RETURNING keeps no order.
	slices.SortFunc(events, func(a, b Event) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.ApplicationID, b.ApplicationID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return events, nil
}

// ReleaseEvents ends the leases on keys, one statement each in one
// transaction: releases follow failed starts, which are few.
func (s *SQL) ReleaseEvents(ctx context.Context, keys []EventKey) error {
	if len(keys) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, k := range keys {
			if _, err := exec(ctx, tx, `UPDATE events SET claimed_until = 0
				WHERE run_id = '' AND application_id = ? AND id = ?`, k.ApplicationID, k.ID); err != nil {
				return fmt.Errorf("store: release event %s: %w", k.ID, err)
			}
		}
		return nil
	})
}

// RecordEventRuns writes a round of starts in one transaction: on SQLite,
// one writer at a time, a transaction per event made the accepts of a
// burst queue behind the dispatcher's updates.
func (s *SQL) RecordEventRuns(ctx context.Context, runs map[EventKey]string) error {
	if len(runs) == 0 {
		return nil
	}
	query := s.db.Rebind(`UPDATE events SET run_id = ? WHERE application_id = ? AND id = ?`)
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("store: record event runs: %w", err)
		}
		defer stmt.Close()
		for k, runID := range runs {
			if _, err := stmt.ExecContext(ctx, runID, k.ApplicationID, k.ID); err != nil {
				return fmt.Errorf("store: record the run of event %s: %w", k.ID, err)
			}
		}
		return nil
	})
}

// OutboxStats reads the pending events from their own index.
func (s *SQL) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var (
		st     OutboxStats
		oldest int64
	)
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0) FROM events WHERE run_id = ''`).
		Scan(&st.Pending, &oldest); err != nil {
		return OutboxStats{}, fmt.Errorf("store: outbox stats: %w", err)
	}
	st.Oldest = fromMicros(oldest)
	return st, nil
}
