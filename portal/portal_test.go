package portal_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/portal"
)

// Every portal answer carries the strict policy and the anti-framing
// headers; the page loads nothing from elsewhere and has no inline script.
func TestPortalResponsesCarrySecurityHeaders(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(portal.Mount(api))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	for _, path := range []string{"/portal/", "/portal/portal.js", "/portal/portal.css", "/portal/nope", "/portal"} {
		resp, _ := get(path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'self'", path)
		require.Contains(t, csp, "script-src 'self';", path)
		require.Contains(t, csp, "frame-ancestors 'none'", path)
		require.NotContains(t, csp, "unsafe-inline", path)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
	}
	resp, page := get("/portal/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, page, `<script src="portal.js" defer></script>`)
	require.Equal(t, 1, strings.Count(page, "<script"), "one script, from a file: no inline script")
	require.NotContains(t, page, "style=", "no inline style")
	require.NotContains(t, page, "http", "nothing from elsewhere: no CDN, no font")
	resp, js := get("/portal/portal.js")
	require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	require.NotContains(t, js, "innerHTML", "data goes in with textContent only")
	require.NotContains(t, js, "insertAdjacentHTML")
	require.NotContains(t, js, "document.write")
	require.NotContains(t, js, "eval(")
	resp, _ = get("/portal")
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.Equal(t, "/portal/", resp.Header.Get("Location"))
	resp, _ = get("/portal/nope")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get("/v1/applications")
	require.Equal(t, http.StatusTeapot, resp.StatusCode, "the rest goes to the API")
	resp, _ = get("/portalx")
	require.Equal(t, http.StatusTeapot, resp.StatusCode)

	post, err := http.Post(srv.URL+"/portal/", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	_ = post.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}
