package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/secretbox"
	"github.com/hookflow/hookflow/signing"
)

// secretsDatabases returns, for each database Hookflow supports, a URL of an
// empty database of the test's own: a SQLite file, and a fresh schema on the
// PostgreSQL server at HOOKFLOW_TEST_POSTGRES_URL (default: the one on
// 127.0.0.1:5432, database test). A PostgreSQL server that does not answer
// fails the test: secrets must be proven sealed in both.
func secretsDatabases(t *testing.T) map[string]string {
	t.Helper()
	base := cmp.Or(os.Getenv("HOOKFLOW_TEST_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	db, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, db.PingContext(ctx), "PostgreSQL is not reachable at %s; start it or set HOOKFLOW_TEST_POSTGRES_URL", base)

	b := make([]byte, 8)
	_, err = rand.Read(b)
	require.NoError(t, err)
	schema := "secrets_" + hex.EncodeToString(b)
	_, err = db.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	return map[string]string{
		"sqlite":   "sqlite://" + filepath.Join(t.TempDir(), "hookflow.db"),
		"postgres": u.String(),
	}
}

func openWithKeys(t *testing.T, url, keys string) *SQL {
	t.Helper()
	box, err := secretbox.New(keys)
	require.NoError(t, err)
	s, err := Open(context.Background(), url, WithSecretBox(box))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(k)
}

func newSecret(t *testing.T) string {
	t.Helper()
	s, err := signing.NewSecret()
	require.NoError(t, err)
	return s
}

// rawSecrets reads the secret columns as the database holds them.
func rawSecrets(t *testing.T, s *SQL, id string) (secret, previous string) {
	t.Helper()
	require.NoError(t, s.db.QueryRow(s.db.Rebind(`SELECT secret, previous_secret FROM subscriptions WHERE id = ?`), id).Scan(&secret, &previous))
	return secret, previous
}

func testSubscription(id, secret string) Subscription {
	now := time.Now().UTC()
	return Subscription{ApplicationID: DefaultApplication,
		ID: id, URL: "https://hooks.example.test/in", EventTypes: []string{"order.*"},
		Secret: secret, Status: SubscriptionActive, CreatedAt: now, UpdatedAt: now,
	}
}

func TestSecretsAreSealedAtRestAndPlainToCallers(t *testing.T) {
	for name, url := range secretsDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openWithKeys(t, url, "k1:"+newKey(t))
			secret := newSecret(t)

			require.NoError(t, s.CreateSubscription(ctx, testSubscription("sub_1", secret)))
			raw, rawPrev := rawSecrets(t, s, "sub_1")
			require.True(t, strings.HasPrefix(raw, "enc:v1:k1:"), "stored as %q", raw)
			require.NotContains(t, raw, strings.TrimPrefix(secret, signing.SecretPrefix))
			require.Empty(t, rawPrev, "no previous secret stays empty, not an encrypted empty string")

			got, err := s.GetSubscription(ctx, DefaultApplication, "sub_1")
			require.NoError(t, err)
			require.Equal(t, secret, got.Secret)

			got.Secret, got.PreviousSecret, got.PreviousSecretExpiresAt = newSecret(t), secret, time.Now().Add(time.Hour)
			require.NoError(t, s.UpdateSubscription(ctx, got))
			raw, rawPrev = rawSecrets(t, s, "sub_1")
			require.True(t, strings.HasPrefix(raw, "enc:v1:k1:"))
			require.True(t, strings.HasPrefix(rawPrev, "enc:v1:k1:"))
			require.NotContains(t, rawPrev, strings.TrimPrefix(secret, signing.SecretPrefix))

			list, err := s.ListSubscriptions(ctx, ListSubscriptionsParams{ApplicationID: DefaultApplication, Limit: 10})
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, got.Secret, list[0].Secret)
			require.Equal(t, secret, list[0].PreviousSecret)
			matched, err := s.MatchSubscriptions(ctx, DefaultApplication, "order.created", "", 10)
			require.NoError(t, err)
			require.Len(t, matched, 1)
			require.Equal(t, []string{got.Secret, secret}, matched[0].SigningSecrets(time.Now()))

			// Without the key the sealed rows cannot be read, and the error
			// says why without showing what is stored.
			keyless, err := Open(ctx, url)
			require.NoError(t, err)
			defer func() { _ = keyless.Close() }()
			_, err = keyless.GetSubscription(ctx, DefaultApplication, "sub_1")
			require.ErrorIs(t, err, secretbox.ErrNoKey)
			require.NotContains(t, err.Error(), raw)
		})
	}
}

func TestResealSecretsEncryptsOldRowsAndRotatesKeys(t *testing.T) {
	for name, url := range secretsDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			plain := openWithKeys(t, url, "")
			secrets := map[string]string{}
			for _, id := range []string{"sub_a", "sub_b", "sub_c"} {
				secrets[id] = newSecret(t)
				require.NoError(t, plain.CreateSubscription(ctx, testSubscription(id, secrets[id])))
			}
			n, err := plain.ResealSecrets(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "without a key there is nothing to seal with")
			raw, _ := rawSecrets(t, plain, "sub_a")
			require.Equal(t, secrets["sub_a"], raw)

			// Turning encryption on: old rows still read, and a sweep seals them.
			oldKey, newKeyValue := newKey(t), newKey(t)
			s1 := openWithKeys(t, url, "k1:"+oldKey)
			got, err := s1.GetSubscription(ctx, DefaultApplication, "sub_b")
			require.NoError(t, err)
			require.Equal(t, secrets["sub_b"], got.Secret)
			n, err = s1.ResealSecrets(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, n)
			for id := range secrets {
				raw, _ := rawSecrets(t, s1, id)
				require.True(t, strings.HasPrefix(raw, "enc:v1:k1:"), id)
			}
			n, err = s1.ResealSecrets(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "a second sweep finds nothing to do")

			// Rotating: the new key goes first, a sweep moves every row to it,
			// then the old key can go.
			s2 := openWithKeys(t, url, "k2:"+newKeyValue+",k1:"+oldKey)
			n, err = s2.ResealSecrets(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, n)
			s3 := openWithKeys(t, url, "k2:"+newKeyValue)
			for id, secret := range secrets {
				raw, _ := rawSecrets(t, s3, id)
				require.True(t, strings.HasPrefix(raw, "enc:v1:k2:"), id)
				got, err := s3.GetSubscription(ctx, DefaultApplication, id)
				require.NoError(t, err)
				require.Equal(t, secret, got.Secret)
			}
		})
	}
}
