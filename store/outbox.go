package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
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
	// The events come back with ID, Type, WorkflowID and CreatedAt set.
	ClaimPendingEvents(ctx context.Context, now, until time.Time, limit int) ([]Event, error)
	// ReleaseEvents ends the leases on the given events, so that the next
	// claim may take them at once (after their start failed, say). Ids of
	// events that are not pending are ignored.
	ReleaseEvents(ctx context.Context, ids []string) error
	// RecordEventRuns sets the RunID of each event in runs (event id → run
	// id) in one transaction, which takes them out of the outbox. Ids of
	// events that do not exist are ignored.
	RecordEventRuns(ctx context.Context, runs map[string]string) error
	// OutboxStats counts the pending events and finds the oldest.
	OutboxStats(ctx context.Context) (OutboxStats, error)
}

// OutboxStats describes the pending events, leased or not.
type OutboxStats struct {
	Pending int
	// Oldest is when the oldest pending event was accepted; zero when none is.
	Oldest time.Time
}

// ClaimPendingEvents takes the oldest pending events whose lease ended.
// PostgreSQL locks the rows it picks and skips those another claim locked
// meanwhile, so that claims in several processes never wait for each other
// nor take the same event; the locking subquery sits in a CTE, which
// PostgreSQL evaluates once. SQLite has one writer at a time, and a single
// UPDATE is atomic.
func (s *SQL) ClaimPendingEvents(ctx context.Context, now, until time.Time, limit int) ([]Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	query := `UPDATE events SET claimed_until = ? WHERE id IN (
		SELECT id FROM events WHERE run_id = '' AND claimed_until <= ? ORDER BY created_at, id LIMIT ?)
		RETURNING id, type, workflow_id, created_at`
	if s.postgres {
		query = `WITH claimed AS (
			SELECT id FROM events WHERE run_id = '' AND claimed_until <= $2 ORDER BY created_at, id LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE events SET claimed_until = $1 FROM claimed WHERE events.id = claimed.id
		RETURNING events.id, events.type, events.workflow_id, events.created_at`
	}
	rows, err := s.db.QueryContext(ctx, query, micros(until), micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim pending events: %w", err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var (
			e       Event
			created int64
		)
		if err := rows.Scan(&e.ID, &e.Type, &e.WorkflowID, &created); err != nil {
			return nil, fmt.Errorf("store: scan claimed event: %w", err)
		}
		e.CreatedAt = fromMicros(created)
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
		return strings.Compare(a.ID, b.ID)
	})
	return events, nil
}

// ReleaseEvents ends the leases on ids, in batches well below either
// database's limit on parameters.
func (s *SQL) ReleaseEvents(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += patternBatch {
		batch := ids[start:min(start+patternBatch, len(ids))]
		args := make([]any, len(batch))
		marks := make([]string, len(batch))
		for i, id := range batch {
			args[i] = id
			marks[i] = "?"
			if s.postgres {
				marks[i] = "$" + strconv.Itoa(i+1)
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE events SET claimed_until = 0
			WHERE run_id = '' AND id IN (`+strings.Join(marks, ",")+`)`, args...); err != nil {
			return fmt.Errorf("store: release events: %w", err)
		}
	}
	return nil
}

// RecordEventRuns writes a round of starts in one transaction: on SQLite,
// one writer at a time, a transaction per event made the accepts of a
// burst queue behind the dispatcher's updates.
func (s *SQL) RecordEventRuns(ctx context.Context, runs map[string]string) error {
	if len(runs) == 0 {
		return nil
	}
	query := `UPDATE events SET run_id = ? WHERE id = ?`
	if s.postgres {
		query = `UPDATE events SET run_id = $1 WHERE id = $2`
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("store: record event runs: %w", err)
		}
		defer stmt.Close()
		for id, runID := range runs {
			if _, err := stmt.ExecContext(ctx, runID, id); err != nil {
				return fmt.Errorf("store: record the run of event %s: %w", id, err)
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
