package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

const eventTypeColumns = `name, description, json_schema, created_at, updated_at`

// eventTypeRow is a row of event_types as stored: no schema is "".
type eventTypeRow struct {
	Name        string `db:"name"`
	Description string `db:"description"`
	JSONSchema  string `db:"json_schema"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
}

// CreateEventType implements Store.
func (s *SQL) CreateEventType(ctx context.Context, t EventType) error {
	res, err := exec(ctx, s.db, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (name) DO NOTHING`,
		t.Name, t.Description, string(t.Schema), micros(t.CreatedAt), micros(t.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: insert event type: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return nil
}

// PutEventType implements Store. The read locks the row (see forUpdate), so
// that two puts of one name cannot both create it.
func (s *SQL) PutEventType(ctx context.Context, t EventType) (EventType, bool, error) {
	var (
		out     EventType
		created bool
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		existing, err := queryEventTypes(ctx, tx, s.forUpdate(`SELECT `+eventTypeColumns+` FROM event_types WHERE name = ?`), t.Name)
		if err != nil {
			return err
		}
		if len(existing) == 0 {
			created = true
			_, err = exec(ctx, tx, `INSERT INTO event_types (`+eventTypeColumns+`) VALUES (?,?,?,?,?)`,
				t.Name, t.Description, string(t.Schema), micros(t.CreatedAt), micros(t.UpdatedAt))
		} else {
			t.CreatedAt = existing[0].CreatedAt
			_, err = exec(ctx, tx, `UPDATE event_types SET description = ?, json_schema = ?, updated_at = ? WHERE name = ?`,
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
	ts, err := queryEventTypes(ctx, s.db, `SELECT `+eventTypeColumns+` FROM event_types WHERE name = ?`, name)
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
	return queryEventTypes(ctx, s.db, `SELECT `+eventTypeColumns+` FROM event_types
		WHERE name > ? ORDER BY name LIMIT ?`, p.After, p.Limit)
}

func queryEventTypes(ctx context.Context, db sqlx.ExtContext, query string, args ...any) ([]EventType, error) {
	var rows []eventTypeRow
	if err := selectRows(ctx, db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("store: query event types: %w", err)
	}
	var ts []EventType
	for _, r := range rows {
		t := EventType{
			Name:        r.Name,
			Description: r.Description,
			CreatedAt:   fromMicros(r.CreatedAt),
			UpdatedAt:   fromMicros(r.UpdatedAt),
		}
		if r.JSONSchema != "" {
			t.Schema = []byte(r.JSONSchema)
		}
		ts = append(ts, t)
	}
	return ts, nil
}
