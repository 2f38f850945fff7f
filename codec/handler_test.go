package codec_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hookflow/hookflow/codec"
)

const uiOrigin = "http://127.0.0.1:8233"

type handlerBundle struct {
	codec   *codec.Codec
	handler http.Handler
}

func setupHandler(t *testing.T, opts codec.HandlerOptions) handlerBundle {
	t.Helper()
	c := mustCodec(t, "k1:"+newKey(t))
	h, err := codec.NewHandler(opts, c)
	require.NoError(t, err)
	return handlerBundle{codec: c, handler: h}
}

func defaultOptions() codec.HandlerOptions {
	return codec.HandlerOptions{
		APIKeys:        []string{"key-one", "key-two-is-longer"},
		AllowedOrigins: []string{uiOrigin, "http://localhost:8233"},
	}
}

// encryptedBody returns a /decode request body holding one encrypted payload
// of the string "decoded for the operator".
func (b handlerBundle) encryptedBody(t *testing.T) []byte {
	t.Helper()
	enc, err := b.codec.Encode([]*commonpb.Payload{jsonPayload(t, "decoded for the operator")})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)
	return body
}

func serve(h http.Handler, method, target string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeResponse(t *testing.T, rec *httptest.ResponseRecorder) []*commonpb.Payload {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(rec.Body.Bytes(), &out))
	return out.Payloads
}

func requireAPIError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	require.Equal(t, code, body.Error.Code)
	require.NotEmpty(t, body.Error.Message)
}

func TestHandlerDecodesForACallerWithAKey(t *testing.T) {
	b := setupHandler(t, defaultOptions())
	for _, key := range []string{"key-one", "key-two-is-longer"} {
		rec := serve(b.handler, http.MethodPost, "/v1/codec/decode", b.encryptedBody(t),
			map[string]string{"Authorization": "Bearer " + key})
		payloads := decodeResponse(t, rec)
		require.Len(t, payloads, 1)
		var s string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(payloads[0], &s))
		require.Equal(t, "decoded for the operator", s)
	}
}

func TestHandlerServesTheCLINamespacePathAndEncode(t *testing.T) {
	b := setupHandler(t, defaultOptions())
	auth := map[string]string{"Authorization": "Bearer key-one"}

	// temporal --codec-endpoint 'http://.../v1/codec/{namespace}'
	payloads := decodeResponse(t, serve(b.handler, http.MethodPost, "/v1/codec/default/decode", b.encryptedBody(t), auth))
	require.Equal(t, "json/plain", string(payloads[0].Metadata["encoding"]))

	plain, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{jsonPayload(t, "signal input")}})
	require.NoError(t, err)
	encoded := decodeResponse(t, serve(b.handler, http.MethodPost, "/v1/codec/encode", plain, auth))
	require.Equal(t, codec.MetadataEncodingEncrypted, string(encoded[0].Metadata["encoding"]))
	require.NotContains(t, string(encoded[0].Data), "signal input")
	back, err := b.codec.Decode(encoded)
	require.NoError(t, err)
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(back[0], &s))
	require.Equal(t, "signal input", s)
}

func TestHandlerRefusesCallersWithoutAValidKey(t *testing.T) {
	b := setupHandler(t, defaultOptions())
	for name, header := range map[string]map[string]string{
		"no header":       {},
		"wrong key":       {"Authorization": "Bearer key-three"},
		"prefix of a key": {"Authorization": "Bearer key-on"},
		"key plus more":   {"Authorization": "Bearer key-one-and-more"},
		"not bearer":      {"Authorization": "Basic a2V5LW9uZTo="},
		"bare key":        {"Authorization": "key-one"},
		"empty bearer":    {"Authorization": "Bearer "},
	} {
		rec := serve(b.handler, http.MethodPost, "/v1/codec/decode", b.encryptedBody(t), header)
		requireAPIError(t, rec, http.StatusUnauthorized, "unauthorized")
		require.NotContains(t, rec.Body.String(), "decoded for the operator", name)
		require.Equal(t, `Bearer realm="hookflow-codec"`, rec.Header().Get("WWW-Authenticate"))
	}
}

func TestHandlerWithoutKeysNeedsNoAuth(t *testing.T) {
	b := setupHandler(t, codec.HandlerOptions{})
	payloads := decodeResponse(t, serve(b.handler, http.MethodPost, "/decode", b.encryptedBody(t), nil))
	require.Len(t, payloads, 1)
}

func TestHandlerAnswersCORSPreflight(t *testing.T) {
	b := setupHandler(t, defaultOptions())
	for _, origin := range []string{uiOrigin, "http://localhost:8233"} {
		rec := serve(b.handler, http.MethodOptions, "/v1/codec/decode", nil, map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization,content-type,x-namespace",
		})
		require.Equal(t, http.StatusNoContent, rec.Code)
		h := rec.Header()
		require.Equal(t, origin, h.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
		require.Contains(t, h.Get("Access-Control-Allow-Methods"), "POST")
		for _, want := range []string{"Authorization", "Content-Type", "X-Namespace"} {
			require.Contains(t, h.Get("Access-Control-Allow-Headers"), want)
		}
		require.Contains(t, h.Values("Vary"), "Origin")
	}

	rec := serve(b.handler, http.MethodOptions, "/v1/codec/decode", nil, map[string]string{
		"Origin":                        "https://evil.example.test",
		"Access-Control-Request-Method": "POST",
	})
	requireAPIError(t, rec, http.StatusForbidden, "origin_not_allowed")
	require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestHandlerSetsCORSHeadersOnlyForAllowedOrigins(t *testing.T) {
	b := setupHandler(t, defaultOptions())

	rec := serve(b.handler, http.MethodPost, "/v1/codec/decode", b.encryptedBody(t), map[string]string{
		"Origin": uiOrigin, "Authorization": "Bearer key-one",
	})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, uiOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))

	// The UI must be able to read a 401 too, to show why.
	rec = serve(b.handler, http.MethodPost, "/v1/codec/decode", b.encryptedBody(t), map[string]string{"Origin": uiOrigin})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Equal(t, uiOrigin, rec.Header().Get("Access-Control-Allow-Origin"))

	rec = serve(b.handler, http.MethodPost, "/v1/codec/decode", b.encryptedBody(t), map[string]string{
		"Origin": "https://evil.example.test", "Authorization": "Bearer key-one",
	})
	require.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	require.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))
}

func TestHandlerCapsTheBody(t *testing.T) {
	opts := defaultOptions()
	opts.MaxBodyBytes = 64
	b := setupHandler(t, opts)
	auth := map[string]string{"Authorization": "Bearer key-one"}
	big := []byte(`{"payloads":[{"data":"` + strings.Repeat("A", 200) + `"}]}`)

	rec := serve(b.handler, http.MethodPost, "/v1/codec/decode", big, auth)
	requireAPIError(t, rec, http.StatusRequestEntityTooLarge, "payload_too_large")

	// Without a Content-Length the reader cap still stops it.
	req := httptest.NewRequest(http.MethodPost, "/v1/codec/decode", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer key-one")
	rr := httptest.NewRecorder()
	b.handler.ServeHTTP(rr, req)
	require.Equal(t, http.StatusBadRequest, rr.Code)
	require.Contains(t, rr.Body.String(), "too large")
}

func TestHandlerReportsUndecodablePayloads(t *testing.T) {
	b := setupHandler(t, defaultOptions())
	other := mustCodec(t, "k9:"+newKey(t))
	enc, err := other.Encode([]*commonpb.Payload{jsonPayload(t, "x")})
	require.NoError(t, err)
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	require.NoError(t, err)
	rec := serve(b.handler, http.MethodPost, "/v1/codec/decode", body, map[string]string{"Authorization": "Bearer key-one"})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), `unknown key id`)
}

func TestNewHandlerRefusesBadOrigins(t *testing.T) {
	c := mustCodec(t, "k1:"+newKey(t))
	for _, bad := range []string{"*", "null", "localhost:8233", "http://localhost:8233/ui", "ftp://x", "http://u@h"} {
		_, err := codec.NewHandler(codec.HandlerOptions{AllowedOrigins: []string{bad}}, c)
		require.Error(t, err, bad)
	}
	_, err := codec.NewHandler(codec.HandlerOptions{})
	require.Error(t, err, "no codec")
	_, err = codec.NewHandler(codec.HandlerOptions{AllowedOrigins: []string{"HTTP://LocalHost:8233/"}}, c)
	require.NoError(t, err)
}
