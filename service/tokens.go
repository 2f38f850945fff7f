package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookflow/hookflow/access"
	"github.com/hookflow/hookflow/store"
)

// Bounds and default of a token's lifetime, as the contract gives them.
const (
	MinTokenLifetime     = time.Second
	MaxTokenLifetime     = 365 * 24 * time.Hour
	DefaultTokenLifetime = 24 * time.Hour
)

// NewAppToken is a token as an admin asks for it. A zero ExpiresIn is the
// default lifetime.
type NewAppToken struct {
	Description string
	ExpiresIn   time.Duration
}

// MintedToken is a fresh token: Token is its only copy, shown once.
type MintedToken struct {
	store.AppToken
	Token string
}

// MintAppToken makes a token for application app.
func (s *Service) MintAppToken(ctx context.Context, app string, in NewAppToken) (MintedToken, error) {
	life := in.ExpiresIn
	if life == 0 {
		life = DefaultTokenLifetime
	}
	if life < MinTokenLifetime || life > MaxTokenLifetime {
		return MintedToken{}, invalid("expires_in_seconds is out of range",
			FieldProblem{Field: "expires_in_seconds", Rule: "range", Message: "must be from 1 second to 1 year (31536000 seconds)"})
	}
	now := s.now()
	token := access.NewToken()
	t := store.AppToken{
		ID:            access.NewTokenID(),
		ApplicationID: app,
		Description:   in.Description,
		Hash:          access.Hash(token),
		CreatedAt:     now,
		ExpiresAt:     now.Add(life),
	}
	if err := s.Store.CreateAppToken(ctx, t); err != nil {
		return MintedToken{}, storeErr(err, "mint token")
	}
	t.Hash = ""
	return MintedToken{AppToken: t, Token: token}, nil
}

// ListAppTokens returns a page of an application's tokens, without their
// values, and the cursor of the next page, empty on the last one.
func (s *Service) ListAppTokens(ctx context.Context, p store.ListAppTokensParams) ([]store.AppToken, string, error) {
	limit := p.Limit
	p.Limit++
	ts, err := s.Store.ListAppTokens(ctx, p)
	if err != nil {
		return nil, "", storeErr(err, "list tokens")
	}
	if limit > 0 && len(ts) > limit {
		ts = ts[:limit]
		return ts, ts[limit-1].ID, nil
	}
	return ts, "", nil
}

// RevokeAppToken revokes a token of application app. It takes effect on
// the next request: every request looks its token up.
func (s *Service) RevokeAppToken(ctx context.Context, app, id string) error {
	_, err := s.Store.RevokeAppToken(ctx, app, id, s.now())
	return storeErr(err, fmt.Sprintf("token %s of application %s", id, app))
}

// ResolveToken says who presents token: an Application principal while the
// token is known, unexpired and not revoked, Invalid otherwise. It reads
// the store each time, with no cache, so that a revocation holds at once.
func (s *Service) ResolveToken(ctx context.Context, token string) (access.Principal, error) {
	t, err := s.Store.GetAppTokenByHash(ctx, access.Hash(token))
	if errors.Is(err, store.ErrNotFound) {
		return access.Principal{Kind: access.Invalid}, nil
	}
	if err != nil {
		return access.Principal{}, storeErr(err, "look up token")
	}
	if !t.RevokedAt.IsZero() || !s.now().Before(t.ExpiresAt) {
		return access.Principal{Kind: access.Invalid}, nil
	}
	return access.Principal{Kind: access.Application, ApplicationID: t.ApplicationID, TokenID: t.ID}, nil
}
