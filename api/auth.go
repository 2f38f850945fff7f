package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// keyring holds the API keys as SHA-256 digests: comparing digests of equal
// length in constant time tells nothing about a key's length or prefix.
type keyring [][32]byte

func newKeyring(keys []string) keyring {
	var k keyring
	for _, key := range keys {
		if key = strings.TrimSpace(key); key != "" {
			k = append(k, sha256.Sum256([]byte(key)))
		}
	}
	return k
}

// valid compares token with every key, without stopping at a match, so
// the time taken does not say which key (or whether any) matched.
func (k keyring) valid(token string) bool {
	sum := sha256.Sum256([]byte(token))
	match := 0
	for i := range k {
		match |= subtle.ConstantTimeCompare(sum[:], k[i][:])
	}
	return match == 1
}
