package secretbox_test

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/secretbox"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func newKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(k)
}

func mustBox(t *testing.T, keys string) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New(keys)
	require.NoError(t, err)
	return b
}

func TestRoundTrip(t *testing.T) {
	b := mustBox(t, "k1:"+newKey(t))
	require.True(t, b.Enabled())

	sealed, err := b.Seal(secret)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sealed, "enc:v1:k1:"), sealed)
	require.NotContains(t, sealed, secret)
	require.NotContains(t, sealed, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

	again, err := b.Seal(secret)
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "each seal uses a fresh nonce")

	opened, err := b.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, secret, opened)

	empty, err := b.Seal("")
	require.NoError(t, err)
	opened, err = b.Open(empty)
	require.NoError(t, err)
	require.Empty(t, opened)
}

func TestBareKeyGetsTheDefaultID(t *testing.T) {
	oldKey := newKey(t)
	b := mustBox(t, oldKey)
	sealed, err := b.Seal(secret)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sealed, "enc:v1:default:"), sealed)

	// Rotating away from a bare key names it "default".
	rotated := mustBox(t, "k2:"+newKey(t)+",default:"+oldKey)
	opened, err := rotated.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, secret, opened)
}

func TestRotation(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	before := mustBox(t, "k1:"+k1)
	oldValue, err := before.Seal(secret)
	require.NoError(t, err)

	after := mustBox(t, "k2:"+k2+",k1:"+k1)
	newValue, err := after.Seal("whsec_new")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(newValue, "enc:v1:k2:"))

	opened, err := after.Open(oldValue)
	require.NoError(t, err)
	require.Equal(t, secret, opened)
	opened, err = after.Open(newValue)
	require.NoError(t, err)
	require.Equal(t, "whsec_new", opened)

	require.True(t, after.NeedsReseal(oldValue))
	require.False(t, after.NeedsReseal(newValue))
	require.True(t, after.NeedsReseal(secret), "plaintext needs sealing once keys exist")

	// Dropping k1 too early leaves its values unreadable, with a clear error.
	dropped := mustBox(t, "k2:"+k2)
	_, err = dropped.Open(oldValue)
	require.ErrorIs(t, err, secretbox.ErrUnknownKey)
	require.EqualError(t, err, `secretbox: value sealed with key id "k1": unknown key id (configured: k2)`)
}

func TestTamperedValuesFail(t *testing.T) {
	b := mustBox(t, "k1:"+newKey(t)+",k0:"+newKey(t))
	sealed, err := b.Seal(secret)
	require.NoError(t, err)
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "enc:v1:k1:"))
	require.NoError(t, err)

	flipped := append([]byte(nil), data...)
	flipped[len(flipped)-1] ^= 0x80
	cases := map[string]string{
		"flipped bit":    "enc:v1:k1:" + base64.StdEncoding.EncodeToString(flipped),
		"truncated":      "enc:v1:k1:" + base64.StdEncoding.EncodeToString(data[:len(data)-4]),
		"too short":      "enc:v1:k1:" + base64.StdEncoding.EncodeToString(data[:8]),
		"key id swapped": "enc:v1:k0:" + base64.StdEncoding.EncodeToString(data),
	}
	for name, v := range cases {
		_, err := b.Open(v)
		require.ErrorIs(t, err, secretbox.ErrDecrypt, name)
	}

	for _, v := range []string{"enc:", "enc:v1", "enc:v1:k1", "enc:v2:k1:" + base64.StdEncoding.EncodeToString(data), "enc:v1::abc", "enc:v1:k1:not base64!"} {
		_, err := b.Open(v)
		require.ErrorIs(t, err, secretbox.ErrMalformed, v)
	}
}

func TestWrongKey(t *testing.T) {
	sealed, err := mustBox(t, "k1:"+newKey(t)).Seal(secret)
	require.NoError(t, err)

	// Same id, different key material: authentication fails.
	_, err = mustBox(t, "k1:"+newKey(t)).Open(sealed)
	require.ErrorIs(t, err, secretbox.ErrDecrypt)
	require.NotContains(t, err.Error(), secret)
}

func TestPassthrough(t *testing.T) {
	// Rows written before encryption was turned on still read.
	b := mustBox(t, "k1:"+newKey(t))
	opened, err := b.Open(secret)
	require.NoError(t, err)
	require.Equal(t, secret, opened)

	for name, box := range map[string]*secretbox.Box{"nil box": nil, "empty box": mustBox(t, "")} {
		require.False(t, box.Enabled(), name)
		sealed, err := box.Seal(secret)
		require.NoError(t, err, name)
		require.Equal(t, secret, sealed, name)
		opened, err := box.Open(secret)
		require.NoError(t, err, name)
		require.Equal(t, secret, opened, name)
		require.False(t, box.NeedsReseal(secret), name)

		// A sealed value cannot be opened without keys, and is never
		// mistaken for plaintext.
		encrypted, err := b.Seal(secret)
		require.NoError(t, err)
		_, err = box.Open(encrypted)
		require.ErrorIs(t, err, secretbox.ErrNoKey, name)

		// Plaintext that looks sealed is refused rather than stored ambiguously.
		_, err = box.Seal("enc:v1:k1:abc")
		require.Error(t, err, name)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	good := newKey(t)
	for _, keys := range []string{
		"k1:short",
		"k1:" + base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"k1:" + good + ",k1:" + good,
		"k:1:" + good,
		good + "," + good,
	} {
		_, err := secretbox.New(keys)
		require.Error(t, err, keys)
		require.Contains(t, err.Error(), "HOOKFLOW_SECRET_KEY")
		require.NotContains(t, err.Error(), good)
	}
}
