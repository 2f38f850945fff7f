package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// applicationRow is a row of applications as stored: metadata as JSON text,
// times in microseconds.
type applicationRow struct {
	ID        string `db:"id"`
	Name      string `db:"name"`
	Metadata  string `db:"metadata"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r applicationRow) application() (Application, error) {
	a := Application{ID: r.ID, Name: r.Name, CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt)}
	if err := json.Unmarshal([]byte(r.Metadata), &a.Metadata); err != nil {
		return Application{}, fmt.Errorf("store: decode metadata of application %s: %w", r.ID, err)
	}
	return a, nil
}

func encodeMetadata(a Application) (string, error) {
	m := a.Metadata
	if m == nil {
		m = map[string]string{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("store: encode metadata of application %s: %w", a.ID, err)
	}
	return string(b), nil
}

func (s *SQL) CreateApplication(ctx context.Context, a Application) error {
	metadata, err := encodeMetadata(a)
	if err != nil {
		return err
	}
	_, err = exec(ctx, s.db, `INSERT INTO applications (id, name, metadata, created_at, updated_at) VALUES (?,?,?,?,?)`,
		a.ID, a.Name, metadata, micros(a.CreatedAt), micros(a.UpdatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: application %s exists: %w", a.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: insert application: %w", err)
	}
	return nil
}

func (s *SQL) GetApplication(ctx context.Context, id string) (Application, error) {
	var r applicationRow
	err := getRow(ctx, s.db, &r, `SELECT id, name, metadata, created_at, updated_at FROM applications WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, ErrNotFound
	}
	if err != nil {
		return Application{}, fmt.Errorf("store: get application: %w", err)
	}
	return r.application()
}

func (s *SQL) ListApplications(ctx context.Context, p ListApplicationsParams) ([]Application, error) {
	var rows []applicationRow
	if err := selectRows(ctx, s.db, &rows, `SELECT id, name, metadata, created_at, updated_at FROM applications
		WHERE id > ? ORDER BY id LIMIT ?`, p.After, pageLimit(p.Limit)); err != nil {
		return nil, fmt.Errorf("store: list applications: %w", err)
	}
	apps := make([]Application, 0, len(rows))
	for _, r := range rows {
		a, err := r.application()
		if err != nil {
			return nil, err
		}
		apps = append(apps, a)
	}
	return apps, nil
}

func (s *SQL) UpdateApplication(ctx context.Context, a Application) error {
	metadata, err := encodeMetadata(a)
	if err != nil {
		return err
	}
	res, err := exec(ctx, s.db, `UPDATE applications SET name = ?, metadata = ?, updated_at = ? WHERE id = ?`,
		a.Name, metadata, micros(a.UpdatedAt), a.ID)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: update application %s: %w", a.ID, err)
	}
	return nil
}

// DeleteApplication implements Store. The subscriptions go in the same
// transaction as the application, and CreateSubscription checks the
// application inside its own transaction, so no subscription outlives its
// application.
func (s *SQL) DeleteApplication(ctx context.Context, id string) error {
	if IsReservedApplication(id) {
		return fmt.Errorf("store: application %s always exists: %w", id, ErrReserved)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := exec(ctx, tx, `DELETE FROM applications WHERE id = ?`, id)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: delete application %s: %w", id, err)
		}
		if _, err := exec(ctx, tx, `DELETE FROM subscription_event_types WHERE application_id = ?`, id); err != nil {
			return fmt.Errorf("store: delete event types of application %s: %w", id, err)
		}
		if _, err := exec(ctx, tx, `DELETE FROM subscriptions WHERE application_id = ?`, id); err != nil {
			return fmt.Errorf("store: delete subscriptions of application %s: %w", id, err)
		}
		return nil
	})
}

// applicationExists fails with ErrApplicationNotFound unless app exists,
// read inside tx. In PostgreSQL the row is locked for share, so that a
// concurrent DeleteApplication waits for tx (or tx for it).
func (s *SQL) applicationExists(ctx context.Context, tx *sqlx.Tx, app string) error {
	query := `SELECT id FROM applications WHERE id = ?`
	if s.postgres {
		query += ` FOR SHARE`
	}
	var id string
	err := getRow(ctx, tx, &id, query, app)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: application %s: %w", app, ErrApplicationNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: read application %s: %w", app, err)
	}
	return nil
}
