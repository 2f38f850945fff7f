package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hookflow/hookflow/api"
)

var (
	openAPIOnce   sync.Once
	openAPIDoc    *openapi3.T
	openAPIRouter routers.Router
	openAPIErr    error
)

// OpenAPI loads and validates the API's OpenAPI document (api/openapi.yaml).
func OpenAPI() (*openapi3.T, error) {
	openAPIOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err != nil {
			openAPIErr = fmt.Errorf("api/openapi.yaml: %w", err)
			return
		}
		openAPIDoc = doc
		// Tests run on random ports: match routes by path, whatever the host.
		byPath := *doc
		byPath.Servers = nil
		openAPIRouter, openAPIErr = gorillamux.NewRouter(&byPath)
	})
	return openAPIDoc, openAPIErr
}

// CheckResponse fails the test unless the answer to req (status, headers
// and body) is what api/openapi.yaml says that route answers: a documented
// route, a documented status, a body that fits the schema.
func CheckResponse(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := ResponseProblem(req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which api/openapi.yaml does not describe: %v\nbody: %s", req.Method, req.URL.Path, status, err, body)
	}
}

// ResponseProblem says what in an answer api/openapi.yaml does not
// describe; nil when it describes all of it.
func ResponseProblem(req *http.Request, status int, header http.Header, body []byte) error {
	if _, err := OpenAPI(); err != nil {
		return err
	}
	route, params, err := openAPIRouter.FindRoute(req)
	if err != nil {
		return fmt.Errorf("route not documented: %w", err)
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	})
}

// RequestProblem says what in a request (with its body) api/openapi.yaml
// does not describe: an undocumented route, a parameter or a body that
// does not fit; nil when it describes all of it. Clients check what they
// send with it.
func RequestProblem(req *http.Request, body []byte) error {
	if _, err := OpenAPI(); err != nil {
		return err
	}
	route, params, err := openAPIRouter.FindRoute(req)
	if err != nil {
		return fmt.Errorf("route not documented: %w", err)
	}
	clone := req.Clone(req.Context())
	// The validator reads the body more than once, through GetBody.
	clone.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	clone.Body, _ = clone.GetBody()
	clone.ContentLength = int64(len(body))
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: clone, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	})
}
