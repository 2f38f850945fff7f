// Package codec keeps webhook payloads private inside Temporal: a
// converter.PayloadCodec that encrypts every payload with AES-256-GCM before
// it reaches the Temporal service (and so its history, visibility store and
// Web UI), and an HTTP handler that decodes them again for operators who
// hold an API key (the Temporal "remote codec" protocol, for the Web UI's
// codec endpoint setting and the CLI's --codec-endpoint).
//
// Keys come from a string of the form
//
//	k2:BASE64KEY,k1:BASE64KEY
//
// (HOOKFLOW_CODEC_KEYS): each entry an id, a colon and a 32-byte key in
// base64; the first entry is current and encrypts, every entry decrypts the
// payloads whose metadata names its id. A single bare key gets the id
// "default". Payloads without the encrypted marker pass through Decode
// untouched, so histories written before encryption was turned on still
// read.
package codec

import (
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/hookflow/hookflow/keyring"
)

// Payload metadata the codec writes and reads.
const (
	// MetadataEncodingEncrypted is the "encoding" of an encrypted payload.
	MetadataEncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
)

// ErrNoKeys is returned by New for an empty key list.
var ErrNoKeys = errors.New("codec: no encryption keys configured")

// ErrUnknownKey is wrapped by Decode's error for a payload encrypted with a
// key id the codec does not hold (a key dropped from the list too early).
var ErrUnknownKey = keyring.ErrUnknownKey

// ErrDecrypt is wrapped by Decode's error for a payload that fails
// authentication: altered, truncated, or encrypted with a different key
// under the same id.
var ErrDecrypt = keyring.ErrDecrypt

// Codec encrypts payloads with the current key and decrypts with any key
// it holds. It is safe for concurrent use.
type Codec struct {
	ring *keyring.Ring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New parses a key list (see the package doc) and returns a Codec. Errors
// name the faulty entry by position and id, never its key.
func New(keys string) (*Codec, error) {
	ring, err := keyring.Parse(keys, true)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	if ring.Empty() {
		return nil, ErrNoKeys
	}
	return &Codec{ring: ring}, nil
}

// CurrentKeyID returns the id new payloads are encrypted with.
func (c *Codec) CurrentKeyID() string { return c.ring.Current() }

// aad binds the format version and the key id into the authentication tag,
// so a payload whose key-id metadata was altered fails to decrypt.
func aad(keyID string) []byte { return []byte("hookflow-codec/v1:" + keyID) }

// Encode encrypts each payload whole (metadata and data, serialized as
// protobuf) with the current key. The result carries only the encrypted
// marker and the key id in clear.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.ring.Current()
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("codec: marshal payload: %w", err)
		}
		sealed, err := c.ring.Seal(id, plain, aad(id))
		if err != nil {
			return payloads, fmt.Errorf("codec: encrypt payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataKeyID:              []byte(id),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload with the key its metadata names
// and passes every other payload through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		idBytes, ok := p.GetMetadata()[MetadataKeyID]
		if !ok {
			return payloads, fmt.Errorf("codec: encrypted payload has no %s metadata", MetadataKeyID)
		}
		id := string(idBytes)
		plain, err := c.ring.Open(id, p.GetData(), aad(id))
		if err != nil {
			return payloads, fmt.Errorf("codec: payload encrypted with key id %q: %w", id, err)
		}
		decoded := &commonpb.Payload{}
		if err := proto.Unmarshal(plain, decoded); err != nil {
			return payloads, fmt.Errorf("codec: unmarshal decrypted payload: %w", err)
		}
		out[i] = decoded
	}
	return out, nil
}
