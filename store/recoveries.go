package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Recovery statuses.
const (
	RecoveryRunning   = "running"
	RecoveryCompleted = "completed"
	RecoveryCancelled = "cancelled"
)

// Recovery is one request to resend what a subscription missed over a
// window: its failed deliveries, and the events it never got a delivery of.
// Matched and Resent are the recovery's counts so far (final once it is
// no longer running), written by its workflow page by page.
type Recovery struct {
	ID             string
	ApplicationID  string
	SubscriptionID string
	WorkflowID     string
	// Since and Until bound the window by the events' creation time:
	// Since included, Until excluded.
	Since, Until time.Time
	Status       string
	Matched      int
	Resent       int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// RecoverParams selects one page of what a recovery resends.
type RecoverParams struct {
	ApplicationID  string
	SubscriptionID string
	// Since (included) and Until (excluded) bound the events' creation time.
	Since, Until time.Time
	// AfterID, and for events AfterTime, is the cursor: the last item of
	// the previous page.
	AfterID   string
	AfterTime time.Time
	Limit     int
	// RecoveryID is the recovery reading the page.
	RecoveryID string
}

// Resendable is a failed delivery a recovery resends, with its event's type.
type Resendable struct {
	Delivery  Delivery
	EventType string
}

// RecoveryStore keeps recoveries and finds what they resend.
type RecoveryStore interface {
	// CreateRecovery stores r unless a recovery with r.WorkflowID is
	// running: then it returns that one and false.
	CreateRecovery(ctx context.Context, r Recovery) (Recovery, bool, error)
	GetRecovery(ctx context.Context, app, id string) (Recovery, error)
	// UpdateRecovery writes a recovery's status and counts. A recovery
	// that has finished (completed or cancelled) keeps its status.
	UpdateRecovery(ctx context.Context, id, status string, matched, resent int) error
	// ListResendable returns up to p.Limit failed deliveries of the
	// subscription whose event was created in the window, with ids greater
	// than p.AfterID, by id. Superseded ones are included (SupersededBy
	// says by what), so that a page read again after a crash is the same
	// page; the caller skips those another delivery superseded.
	ListResendable(ctx context.Context, p RecoverParams) ([]Resendable, error)
	// ListUndelivered returns up to p.Limit dispatched events of the
	// application created in the window, neither cancelled nor with a
	// cancelled delivery (a cancel is a decision), that have no delivery to the
	// subscription (other than one made by the recovery p.RecoveryID),
	// after (p.AfterTime, p.AfterID), by creation time and id. Their payloads are left out. Whether their type matches the
	// subscription is the caller's to check.
	ListUndelivered(ctx context.Context, p RecoverParams) ([]Event, error)
	// AddResends records new deliveries (pending) that resend others, with
	// their ResentFrom and RecoveryID; each supersedes every earlier
	// delivery of its event to its subscription.
	// A delivery whose id exists is kept as it is and supersedes nothing.
	AddResends(ctx context.Context, ds []Delivery) error
}

type recoveryRow struct {
	ID             string `db:"id"`
	ApplicationID  string `db:"application_id"`
	SubscriptionID string `db:"subscription_id"`
	WorkflowID     string `db:"workflow_id"`
	Since          int64  `db:"since_at"`
	Until          int64  `db:"until_at"`
	Status         string `db:"status"`
	Matched        int    `db:"matched"`
	Resent         int    `db:"resent"`
	CreatedAt      int64  `db:"created_at"`
	UpdatedAt      int64  `db:"updated_at"`
}

const recoveryColumns = `id, application_id, subscription_id, workflow_id, since_at, until_at, status, matched, resent, created_at, updated_at`

func (r recoveryRow) recovery() Recovery {
	return Recovery{
		ID: r.ID, ApplicationID: r.ApplicationID, SubscriptionID: r.SubscriptionID, WorkflowID: r.WorkflowID,
		Since: fromMicros(r.Since), Until: fromMicros(r.Until), Status: r.Status, Matched: r.Matched, Resent: r.Resent,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
}

func (s *SQL) CreateRecovery(ctx context.Context, r Recovery) (Recovery, bool, error) {
	if r.Status == "" {
		r.Status = RecoveryRunning
	}
	// Outside a transaction: in PostgreSQL a unique violation would abort
	// it, and the running recovery is read after it.
	_, err := exec(ctx, s.db, `INSERT INTO recoveries (`+recoveryColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.ApplicationID, r.SubscriptionID, r.WorkflowID, micros(r.Since), micros(r.Until), r.Status,
		r.Matched, r.Resent, micros(r.CreatedAt), micros(r.UpdatedAt))
	if err == nil {
		got, err := s.GetRecovery(ctx, r.ApplicationID, r.ID)
		return got, true, err
	}
	if !isUniqueViolation(err) {
		return Recovery{}, false, fmt.Errorf("store: insert recovery: %w", err)
	}
	var row recoveryRow
	err = getRow(ctx, s.db, &row, `SELECT `+recoveryColumns+` FROM recoveries WHERE workflow_id = ? AND status = ?`, r.WorkflowID, RecoveryRunning)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// The running one finished in between, or r.ID itself exists.
		return Recovery{}, false, fmt.Errorf("store: recovery %s: %w", r.ID, ErrConflict)
	case err != nil:
		return Recovery{}, false, fmt.Errorf("store: get running recovery: %w", err)
	}
	return row.recovery(), false, nil
}

func (s *SQL) GetRecovery(ctx context.Context, app, id string) (Recovery, error) {
	var row recoveryRow
	err := getRow(ctx, s.db, &row, `SELECT `+recoveryColumns+` FROM recoveries WHERE application_id = ? AND id = ?`, app, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Recovery{}, ErrNotFound
	}
	if err != nil {
		return Recovery{}, fmt.Errorf("store: get recovery: %w", err)
	}
	return row.recovery(), nil
}

func (s *SQL) UpdateRecovery(ctx context.Context, id, status string, matched, resent int) error {
	res, err := exec(ctx, s.db, `UPDATE recoveries SET
		matched = CASE WHEN status = ? THEN ? ELSE matched END,
		resent = CASE WHEN status = ? THEN ? ELSE resent END,
		status = CASE WHEN status = ? THEN ? ELSE status END,
		updated_at = ? WHERE id = ?`,
		RecoveryRunning, matched, RecoveryRunning, resent, RecoveryRunning, status, micros(time.Now()), id)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: update recovery %s: %w", id, err)
	}
	return nil
}

func (s *SQL) ListResendable(ctx context.Context, p RecoverParams) ([]Resendable, error) {
	var rows []struct {
		deliveryRow
		EventType string `db:"event_type"`
	}
	err := selectRows(ctx, s.db, &rows, `SELECT d.id, d.application_id, d.event_id, d.subscription_id, d.url, d.status, d.attempts,
			d.next_attempt_at, d.workflow_id, d.updated_at, d.resent_from, d.superseded_by, d.recovery_id, e.type AS event_type
		FROM deliveries d JOIN events e ON e.application_id = d.application_id AND e.id = d.event_id
		WHERE d.application_id = ? AND d.subscription_id = ? AND d.status = ? AND d.id > ?
			AND e.created_at >= ? AND e.created_at < ?
		ORDER BY d.id LIMIT ?`,
		p.ApplicationID, p.SubscriptionID, DeliveryFailed, p.AfterID, micros(p.Since), micros(p.Until), pageLimit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: query resendable deliveries: %w", err)
	}
	out := make([]Resendable, 0, len(rows))
	for _, r := range rows {
		out = append(out, Resendable{Delivery: r.delivery(), EventType: r.EventType})
	}
	return out, nil
}

func (s *SQL) ListUndelivered(ctx context.Context, p RecoverParams) ([]Event, error) {
	var rows []eventRow
	after := micros(p.AfterTime)
	err := selectRows(ctx, s.db, &rows, `SELECT application_id, id, type, body_hash, workflow_id, run_id, dispatched, created_at
		FROM events e
		WHERE e.application_id = ? AND e.created_at >= ? AND e.created_at < ? AND e.dispatched = 1 AND e.cancelled = 0
			AND NOT EXISTS (SELECT 1 FROM deliveries c
				WHERE c.application_id = e.application_id AND c.event_id = e.id AND c.status = 'cancelled')
			AND (e.created_at > ? OR (e.created_at = ? AND e.id > ?))
			AND NOT EXISTS (SELECT 1 FROM deliveries d
				WHERE d.application_id = e.application_id AND d.event_id = e.id AND d.subscription_id = ?
					AND (d.recovery_id = '' OR d.recovery_id <> ?))
		ORDER BY e.created_at, e.id LIMIT ?`,
		p.ApplicationID, micros(p.Since), micros(p.Until), after, after, p.AfterID, p.SubscriptionID, p.RecoveryID, pageLimit(p.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: query undelivered events: %w", err)
	}
	out := make([]Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, Event{
			ApplicationID: r.ApplicationID, ID: r.ID, Type: r.Type, BodyHash: r.BodyHash, WorkflowID: r.WorkflowID,
			RunID: r.RunID, Dispatched: r.Dispatched == 1, CreatedAt: fromMicros(r.CreatedAt),
		})
	}
	return out, nil
}

func (s *SQL) AddResends(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, d := range ds {
			created := d.CreatedAt
			if created.IsZero() {
				created = d.UpdatedAt
			}
			res, err := exec(ctx, tx, `INSERT INTO deliveries
				(id, application_id, event_id, subscription_id, url, status, attempts, next_attempt_at, workflow_id, created_at, updated_at, resent_from, recovery_id)
				VALUES (?,?,?,?,?,?,0,0,?,?,?,?,?) ON CONFLICT (id) DO NOTHING`,
				d.ID, d.ApplicationID, d.EventID, d.SubscriptionID, d.URL, DeliveryPending, d.WorkflowID, micros(created), micros(d.UpdatedAt), d.ResentFrom, d.RecoveryID)
			if err != nil {
				return fmt.Errorf("store: insert resend %s: %w", d.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if _, err := exec(ctx, tx, `UPDATE deliveries SET superseded_by = ?
				WHERE application_id = ? AND event_id = ? AND subscription_id = ? AND id <> ?`,
				d.ID, d.ApplicationID, d.EventID, d.SubscriptionID, d.ID); err != nil {
				return fmt.Errorf("store: supersede deliveries before %s: %w", d.ID, err)
			}
		}
		return nil
	})
}
