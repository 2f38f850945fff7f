package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.temporal.io/sdk/converter"
)

// DefaultMaxBodyBytes caps a codec request body unless HandlerOptions says
// otherwise. The Web UI sends a page of history events' payloads at a time;
// Temporal's own limit for one payload is 2 MiB.
const DefaultMaxBodyBytes = 8 << 20

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// APIKeys are the bearer tokens accepted in "Authorization: Bearer
	// <key>" (HOOKFLOW_API_KEYS). Empty means no authentication, as for the
	// rest of the API.
	APIKeys []string
	// AllowedOrigins are the browser origins, "scheme://host[:port]", whose
	// pages may call the endpoint with credentials: the Temporal Web UI,
	// typically "http://127.0.0.1:8233" and "http://localhost:8233" for the
	// dev server (the browser sends whichever host was typed). Empty means
	// no cross-origin access; the CLI needs none.
	AllowedOrigins []string
	// MaxBodyBytes caps a request body. Defaults to DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Preflight answers allow these request headers: the bearer token, the
// JSON content type and the namespace the UI and CLI send.
const allowedHeaders = "Authorization, Content-Type, X-Namespace"

// NewHandler serves the Temporal remote codec protocol for codecs: POST
// .../encode and POST .../decode with a JSON body {"payloads":[...]}
// (the SDK's converter.NewPayloadCodecHTTPHandler does the protocol; only the
// last path segment counts, so it can be mounted under any prefix such as
// /v1/codec, and the CLI's /{namespace}/decode templating works too).
//
// Around it: CORS for AllowedOrigins (preflight answered with 204, Allow-
// Credentials true, never a wildcard), bearer authentication against
// APIKeys in constant time (401 {"error":{"code":"unauthorized",...}}), and
// a body size cap (413). A preflight from an origin not listed gets 403;
// other requests from such an origin are served without CORS headers, so
// the browser keeps their answer from the page.
func NewHandler(opts HandlerOptions, codecs ...converter.PayloadCodec) (http.Handler, error) {
	if len(codecs) == 0 {
		return nil, errors.New("codec: NewHandler needs at least one codec")
	}
	origins := make(map[string]bool, len(opts.AllowedOrigins))
	for _, o := range opts.AllowedOrigins {
		norm, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		origins[norm] = true
	}
	h := &handler{
		next:     converter.NewPayloadCodecHTTPHandler(codecs...),
		origins:  origins,
		maxBytes: opts.MaxBodyBytes,
	}
	if h.maxBytes <= 0 {
		h.maxBytes = DefaultMaxBodyBytes
	}
	for _, k := range opts.APIKeys {
		if k = strings.TrimSpace(k); k != "" {
			h.keyDigests = append(h.keyDigests, sha256.Sum256([]byte(k)))
		}
	}
	return h, nil
}

// normalizeOrigin checks that s is a bare origin and lower-cases it the way
// browsers serialize the Origin header.
func normalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("codec: allowed origin %q must look like http://host:port, without path or wildcard", s)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

type handler struct {
	next       http.Handler
	origins    map[string]bool
	keyDigests [][sha256.Size]byte
	maxBytes   int64
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	originAllowed := h.cors(w, r)
	if r.Method == http.MethodOptions {
		h.preflight(w, r, originAllowed)
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hookflow-codec"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "a valid API key is required: Authorization: Bearer <key>")
		return
	}
	if r.ContentLength > h.maxBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
			"request body exceeds "+strconv.FormatInt(h.maxBytes, 10)+" bytes")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBytes)
	h.next.ServeHTTP(w, r)
}

// cors sets the response headers for an allowed Origin and reports whether
// the request's origin is allowed.
func (h *handler) cors(w http.ResponseWriter, r *http.Request) bool {
	if len(h.origins) == 0 {
		return false
	}
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !h.origins[strings.ToLower(origin)] {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
	return true
}

func (h *handler) preflight(w http.ResponseWriter, r *http.Request, originAllowed bool) {
	if r.Header.Get("Origin") != "" && !originAllowed {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "this origin may not call the codec endpoint")
		return
	}
	w.Header().Set("Allow", "OPTIONS, POST")
	if originAllowed {
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", allowedHeaders)
		w.Header().Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}

// authorized compares SHA-256 digests of the presented token and of every
// key, all of them, in constant time, so neither the matching key nor the
// keys' lengths leak through timing.
func (h *handler) authorized(r *http.Request) bool {
	if len(h.keyDigests) == 0 {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	presented := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for i := range h.keyDigests {
		match |= subtle.ConstantTimeCompare(presented[:], h.keyDigests[i][:])
	}
	return match == 1
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError writes the error shape of the Hookflow API.
func writeError(w http.ResponseWriter, status int, code, message string) {
	var body errorBody
	body.Error.Code = code
	body.Error.Message = message
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
