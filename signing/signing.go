// Package signing signs webhook requests the way the Standard Webhooks
// specification (standardwebhooks.com) says, so that any of its libraries
// verifies what Hookflow sends.
package signing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every secret Hookflow hands out.
const SecretPrefix = "whsec_"

// Header names of the specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// NewSecret returns a fresh secret: "whsec_" and 32 random bytes in base64,
// the size Svix and the specification's examples use.
func NewSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("signing: read random bytes: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// DecodeSecret returns the HMAC key inside a secret.
func DecodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, errors.New("signing: secret is not base64 after the whsec_ prefix")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, errors.New("signing: secret must hold 24 to 64 bytes")
	}
	return key, nil
}

// Sign returns the webhook-signature header value for one request: a
// "v1,<base64>" entry per secret, space-separated, so a receiver that knows
// either secret of a rotation accepts it.
func Sign(secrets []string, id string, timestamp time.Time, body []byte) (string, error) {
	entries := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		key, err := DecodeSecret(secret)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(strconv.FormatInt(timestamp.Unix(), 10)))
		mac.Write([]byte{'.'})
		mac.Write(body)
		entries = append(entries, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(entries, " "), nil
}
