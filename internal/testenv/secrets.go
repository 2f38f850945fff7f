package testenv

import (
	"regexp"
	"slices"
	"sync"
)

// secretPattern matches a subscriber secret in JSON text.
var secretPattern = regexp.MustCompile(`whsec_[A-Za-z0-9+/]+=*`)

var seen struct {
	mu      sync.Mutex
	secrets map[string]bool
}

// rememberSecrets keeps every secret in a request or answer of the API, so
// that a test can check afterwards that none of them reached a history.
func rememberSecrets(raw []byte) {
	matches := secretPattern.FindAll(raw, -1)
	if len(matches) == 0 {
		return
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if seen.secrets == nil {
		seen.secrets = map[string]bool{}
	}
	for _, m := range matches {
		seen.secrets[string(m)] = true
	}
}

// SeenSecrets returns, sorted, every subscriber secret that went through
// Hookflow.Do in this test process: given in a request or returned in an
// answer (creation, rotation, GET .../secret).
func SeenSecrets() []string {
	seen.mu.Lock()
	defer seen.mu.Unlock()
	out := make([]string, 0, len(seen.secrets))
	for s := range seen.secrets {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// RememberSecrets is what Hookflow.Do does with every body, for a test
// that reaches the API another way (package client through a checking
// transport).
func RememberSecrets(raw []byte) { rememberSecrets(raw) }
