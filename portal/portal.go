// Package portal is the subscriber portal: a small page, served at
// /portal/ from files embedded in the binary, where an application's
// developer manages and debugs their own webhooks with the application
// token their portal link carries (POST /v1/applications/{app}/portal-access).
//
// The page is static: html, one script and one stylesheet, no build step
// and nothing fetched from elsewhere. It holds no data of its own: every
// subscription, delivery and attempt comes from the API, with the token,
// so the page can show and do exactly what the token may. The files are
// therefore public, like /openapi.yaml, and sit outside the API's router
// and its access table (api/access.go).
package portal

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is sent with every portal response. Everything
// comes from Hookflow itself; no inline script or style (the page has
// none), so a subscriber's data that slipped into the page as markup
// still could not run; no framing (clickjacking), no form posting
// anywhere, no <base> rewriting.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the portal's files under /portal/.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.StripPrefix("/portal/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		// The files change with the binary; revalidating each time keeps a
		// browser from running an old script against a new API.
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/portal" {
			// The fragment (the token) stays with the browser across the
			// redirect: a Location without one keeps it.
			http.Redirect(w, r, "/portal/", http.StatusMovedPermanently)
			return
		}
		files.ServeHTTP(w, r)
	})
}

// Mount serves the portal at /portal and /portal/..., and everything else
// with next (the API).
func Mount(next http.Handler) http.Handler {
	p := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/portal" || strings.HasPrefix(r.URL.Path, "/portal/") {
			p.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
