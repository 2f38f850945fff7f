package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Do sends a JSON request to the API and decodes the answer into out
// (when not nil); it returns the status code. Headers come in name, value
// pairs. Every subscriber secret in the request or the answer is
// remembered for SeenSecrets. Every answer is checked against the OpenAPI
// document: an undocumented route, status or shape fails the test.
func (h *Hookflow) Do(t testing.TB, method, path string, body any, out any, headers ...string) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode request: %v", err)
		}
		rememberSecrets(b)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	rememberSecrets(raw)
	CheckResponse(t, req, resp.StatusCode, resp.Header, raw)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode answer %q: %v", raw, err)
		}
	}
	return resp.StatusCode
}
