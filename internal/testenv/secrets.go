package testenv

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// secretPattern matches a subscriber secret or an application token
// ("hfat_" and base64url) in JSON text.
var secretPattern = regexp.MustCompile(`whsec_[A-Za-z0-9+/]+=*|hfat_[A-Za-z0-9_-]+`)

var seen struct {
	mu      sync.Mutex
	secrets map[string]bool
}

// rememberSecrets keeps every secret and token in a request or answer of
// the API, so that a test can check afterwards that none of them reached a
// history or a log line.
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

// SeenSecrets returns, sorted, every subscriber secret and application
// token that went through Hookflow.Do in this test process: given in a
// request or returned in an answer (creation, rotation, GET .../secret,
// minting a token).
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

var logged struct {
	mu    sync.Mutex
	lines []string
}

// rememberLeakyLogLine keeps a log line of a Hookflow process that holds
// something shaped like a secret or a token; LeakedInLogs says which of the
// seen ones it was. Only such lines are kept, so that a long test's logs do
// not pile up in memory.
func rememberLeakyLogLine(line []byte) {
	if !secretPattern.Match(line) {
		return
	}
	logged.mu.Lock()
	defer logged.mu.Unlock()
	logged.lines = append(logged.lines, string(line))
}

// LeakedInLogs returns every seen secret or token (SeenSecrets) that a log
// line of a Hookflow process started by StartHookflow holds.
func LeakedInLogs() []string {
	secrets := SeenSecrets()
	logged.mu.Lock()
	defer logged.mu.Unlock()
	var out []string
	for _, s := range secrets {
		for _, l := range logged.lines {
			if strings.Contains(l, s) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
