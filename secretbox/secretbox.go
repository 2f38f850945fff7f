// Package secretbox encrypts secrets that Hookflow must store and read back,
// such as subscriber signing secrets, so that a copy of the database (a
// backup, a replica, a leaked dump) does not hand them out.
//
// Keys come from HOOKFLOW_SECRET_KEY, a comma-separated list of
//
//	id:BASE64KEY
//
// entries (ids of letters, digits, _ . -; keys of 32 bytes, e.g. from
// "openssl rand -base64 32"). The first entry is current: Seal encrypts with
// it; Open decrypts with whichever entry the stored value names. A single
// bare BASE64KEY is accepted too and gets the id "default", so
// "k2:NEWKEY,default:OLDKEY" rotates away from it.
//
// A sealed value reads "enc:v1:<key id>:<base64 of nonce|ciphertext|tag>".
// Open returns values without the "enc:" prefix unchanged, so turning
// encryption on keeps rows written before readable; NeedsReseal finds the
// rows to rewrite before an old key is dropped.
package secretbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hookflow/hookflow/keyring"
)

// Prefix starts every sealed value; version is the format after it.
const (
	Prefix  = "enc:"
	version = "v1"
)

// Errors of Open, for errors.Is.
var (
	// ErrNoKey: the value is sealed but the box holds no key at all.
	ErrNoKey = errors.New("secretbox: value is encrypted but no key is configured (HOOKFLOW_SECRET_KEY)")
	// ErrUnknownKey: the value names a key id the box does not hold.
	ErrUnknownKey = keyring.ErrUnknownKey
	// ErrDecrypt: the value was altered, or sealed with a different key
	// under the same id.
	ErrDecrypt = keyring.ErrDecrypt
	// ErrMalformed: the value starts with "enc:" but is not of the form
	// "enc:v1:<id>:<base64>".
	ErrMalformed = errors.New("secretbox: malformed sealed value")
)

// Box seals and opens secrets. A nil or empty Box (no keys) stores
// plaintext: Seal and Open return their input. It is safe for concurrent
// use.
type Box struct {
	ring *keyring.Ring
}

// New parses a key list (see the package doc). An empty string gives an
// empty Box that passes plaintext through. Errors name the faulty entry by
// position and id, never its key.
func New(keys string) (*Box, error) {
	ring, err := keyring.Parse(keys, true)
	if err != nil {
		return nil, fmt.Errorf("secretbox: HOOKFLOW_SECRET_KEY %w", err)
	}
	return &Box{ring: ring}, nil
}

// Enabled reports whether Seal encrypts.
func (b *Box) Enabled() bool { return b != nil && !b.ring.Empty() }

// aad binds the format and key id into the tag: a value whose id was
// rewritten does not open.
func aad(id string) []byte { return []byte(Prefix + version + ":" + id) }

// Seal encrypts plaintext with the current key. Without keys it returns
// plaintext unchanged, unless plaintext itself starts with "enc:", which
// would later read as a sealed value.
func (b *Box) Seal(plaintext string) (string, error) {
	if !b.Enabled() {
		if strings.HasPrefix(plaintext, Prefix) {
			return "", fmt.Errorf("secretbox: cannot store a value starting with %q unencrypted", Prefix)
		}
		return plaintext, nil
	}
	id := b.ring.Current()
	sealed, err := b.ring.Seal(id, []byte(plaintext), aad(id))
	if err != nil {
		return "", fmt.Errorf("secretbox: %w", err)
	}
	return Prefix + version + ":" + id + ":" + base64.StdEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value Seal produced, with the key it names. A value
// without the "enc:" prefix is returned unchanged.
func (b *Box) Open(s string) (string, error) {
	if !strings.HasPrefix(s, Prefix) {
		return s, nil
	}
	id, data, err := parse(s)
	if err != nil {
		return "", err
	}
	if !b.Enabled() {
		return "", ErrNoKey
	}
	plain, err := b.ring.Open(id, data, aad(id))
	if err != nil {
		return "", fmt.Errorf("secretbox: value sealed with key id %q: %w", id, err)
	}
	return string(plain), nil
}

// NeedsReseal reports whether s should be opened and sealed again: it is
// plaintext while the box encrypts, or sealed with a key other than the
// current one. A rotation is finished, and the old key can be dropped, once
// no stored value needs a reseal.
func (b *Box) NeedsReseal(s string) bool {
	if !strings.HasPrefix(s, Prefix) {
		return b.Enabled()
	}
	id, _, err := parse(s)
	return err == nil && b.Enabled() && id != b.ring.Current()
}

func parse(s string) (id string, data []byte, err error) {
	parts := strings.SplitN(strings.TrimPrefix(s, Prefix), ":", 3)
	if len(parts) != 3 || parts[0] != version || parts[1] == "" {
		return "", nil, ErrMalformed
	}
	data, err = base64.StdEncoding.DecodeString(parts[2])
	if err != nil {
		return "", nil, ErrMalformed
	}
	return parts[1], data, nil
}
