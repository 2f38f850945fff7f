// Package access decides who may call which route: admin keys reach every
// route, an application token reaches only its own application's routes
// that a consumer may use. It holds the pure decision and the token
// format; package api reads the credentials and keeps the table of rules.
package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/oklog/ulid/v2"
)

// TokenPrefix starts every application token, so that a token found in a
// log or a paste is recognisable (and a secret scanner can look for it).
const TokenPrefix = "hfat_"

// tokenBytes of randomness: 256 bits, far beyond guessing, which is what
// lets a plain SHA-256 (no salt, no slow hash) protect tokens at rest.
const tokenBytes = 32

// NewToken returns a fresh application token: TokenPrefix and the
// unpadded base64url of 32 random bytes.
func NewToken() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// NewTokenID returns a fresh token id, "tok_" and a ULID, so that a
// listing by id follows creation order.
func NewTokenID() string { return "tok_" + ulid.MustNew(ulid.Now(), rand.Reader).String() }

// IsToken reports whether s has the shape of an application token. Only
// such strings are looked up, so that an admin key typed wrong costs no
// database read.
func IsToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix) && len(s) > len(TokenPrefix)
}

// Hash is what the store keeps of a token: its SHA-256, in hex.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Kind says who a request comes from.
type Kind int

// The kinds of principal.
const (
	// Anonymous presented no credentials.
	Anonymous Kind = iota
	// Invalid presented credentials that let no one in: an unknown key or
	// token, or an expired or revoked token.
	Invalid
	// Admin presented an admin key (or no key is configured at all).
	Admin
	// Application presented a live application token.
	Application
)

// Principal is who a request comes from.
type Principal struct {
	Kind Kind
	// ApplicationID and TokenID are set for Application.
	ApplicationID string
	TokenID       string
}

// Rule is what a route asks of a caller. The zero Rule is no rule at all,
// which Allow refuses to everyone: a route nobody gave a rule is closed.
type Rule int

// The rules.
const (
	// NoRule is the route nobody classified: refused.
	NoRule Rule = iota
	// Public is open to anyone (health, metrics, the OpenAPI document, and
	// the codec, which authenticates on its own).
	Public
	// AdminOnly needs an admin key.
	AdminOnly
	// App needs an admin key or a token of the application in the path.
	App
)

func (r Rule) String() string {
	switch r {
	case Public:
		return "public"
	case AdminOnly:
		return "admin"
	case App:
		return "app"
	default:
		return "none"
	}
}

// Decision is Allow's answer.
type Decision int

// The decisions.
const (
	// Allowed lets the request through.
	Allowed Decision = iota
	// Unauthenticated is 401: no credentials, or ones that let no one in.
	Unauthenticated
	// Forbidden is 403: credentials that are good, but not for this route.
	Forbidden
)

// Allow decides whether p may call a route with rule, pathApp being the
// application the route's path names ("" when it names none).
func Allow(rule Rule, p Principal, pathApp string) Decision {
	switch rule {
	case Public:
		return Allowed
	case AdminOnly, App:
	default:
		return Forbidden
	}
	switch p.Kind {
	case Admin:
		return Allowed
	case Application:
		if rule == App && pathApp != "" && p.ApplicationID == pathApp {
			return Allowed
		}
		return Forbidden
	default:
		return Unauthenticated
	}
}
