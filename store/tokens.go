package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// AppToken is an application token as stored: its SHA-256 (hex), never the
// token itself, which is shown once when minted.
type AppToken struct {
	ID            string
	ApplicationID string
	Description   string
	// Hash is the hex SHA-256 of the token. ListAppTokens leaves it empty:
	// a listing has no use for it.
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// RevokedAt is zero while the token is not revoked.
	RevokedAt time.Time
}

// ListAppTokensParams selects a page of one application's tokens.
type ListAppTokensParams struct {
	ApplicationID string
	// After is the cursor: the last id of the previous page.
	After string
	// Limit bounds the page; zero or less means no bound.
	Limit int
}

// TokenStore keeps application tokens.
type TokenStore interface {
	// CreateAppToken stores t; an existing id or hash is ErrConflict, an
	// unknown application ErrApplicationNotFound.
	CreateAppToken(ctx context.Context, t AppToken) error
	// GetAppTokenByHash returns the token whose hash is hash, expired and
	// revoked ones included (the caller decides what they may do), as long
	// as the application it was minted for exists.
	GetAppTokenByHash(ctx context.Context, hash string) (AppToken, error)
	// ListAppTokens returns a page of an application's tokens by id,
	// without their hashes.
	ListAppTokens(ctx context.Context, p ListAppTokensParams) ([]AppToken, error)
	// RevokeAppToken marks the token id of application app revoked at at,
	// and returns it. A token of another application is ErrNotFound; a
	// token revoked before keeps its first revocation time.
	RevokeAppToken(ctx context.Context, app, id string, at time.Time) (AppToken, error)
}

const appTokenColumns = `id, application_id, description, token_hash, created_at, expires_at, revoked_at`

type appTokenRow struct {
	ID            string `db:"id"`
	ApplicationID string `db:"application_id"`
	Description   string `db:"description"`
	TokenHash     string `db:"token_hash"`
	CreatedAt     int64  `db:"created_at"`
	ExpiresAt     int64  `db:"expires_at"`
	RevokedAt     int64  `db:"revoked_at"`
}

func (r appTokenRow) token() AppToken {
	return AppToken{
		ID:            r.ID,
		ApplicationID: r.ApplicationID,
		Description:   r.Description,
		Hash:          r.TokenHash,
		CreatedAt:     fromMicros(r.CreatedAt),
		ExpiresAt:     fromMicros(r.ExpiresAt),
		RevokedAt:     fromMicros(r.RevokedAt),
	}
}

// CreateAppToken implements Store. The application is checked in the same
// transaction, so that no token is minted for an application being deleted.
func (s *SQL) CreateAppToken(ctx context.Context, t AppToken) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.applicationExists(ctx, tx, t.ApplicationID); err != nil {
			return err
		}
		_, err := exec(ctx, tx, `INSERT INTO app_tokens (`+appTokenColumns+`) VALUES (?,?,?,?,?,?,?)`,
			t.ID, t.ApplicationID, t.Description, t.Hash, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RevokedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: app token %s exists: %w", t.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: insert app token: %w", err)
		}
		return nil
	})
}

// GetAppTokenByHash implements Store. A token whose application is gone is
// not found, and so is one minted for an earlier application of the same
// id (created before the application that has the id now): deleting an
// application ends its tokens, and re-creating the id does not bring them
// back.
func (s *SQL) GetAppTokenByHash(ctx context.Context, hash string) (AppToken, error) {
	var r appTokenRow
	err := getRow(ctx, s.db, &r, `SELECT `+prefixed("t.", appTokenColumns)+` FROM app_tokens t
		JOIN applications a ON a.id = t.application_id AND a.created_at <= t.created_at
		WHERE t.token_hash = ?`, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return AppToken{}, ErrNotFound
	}
	if err != nil {
		return AppToken{}, fmt.Errorf("store: read app token: %w", err)
	}
	return r.token(), nil
}

// ListAppTokens implements Store.
func (s *SQL) ListAppTokens(ctx context.Context, p ListAppTokensParams) ([]AppToken, error) {
	query := `SELECT ` + appTokenColumns + ` FROM app_tokens WHERE application_id = ? AND id > ? ORDER BY id`
	args := []any{p.ApplicationID, p.After}
	if p.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, p.Limit)
	}
	var rows []appTokenRow
	if err := selectRows(ctx, s.db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("store: list app tokens: %w", err)
	}
	out := make([]AppToken, 0, len(rows))
	for _, r := range rows {
		t := r.token()
		t.Hash = ""
		out = append(out, t)
	}
	return out, nil
}

// RevokeAppToken implements Store. The update names the application, so
// that a token id asked for under another application changes nothing.
func (s *SQL) RevokeAppToken(ctx context.Context, app, id string, at time.Time) (AppToken, error) {
	_, err := exec(ctx, s.db, `UPDATE app_tokens SET revoked_at = ?
		WHERE application_id = ? AND id = ? AND revoked_at = 0`, micros(at), app, id)
	if err != nil {
		return AppToken{}, fmt.Errorf("store: revoke app token: %w", err)
	}
	var r appTokenRow
	err = getRow(ctx, s.db, &r, `SELECT `+appTokenColumns+` FROM app_tokens WHERE application_id = ? AND id = ?`, app, id)
	if errors.Is(err, sql.ErrNoRows) {
		return AppToken{}, fmt.Errorf("store: app token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return AppToken{}, fmt.Errorf("store: read app token: %w", err)
	}
	t := r.token()
	t.Hash = ""
	return t, nil
}

// prefixed qualifies each column of a column list with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
