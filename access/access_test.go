package access_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/access"
)

func TestAllow(t *testing.T) {
	admin := access.Principal{Kind: access.Admin}
	acme := access.Principal{Kind: access.Application, ApplicationID: "acme", TokenID: "tok_1"}
	none := access.Principal{Kind: access.Anonymous}
	bad := access.Principal{Kind: access.Invalid}
	cases := []struct {
		rule    access.Rule
		p       access.Principal
		pathApp string
		want    access.Decision
	}{
		{access.Public, none, "", access.Allowed},
		{access.Public, bad, "", access.Allowed},
		{access.Public, acme, "", access.Allowed},

		{access.AdminOnly, admin, "", access.Allowed},
		{access.AdminOnly, admin, "acme", access.Allowed},
		{access.AdminOnly, acme, "acme", access.Forbidden},
		{access.AdminOnly, acme, "", access.Forbidden},
		{access.AdminOnly, none, "", access.Unauthenticated},
		{access.AdminOnly, bad, "acme", access.Unauthenticated},

		{access.App, admin, "acme", access.Allowed},
		{access.App, acme, "acme", access.Allowed},
		{access.App, acme, "globex", access.Forbidden},
		{access.App, acme, "", access.Forbidden},
		{access.App, acme, "ACME", access.Forbidden},
		{access.App, access.Principal{Kind: access.Application}, "", access.Forbidden},
		{access.App, none, "acme", access.Unauthenticated},
		{access.App, bad, "acme", access.Unauthenticated},

		// A route without a rule is closed to everyone, admins included.
		{access.NoRule, admin, "", access.Forbidden},
		{access.NoRule, acme, "acme", access.Forbidden},
		{access.NoRule, none, "", access.Forbidden},
		{access.Rule(99), admin, "", access.Forbidden},
	}
	for _, c := range cases {
		require.Equal(t, c.want, access.Allow(c.rule, c.p, c.pathApp), "rule %s, principal %+v, path app %q", c.rule, c.p, c.pathApp)
	}
}

func TestTokensAreLongRandomAndHashedAsSHA256Hex(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := access.NewToken()
		require.True(t, access.IsToken(tok))
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, access.TokenPrefix))
		require.NoError(t, err)
		require.Len(t, raw, 32)
		require.False(t, seen[tok])
		seen[tok] = true
	}
	sum := sha256.Sum256([]byte("hfat_x"))
	require.Equal(t, hex.EncodeToString(sum[:]), access.Hash("hfat_x"))
	require.NotEqual(t, access.Hash("hfat_x"), access.Hash("hfat_y"))

	require.False(t, access.IsToken("hfat_"))
	require.False(t, access.IsToken("admin-key"))
	require.True(t, strings.HasPrefix(access.NewTokenID(), "tok_"))
	require.NotEqual(t, access.NewTokenID(), access.NewTokenID())
}
