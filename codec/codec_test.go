package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/hookflow/hookflow/codec"
)

// newKey returns a fresh 32-byte key in base64.
func newKey(t *testing.T) string {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(k)
}

func mustCodec(t *testing.T, keys string) *codec.Codec {
	t.Helper()
	c, err := codec.New(keys)
	require.NoError(t, err)
	return c
}

func jsonPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestRoundTrip(t *testing.T) {
	c := mustCodec(t, "k1:"+newKey(t))
	in := []*commonpb.Payload{
		jsonPayload(t, map[string]string{"hello": "world"}),
		jsonPayload(t, nil),
		{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: []byte{0, 1, 2}},
	}
	enc, err := c.Encode(in)
	require.NoError(t, err)
	require.Len(t, enc, len(in))
	for i, p := range enc {
		require.Equal(t, codec.MetadataEncodingEncrypted, string(p.Metadata["encoding"]))
		require.Equal(t, "k1", string(p.Metadata[codec.MetadataKeyID]))
		require.Len(t, p.Metadata, 2, "nothing but the marker and the key id in clear")
		require.NotEqual(t, in[i].Data, p.Data)
	}

	dec, err := c.Decode(enc)
	require.NoError(t, err)
	require.Len(t, dec, len(in))
	for i := range in {
		require.Equal(t, in[i].Metadata, dec[i].Metadata)
		require.Equal(t, in[i].Data, dec[i].Data)
	}
}

func TestEncodeUsesAFreshNonceEachTime(t *testing.T) {
	c := mustCodec(t, "k1:"+newKey(t))
	p := jsonPayload(t, "same")
	a, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	b, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.NotEqual(t, a[0].Data, b[0].Data)
}

func TestDataConverterHidesTheValue(t *testing.T) {
	type subscriberRequest struct {
		URL    string
		Secret string
	}
	c := mustCodec(t, "k1:"+newKey(t))
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)

	in := subscriberRequest{URL: "https://hooks.example.test/in", Secret: "top-secret-data"}
	payload, err := dc.ToPayload(in)
	require.NoError(t, err)
	wire, err := payload.Marshal()
	require.NoError(t, err)
	require.NotContains(t, string(wire), "top-secret-data")
	require.NotContains(t, string(wire), "hooks.example.test")

	// The same converter without the codec leaks it, so the check above
	// tests the codec and not the serialization.
	plain, err := converter.GetDefaultDataConverter().ToPayload(in)
	require.NoError(t, err)
	plainWire, err := plain.Marshal()
	require.NoError(t, err)
	require.Contains(t, string(plainWire), "top-secret-data")

	var out subscriberRequest
	require.NoError(t, dc.FromPayload(payload, &out))
	require.Equal(t, in, out)
}

func TestRotationDecodesPayloadsOfTheOldKey(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	before := mustCodec(t, "k1:"+k1)
	oldPayloads, err := before.Encode([]*commonpb.Payload{jsonPayload(t, "written before rotation")})
	require.NoError(t, err)

	after := mustCodec(t, "k2:"+k2+", k1:"+k1)
	require.Equal(t, "k2", after.CurrentKeyID())
	newPayloads, err := after.Encode([]*commonpb.Payload{jsonPayload(t, "written after rotation")})
	require.NoError(t, err)
	require.Equal(t, "k2", string(newPayloads[0].Metadata[codec.MetadataKeyID]))

	var s string
	dec, err := after.Decode(oldPayloads)
	require.NoError(t, err)
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &s))
	require.Equal(t, "written before rotation", s)

	dec, err = after.Decode(newPayloads)
	require.NoError(t, err)
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[0], &s))
	require.Equal(t, "written after rotation", s)

	// The codec from before the rotation cannot read what the new key wrote.
	_, err = before.Decode(newPayloads)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
}

func TestTamperedPayloadsFail(t *testing.T) {
	c := mustCodec(t, "k1:"+newKey(t)+",k0:"+newKey(t))
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "payload")})
	require.NoError(t, err)
	good := enc[0]

	clone := func() *commonpb.Payload {
		md := map[string][]byte{}
		for k, v := range good.Metadata {
			md[k] = bytes.Clone(v)
		}
		return &commonpb.Payload{Metadata: md, Data: bytes.Clone(good.Data)}
	}
	flipped := clone()
	flipped.Data[len(flipped.Data)/2] ^= 0x01
	truncated := clone()
	truncated.Data = truncated.Data[:10]
	otherKey := clone()
	otherKey.Metadata[codec.MetadataKeyID] = []byte("k0")

	for name, p := range map[string]*commonpb.Payload{"flipped bit": flipped, "truncated": truncated, "key id swapped": otherKey} {
		_, err := c.Decode([]*commonpb.Payload{p})
		require.ErrorIs(t, err, codec.ErrDecrypt, name)
	}

	noID := clone()
	delete(noID.Metadata, codec.MetadataKeyID)
	_, err = c.Decode([]*commonpb.Payload{noID})
	require.ErrorContains(t, err, "no encryption-key-id metadata")
}

func TestUnknownKeyIDFailsClearly(t *testing.T) {
	old := mustCodec(t, "k0:"+newKey(t))
	enc, err := old.Encode([]*commonpb.Payload{jsonPayload(t, "payload")})
	require.NoError(t, err)

	c := mustCodec(t, "k2:"+newKey(t)+",k1:"+newKey(t))
	_, err = c.Decode(enc)
	require.ErrorIs(t, err, codec.ErrUnknownKey)
	require.EqualError(t, err, `codec: payload encrypted with key id "k0": unknown key id (configured: k2, k1)`)
}

func TestPlaintextPayloadsPassThroughDecode(t *testing.T) {
	c := mustCodec(t, "k1:"+newKey(t))
	plain := []*commonpb.Payload{
		jsonPayload(t, map[string]int{"n": 1}),
		{Metadata: map[string][]byte{"encoding": []byte("binary/zlib")}, Data: []byte("not ours")},
		{},
	}
	mixed := append([]*commonpb.Payload{}, plain...)
	enc, err := c.Encode([]*commonpb.Payload{jsonPayload(t, "secret")})
	require.NoError(t, err)
	mixed = append(mixed, enc[0])

	dec, err := c.Decode(mixed)
	require.NoError(t, err)
	for i := range plain {
		require.Same(t, plain[i], dec[i])
	}
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(dec[3], &s))
	require.Equal(t, "secret", s)
}

func TestNewRefusesBadKeyLists(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	good := newKey(t)
	cases := map[string]string{
		"":                           "no encryption keys",
		"  , ":                       "no encryption keys",
		"k1:not base64!":             "entry 1 (key id \"k1\"): key is not base64",
		"k1:" + short:                "key has 16 bytes, want 32",
		"k1:" + good + ",k1:" + good: "key id \"k1\" appears twice",
		"k 1:" + good:                "may hold only letters",
		":" + good:                   "key id must have 1 to 64 characters",
		good + ",k1:" + good:         "entry 1: want id:base64key",
	}
	for keys, want := range cases {
		_, err := codec.New(keys)
		require.ErrorContains(t, err, want, keys)
		require.NotContains(t, err.Error(), good, "errors must not echo key material")
	}

	// A single bare key gets the default id; URL-safe and unpadded base64 are
	// accepted too.
	c, err := codec.New(good)
	require.NoError(t, err)
	require.Equal(t, "default", c.CurrentKeyID())
	raw, err := base64.StdEncoding.DecodeString(good)
	require.NoError(t, err)
	_, err = codec.New("k1:" + strings.TrimRight(base64.URLEncoding.EncodeToString(raw), "="))
	require.NoError(t, err)
}
