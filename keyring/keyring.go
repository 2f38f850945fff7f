// Package keyring holds the AES-256-GCM keys that codec and secretbox share
// the format of: a comma-separated list of "id:base64key" entries, the first
// one current (used to encrypt), every one usable to decrypt. Rotation is
// putting a new entry first and keeping the old ones after it until nothing
// encrypted with them is left.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of every key: AES-256.
const KeySize = 32

// DefaultID is the id of a key given bare, without "id:".
const DefaultID = "default"

// ErrUnknownKey is returned by Open for a key id the ring does not hold.
var ErrUnknownKey = errors.New("unknown key id")

// ErrDecrypt is returned by Open when the data fails authentication: it was
// altered, truncated, or sealed with another key or associated data.
var ErrDecrypt = errors.New("decryption failed: data altered or sealed with another key")

// Ring is a parsed key list. The zero value and nil hold no key.
type Ring struct {
	ids   []string // in configuration order; ids[0] is current
	aeads map[string]cipher.AEAD
}

// Parse reads "id:base64key[,id:base64key...]". When allowBare is true a
// single entry without "id:" is accepted and gets DefaultID. Ids are 1 to 64
// of the characters A-Z a-z 0-9 _ . - and must be distinct. Keys are 32
// bytes in standard or URL-safe base64, padded or not. Blank entries are
// ignored; blank input gives an empty ring. Errors name the entry by position, never its key.
func Parse(s string, allowBare bool) (*Ring, error) {
	r := &Ring{aeads: map[string]cipher.AEAD{}}
	if strings.TrimSpace(s) == "" {
		return r, nil
	}
	var entries []string
	for entry := range strings.SplitSeq(s, ",") {
		if entry = strings.TrimSpace(entry); entry != "" {
			entries = append(entries, entry)
		}
	}
	for i, entry := range entries {
		id, b64, found := strings.Cut(entry, ":")
		if !found {
			if !allowBare || len(entries) > 1 {
				return nil, fmt.Errorf("entry %d: want id:base64key", i+1)
			}
			id, b64 = DefaultID, entry
		}
		if err := validID(id); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("entry %d: key id %q appears twice", i+1, id)
		}
		key, err := decodeKey(b64)
		if err != nil {
			return nil, fmt.Errorf("entry %d (key id %q): %w", i+1, id, err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("entry %d (key id %q): %w", i+1, id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("entry %d (key id %q): %w", i+1, id, err)
		}
		r.ids = append(r.ids, id)
		r.aeads[id] = aead
	}
	return r, nil
}

func validID(id string) error {
	if id == "" || len(id) > 64 {
		return errors.New("key id must have 1 to 64 characters")
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return fmt.Errorf("key id %q may hold only letters, digits, _ . -", id)
		}
	}
	return nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("key has %d bytes, want %d", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("key is not base64")
}

// Empty reports whether the ring holds no key.
func (r *Ring) Empty() bool { return r == nil || len(r.ids) == 0 }

// Current returns the id of the key Seal should use, "" for an empty ring.
func (r *Ring) Current() string {
	if r.Empty() {
		return ""
	}
	return r.ids[0]
}

// IDs returns the key ids, current first.
func (r *Ring) IDs() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.ids...)
}

// Seal encrypts plaintext with key id under a fresh random nonce and returns
// nonce|ciphertext|tag. aad is authenticated, not stored.
func (r *Ring) Seal(id string, plaintext, aad []byte) ([]byte, error) {
	aead, err := r.aead(id)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open reverses Seal.
func (r *Ring) Open(id string, sealed, aad []byte) ([]byte, error) {
	aead, err := r.aead(id)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrDecrypt
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

func (r *Ring) aead(id string) (cipher.AEAD, error) {
	if r != nil {
		if aead, ok := r.aeads[id]; ok {
			return aead, nil
		}
	}
	return nil, fmt.Errorf("%w (configured: %s)", ErrUnknownKey, r.describe())
}

func (r *Ring) describe() string {
	if r.Empty() {
		return "none"
	}
	return strings.Join(r.ids, ", ")
}
