package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/hookflow/hookflow/api"
	"github.com/hookflow/hookflow/dispatch"
	"github.com/hookflow/hookflow/internal/testenv"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

// testAPI is the router over a real SQLite store and a mocked Temporal
// client that starts each workflow id once.
type testAPI struct {
	router *gin.Engine
	svc    *service.Service
	store  store.Store
	// down makes every Temporal call fail as if the server were gone.
	down atomic.Bool
	mu   sync.Mutex
	runs map[string]string // workflow id → run id
	now  time.Time
}

type apiOptions struct {
	keys        []string
	maxBody     int64
	strictTypes bool
	secretGrace time.Duration
	maxPending  int
}

func newTestAPI(t testing.TB, o apiOptions) *testAPI {
	t.Helper()
	gin.SetMode(gin.TestMode)
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "api.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	ta := &testAPI{store: st, runs: map[string]string{}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	tc := &mocks.Client{}
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_ context.Context, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
			if ta.down.Load() {
				return nil, serviceerror.NewUnavailable("connection refused")
			}
			ta.mu.Lock()
			defer ta.mu.Unlock()
			runID, ok := ta.runs[opts.ID]
			if !ok {
				runID = "run-" + opts.ID
				ta.runs[opts.ID] = runID
			}
			run := &mocks.WorkflowRun{}
			run.On("GetRunID").Return(runID).Maybe()
			run.On("GetID").Return(opts.ID).Maybe()
			return run, nil
		})
	if o.maxBody == 0 {
		o.maxBody = 256 << 10
	}
	if o.secretGrace == 0 {
		o.secretGrace = 24 * time.Hour
	}
	ta.svc = &service.Service{
		Store: st, Temporal: tc, TaskQueue: "test", SecretGrace: o.secretGrace,
		AllowUnknownEventTypes: !o.strictTypes, Now: func() time.Time { return ta.now },
		// The strict outbound guard, with a resolver that knows no name, so
		// that no test asks the machine's DNS.
		Targets: netguard.Policy{Resolver: testenv.NewResolver()},
	}
	// Every event workflow is over at once, leaving the dispatcher's window.
	closed := &mocks.WorkflowRun{}
	closed.On("Get", mock.Anything, mock.Anything).Return(nil)
	tc.On("GetWorkflow", mock.Anything, mock.Anything, mock.Anything).Return(closed).Maybe()
	// A signal reaches the open event workflow; a scheduled one is
	// terminated.
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	tc.On("TerminateWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	tc.On("CheckHealth", mock.Anything, mock.Anything).Return(
		func(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
			if ta.down.Load() {
				return nil, serviceerror.NewUnavailable("connection refused")
			}
			return &client.CheckHealthResponse{}, nil
		}).Maybe()
	ta.svc.MaxPendingEvents = o.maxPending
	// The real dispatcher, fast to retry, over the mocked client.
	ta.svc.Dispatch = dispatch.New(dispatch.Options{
		Store: st, Temporal: tc, TaskQueue: "test", Sweep: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.svc.Dispatch.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	ta.router = api.NewRouter(api.Deps{Service: ta.svc, MaxBodyBytes: o.maxBody, APIKeys: o.keys})
	return ta
}

// eventuallyStarted waits until n event workflows were started.
func (ta *testAPI) eventuallyStarted(t testing.TB, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return ta.started() == n }, 10*time.Second, 10*time.Millisecond,
		"want %d event workflows started", n)
}

// requireNothingAccepted checks that no event was stored, so that none
// will ever start.
func (ta *testAPI) requireNothingAccepted(t testing.TB, msg string) {
	t.Helper()
	st, err := ta.store.OutboxStats(context.Background())
	require.NoError(t, err)
	require.Zero(t, st.Pending, msg)
	require.Zero(t, ta.started(), msg)
}

// started is how many event workflows were started.
func (ta *testAPI) started() int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return len(ta.runs)
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, out any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, out), "body: %s", r.Body)
}

// apiError is the contract's error shape.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Field   string `json:"field"`
			Rule    string `json:"rule"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

// do sends body (a string is sent as is, anything else as JSON) with the
// given header pairs; Content-Type is application/json unless given.
func (ta *testAPI) do(t testing.TB, method, path string, body any, headers ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	ta.router.ServeHTTP(w, req)
	return response{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// requireError checks status and the contract's error shape, and returns
// the decoded error.
func requireError(t testing.TB, r response, status int, code string) apiError {
	t.Helper()
	require.Equal(t, status, r.Code, "body: %s", r.Body)
	var e apiError
	r.json(t, &e)
	require.Equal(t, code, e.Error.Code, "body: %s", r.Body)
	require.NotEmpty(t, e.Error.Message)
	return e
}

// fields maps each detail's field to its rule.
func (e apiError) fields() map[string]string {
	out := map[string]string{}
	for _, d := range e.Error.Details {
		out[d.Field] = d.Rule
	}
	return out
}

// createApplications makes the applications a test's paths name.
func createApplications(t testing.TB, ta *testAPI, apps ...string) {
	t.Helper()
	for _, app := range apps {
		require.NoError(t, ta.store.CreateApplication(context.Background(), store.Application{
			ID: app, Name: app, CreatedAt: ta.now, UpdatedAt: ta.now,
		}))
	}
}
