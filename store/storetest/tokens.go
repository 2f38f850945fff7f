package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseAppTokens(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := context.Background()
	exp := t0.Add(24 * time.Hour)
	for _, app := range []string{"acme", "globex"} {
		require.NoError(t, s.CreateApplication(ctx, store.Application{ID: app, Name: app, CreatedAt: t0, UpdatedAt: t0}))
	}
	require.ErrorIs(t, s.CreateAppToken(ctx, store.AppToken{ID: "tok_0", ApplicationID: "nope", Hash: "0000", CreatedAt: t0, ExpiresAt: exp}),
		store.ErrApplicationNotFound)
	acme := store.AppToken{ID: "tok_1", ApplicationID: "acme", Description: "ci", Hash: "aa11", CreatedAt: t0, ExpiresAt: exp}
	require.NoError(t, s.CreateAppToken(ctx, acme))
	require.NoError(t, s.CreateAppToken(ctx, store.AppToken{ID: "tok_2", ApplicationID: "acme", Hash: "bb22", CreatedAt: t0, ExpiresAt: t0.Add(-time.Second)}))
	require.NoError(t, s.CreateAppToken(ctx, store.AppToken{ID: "tok_3", ApplicationID: "globex", Hash: "cc33", CreatedAt: t0, ExpiresAt: exp}))
	require.ErrorIs(t, s.CreateAppToken(ctx, store.AppToken{ID: "tok_1", ApplicationID: "acme", Hash: "dd44", CreatedAt: t0, ExpiresAt: exp}), store.ErrConflict, "same id")
	require.ErrorIs(t, s.CreateAppToken(ctx, store.AppToken{ID: "tok_9", ApplicationID: "acme", Hash: "aa11", CreatedAt: t0, ExpiresAt: exp}), store.ErrConflict, "same hash")

	got, err := s.GetAppTokenByHash(ctx, "aa11")
	require.NoError(t, err)
	want := acme
	want.CreatedAt, want.ExpiresAt = stored(t0), stored(exp)
	require.Equal(t, want, got)
	_, err = s.GetAppTokenByHash(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)

	expired, err := s.GetAppTokenByHash(ctx, "bb22")
	require.NoError(t, err, "an expired token is found, as expired, so that it is refused as such")
	require.Equal(t, stored(t0.Add(-time.Second)), expired.ExpiresAt)

	list, err := s.ListAppTokens(ctx, store.ListAppTokensParams{ApplicationID: "acme"})
	require.NoError(t, err)
	require.Equal(t, []string{"tok_1", "tok_2"}, tokenIDs(list), "only the application's own tokens")
	for _, tok := range list {
		require.Empty(t, tok.Hash, "a listing carries no hash")
	}
	require.Equal(t, "ci", list[0].Description)
	page, err := s.ListAppTokens(ctx, store.ListAppTokensParams{ApplicationID: "acme", After: "tok_1", Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"tok_2"}, tokenIDs(page))

	_, err = s.RevokeAppToken(ctx, "acme", "tok_3", t0)
	require.ErrorIs(t, err, store.ErrNotFound, "another application's token id is not found")
	other, err := s.GetAppTokenByHash(ctx, "cc33")
	require.NoError(t, err)
	require.True(t, other.RevokedAt.IsZero(), "revoking under another application changes nothing")
	_, err = s.RevokeAppToken(ctx, "acme", "tok_nope", t0)
	require.ErrorIs(t, err, store.ErrNotFound)

	at := t0.Add(time.Minute)
	revoked, err := s.RevokeAppToken(ctx, "acme", "tok_1", at)
	require.NoError(t, err)
	require.Equal(t, stored(at), revoked.RevokedAt)
	again, err := s.RevokeAppToken(ctx, "acme", "tok_1", at.Add(time.Hour))
	require.NoError(t, err, "revoking twice is no error")
	require.Equal(t, stored(at), again.RevokedAt, "the first revocation time stays")
	got, err = s.GetAppTokenByHash(ctx, "aa11")
	require.NoError(t, err)
	require.Equal(t, stored(at), got.RevokedAt, "a revoked token is found as revoked")
	list, err = s.ListAppTokens(ctx, store.ListAppTokensParams{ApplicationID: "acme"})
	require.NoError(t, err)
	require.Equal(t, stored(at), list[0].RevokedAt)

	// Deleting an application ends its tokens; re-creating its id does not
	// bring them back.
	require.NoError(t, s.DeleteApplication(ctx, "globex"))
	_, err = s.GetAppTokenByHash(ctx, "cc33")
	require.ErrorIs(t, err, store.ErrNotFound, "the token of a deleted application")
	later := t0.Add(time.Hour)
	require.NoError(t, s.CreateApplication(ctx, store.Application{ID: "globex", Name: "again", CreatedAt: later, UpdatedAt: later}))
	_, err = s.GetAppTokenByHash(ctx, "cc33")
	require.ErrorIs(t, err, store.ErrNotFound, "a token of the earlier application of that id")
	require.NoError(t, s.CreateAppToken(ctx, store.AppToken{ID: "tok_4", ApplicationID: "globex", Hash: "ee55", CreatedAt: later, ExpiresAt: later.Add(time.Hour)}))
	_, err = s.GetAppTokenByHash(ctx, "ee55")
	require.NoError(t, err, "a token of the new one")
}

func tokenIDs(ts []store.AppToken) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}
