package keyring_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/keyring"
)

func key(b byte) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), keyring.KeySize)))
}

func TestParseKeepsOrderAndCurrent(t *testing.T) {
	r, err := keyring.Parse(" k2:"+key('b')+" , k1:"+key('a')+",", false)
	require.NoError(t, err)
	require.Equal(t, "k2", r.Current())
	require.Equal(t, []string{"k2", "k1"}, r.IDs())
	require.False(t, r.Empty())
}

func TestParseBareKey(t *testing.T) {
	r, err := keyring.Parse(key('a'), true)
	require.NoError(t, err)
	require.Equal(t, keyring.DefaultID, r.Current())

	_, err = keyring.Parse(key('a'), false)
	require.ErrorContains(t, err, "want id:base64key")
	_, err = keyring.Parse(key('a')+",k1:"+key('b'), true)
	require.ErrorContains(t, err, "entry 1: want id:base64key")
}

func TestEmptyRing(t *testing.T) {
	for _, s := range []string{"", "  ", ",,"} {
		r, err := keyring.Parse(s, true)
		require.NoError(t, err)
		require.True(t, r.Empty())
		require.Empty(t, r.Current())
		_, err = r.Seal(r.Current(), []byte("x"), nil)
		require.ErrorIs(t, err, keyring.ErrUnknownKey)
		require.ErrorContains(t, err, "configured: none")
	}
	var nilRing *keyring.Ring
	require.True(t, nilRing.Empty())
	_, err := nilRing.Open("k1", []byte("x"), nil)
	require.ErrorIs(t, err, keyring.ErrUnknownKey)
}

func TestSealOpen(t *testing.T) {
	r, err := keyring.Parse("k2:"+key('b')+",k1:"+key('a'), false)
	require.NoError(t, err)
	sealed, err := r.Seal("k1", []byte("hello"), []byte("ctx"))
	require.NoError(t, err)
	plain, err := r.Open("k1", sealed, []byte("ctx"))
	require.NoError(t, err)
	require.Equal(t, "hello", string(plain))

	_, err = r.Open("k2", sealed, []byte("ctx"))
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	_, err = r.Open("k1", sealed, []byte("other ctx"))
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	_, err = r.Open("k1", sealed[:5], []byte("ctx"))
	require.ErrorIs(t, err, keyring.ErrDecrypt)
	_, err = r.Open("k3", sealed, []byte("ctx"))
	require.ErrorIs(t, err, keyring.ErrUnknownKey)
	require.ErrorContains(t, err, "configured: k2, k1")
}

func TestParseErrorsNeverShowKeys(t *testing.T) {
	long := base64.StdEncoding.EncodeToString(make([]byte, 48))
	for _, s := range []string{"k1:" + long, "k1:" + long + "!", "bad id:" + long, "k1:" + long + ",k1:" + long} {
		_, err := keyring.Parse(s, true)
		require.Error(t, err, s)
		require.NotContains(t, err.Error(), long)
	}
}
