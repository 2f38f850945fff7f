package testenv_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/internal/testenv"
)

// The response check bites: what the document does not describe fails.
func TestResponseProblemFindsWhatTheDocumentDoesNotDescribe(t *testing.T) {
	req := func(method, path string) *http.Request {
		r, err := http.NewRequest(method, "http://127.0.0.1:1"+path, nil)
		require.NoError(t, err)
		return r
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	okErr := []byte(`{"error":{"code":"not_found","message":"no such subscription"}}`)

	require.NoError(t, testenv.ResponseProblem(req("GET", "/v1/subscriptions/sub_1"), 404, jsonHeader, okErr))
	require.Error(t, testenv.ResponseProblem(req("GET", "/v1/subscriptions/sub_1"), 500, jsonHeader, okErr), "undocumented status")
	require.Error(t, testenv.ResponseProblem(req("GET", "/v1/nothing"), 404, jsonHeader, okErr), "undocumented route")
	require.Error(t, testenv.ResponseProblem(req("GET", "/v1/subscriptions/sub_1"), 404, jsonHeader,
		[]byte(`{"error":{"code":"not_found"}}`)), "error without message")
	require.Error(t, testenv.ResponseProblem(req("GET", "/v1/subscriptions/sub_1"), 200, jsonHeader,
		[]byte(`{"id":"sub_1","url":"https://e.com","event_types":["a"],"status":"active"}`)), "missing required fields")
	require.Error(t, testenv.ResponseProblem(req("POST", "/v1/events"), 202, jsonHeader,
		[]byte(`{"id":"e","type":"a","workflow_id":"event:e","run_id":"r","status":"accepted","secret":"x"}`)), "unknown field")
}
