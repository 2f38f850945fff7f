package portal_test

// Browser tests of the subscriber portal: Debian's chromium, headless,
// driven by chromedp against a real Hookflow (internal/testenv) on a real
// Temporal dev server, with httptest receivers. scripts/ensure-tools.sh
// installs chromium when it is missing.
//
// On failure each test saves a screenshot of the page under its temporary
// folder, or under HOOKFLOW_PORTAL_FAILURE_DIR when set (a test's temporary
// folder is removed when it ends, so set that to keep the pictures), and
// logs the path. With HOOKFLOW_PORTAL_SCREENSHOTS=DIR the tests also write
// the README's pictures (portal-subscriptions.png, portal-delivery.png)
// into DIR: `HOOKFLOW_PORTAL_SCREENSHOTS=$PWD/docs go test ./portal/`.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
)

var tp *testenv.Temporal

// hookflowsStarted counts the Hookflow processes the tests ran, whose logs
// the secret scan reads.
var hookflowsStarted atomic.Int32

func TestMain(m *testing.M) {
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	var err error
	tp, err = testenv.StartTemporal(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	// The tokens of portal links and the secrets the page showed went
	// through Hookflow.Do or RememberSecrets: none may be in a log line of
	// the Hookflow processes the tests ran.
	if leaked := testenv.LeakedInLogs(); code == 0 && len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: application tokens or secrets found in log lines:\n  %s\n", strings.Join(leaked, "\n  "))
		code = 1
	}
	if code == 0 && hookflowsStarted.Load() > 0 && len(testenv.SeenSecrets()) == 0 {
		fmt.Fprintln(os.Stderr, "FAIL: the secret scan saw no token: the tests no longer feed it")
		code = 1
	}
	if err := tp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop dev server:", err)
	}
	os.Exit(code)
}

const adminKey = "portal-admin-key-0123456789"

var admin = []string{"Authorization", "Bearer " + adminKey}

// portalEnv is a Hookflow with admin keys and applications acme and globex.
type portalEnv struct {
	h *testenv.Hookflow
}

func startHookflow(t *testing.T) *portalEnv {
	t.Helper()
	hookflowsStarted.Add(1)
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) {
		c.APIKeys = []string{adminKey}
		c.Retry.InitialInterval = time.Second
		c.Retry.MaxInterval = time.Second
	})
	for _, id := range []string{"acme", "globex"} {
		require.Equal(t, http.StatusCreated, h.Do(t, http.MethodPost, "/v1/applications",
			map[string]any{"id": id, "name": strings.ToUpper(id[:1]) + id[1:] + " Inc."}, nil, admin...))
	}
	return &portalEnv{h: h}
}

type link struct {
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (e *portalEnv) link(t *testing.T, app string, body map[string]any) link {
	t.Helper()
	var l link
	require.Equal(t, http.StatusCreated, e.h.Do(t, http.MethodPost, "/v1/applications/"+app+"/portal-access", body, &l, admin...))
	require.True(t, strings.HasPrefix(l.URL, e.h.URL+"/portal/#"), l.URL)
	return l
}

type subscription struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
	Status string `json:"status"`
}

func (e *portalEnv) subscribe(t *testing.T, app, url string, types ...string) subscription {
	t.Helper()
	var s subscription
	require.Equal(t, http.StatusCreated, e.h.Do(t, http.MethodPost, "/v1/applications/"+app+"/subscriptions",
		map[string]any{"url": url, "event_types": types, "description": "from the test"}, &s, admin...))
	return s
}

func (e *portalEnv) publish(t *testing.T, app, id, typ string) {
	t.Helper()
	require.Equal(t, http.StatusAccepted, e.h.Do(t, http.MethodPost, "/v1/applications/"+app+"/events",
		map[string]any{"id": id, "type": typ, "data": map[string]any{"order": 42}}, nil, admin...))
}

type eventView struct {
	Deliveries []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"deliveries"`
}

// delivered waits for the event to have n deliveries, all succeeded, and
// returns their ids.
func (e *portalEnv) delivered(t *testing.T, app, event string, n int) []string {
	t.Helper()
	var ev eventView
	require.Eventually(t, func() bool {
		ev = eventView{}
		if e.h.Do(t, http.MethodGet, "/v1/applications/"+app+"/events/"+event, nil, &ev, admin...) != http.StatusOK || len(ev.Deliveries) != n {
			return false
		}
		for _, d := range ev.Deliveries {
			if d.Status != "succeeded" && d.Status != "failed" {
				return false
			}
		}
		return true
	}, 60*time.Second, 100*time.Millisecond, "event %s: %+v", event, ev)
	var ids []string
	for _, d := range ev.Deliveries {
		ids = append(ids, d.ID)
	}
	return ids
}

// browser is one headless chromium with a fresh profile.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string
	errors  []string
	// requests are the URLs (what goes to a server: no fragment) and
	// Referer headers of every request the page made.
	requests []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	require.NoError(t, err, "the browser tests need Debian's chromium: scripts/ensure-tools.sh installs it (apt-get install chromium)")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{ctx: ctx}
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	dialogs := make(chan string, 16)
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			select {
			case dialogs <- ev.Message:
			default:
			}
		case *network.EventRequestWillBeSent:
			if ev.Request != nil {
				b.mu.Lock()
				ref, _ := ev.Request.Headers["Referer"].(string)
				b.requests = append(b.requests, ev.Request.Method+" "+ev.Request.URL+" referer="+ref)
				b.mu.Unlock()
			}
		case *runtime.EventExceptionThrown:
			b.mu.Lock()
			b.errors = append(b.errors, ev.ExceptionDetails.Text+" "+describeException(ev.ExceptionDetails))
			b.mu.Unlock()
		}
	}))
	_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case msg := <-dialogs:
				b.mu.Lock()
				b.dialogs = append(b.dialogs, msg)
				b.mu.Unlock()
				// Dismiss it, so that the page goes on and the test can
				// fail with what it saw.
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	// Registered after the browser's cleanup, so it runs before it.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		b.mu.Lock()
		t.Logf("page exceptions: %q; dialogs: %q", b.errors, b.dialogs)
		b.mu.Unlock()
		dir := os.Getenv("HOOKFLOW_PORTAL_FAILURE_DIR")
		if dir == "" {
			dir = failureDir(t)
		}
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		shot, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("no screenshot: %v", err)
			return
		}
		name := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")+".png")
		if err := os.WriteFile(name, shot, 0o644); err != nil {
			t.Logf("no screenshot: %v", err)
			return
		}
		t.Logf("screenshot of the page: %s", name)
	})
	return b
}

// failureDir is made at the start of every test (t.TempDir cannot be
// called from a cleanup), for its screenshot on failure.
var failureDirs sync.Map

func failureDir(t *testing.T) string {
	if d, ok := failureDirs.Load(t.Name()); ok {
		return d.(string)
	}
	return os.TempDir()
}

func describeException(d *runtime.ExceptionDetails) string {
	if d == nil || d.Exception == nil {
		return ""
	}
	return d.Exception.Description
}

// stepTimeout bounds each batch of browser steps, so that a page that
// never shows what a test waits for fails the test with its screenshot
// instead of hanging it.
const stepTimeout = 45 * time.Second

func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, steps...), "the page shows: %s", b.shows())
}

// shows is the page's text, for failure messages.
func (b *browser) shows() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return s
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(t, err, js)
	return v
}

// waitFor polls a JavaScript condition, clicking Refresh (when given)
// between tries, as a user would.
func (b *browser) waitFor(t *testing.T, cond, refresh string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if eval[bool](t, b, cond) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed %s; it shows: %s", cond, eval[string](t, b, "document.body.innerText"))
		}
		if refresh != "" {
			// Clicked in the page, not through a node id: the re-render the
			// last click started may replace the button between the lookup
			// of a node and the click on it ("Could not find node").
			eval[bool](t, b, fmt.Sprintf(`(function () { const e = document.querySelector(%q); if (e) { e.click(); } return true; })()`, refresh))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (b *browser) noDialogs(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.dialogs, "no JavaScript dialog may open")
	require.Empty(t, b.errors, "no uncaught exception in the page")
	require.NotEmpty(t, b.requests)
	for _, r := range b.requests {
		require.NotContains(t, r, "hfat_", "no token in a URL the page requests, nor in a Referer")
	}
}

// open opens a portal link and waits for the endpoints view.
func (b *browser) open(t *testing.T, l link) {
	t.Helper()
	b.do(t, chromedp.Navigate(l.URL), chromedp.WaitVisible(chromedp.CSS("#new-subscription")))
	// The token left the address bar at once, and lives in the tab's
	// session storage only.
	href := eval[string](t, b, "location.href")
	require.NotContains(t, href, l.Token)
	require.NotContains(t, href, "#")
	require.Contains(t, eval[string](t, b, "sessionStorage.getItem('hookflow.portal') || ''"), l.Token)
}

func (b *browser) screenshotForDocs(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("HOOKFLOW_PORTAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), shot, 0o644))
}

func prepare(t *testing.T) {
	failureDirs.Store(t.Name(), t.TempDir())
}

// The journey of a new subscriber: open the link, add an endpoint through
// the form, see an event delivered to it with its attempt.
func TestPortalCreateSubscriptionAndSeeDeliveredEvent(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	recv := testenv.NewReceiver(t)
	recv.Respond = func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"received":true}`))
	}
	b := newBrowser(t)
	b.open(t, e.link(t, "acme", nil))
	require.Equal(t, "Acme Inc.", b.text(t, "#app-name"))
	b.do(t, chromedp.WaitVisible(chromedp.CSS("#no-subscriptions")))

	// A bad URL first: the API's words show, and nothing is created.
	b.do(t,
		chromedp.Click(chromedp.CSS("#new-subscription")),
		chromedp.WaitVisible(chromedp.CSS("#subscription-form")),
		chromedp.SendKeys(chromedp.CSS("#f-url"), "not a url"),
		chromedp.SendKeys(chromedp.CSS("#f-event-types"), "order.*"),
		chromedp.Click(chromedp.CSS("#f-save")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	require.Contains(t, b.text(t, "#error"), "url")

	b.do(t,
		chromedp.SetValue(chromedp.CSS("#f-url"), recv.URL+"/orders"),
		chromedp.SetValue(chromedp.CSS("#f-event-types"), "order.*, invoice.paid"),
		chromedp.SendKeys(chromedp.CSS("#f-description"), "Order sync"),
		chromedp.Click(chromedp.CSS("#f-save")),
		chromedp.WaitVisible(chromedp.CSS("tr.subscription")),
	)
	subID := eval[string](t, b, "document.querySelector('tr.subscription').dataset.id")
	var got subscription
	require.Equal(t, http.StatusOK, e.h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions/"+subID, nil, &got, admin...))
	require.Equal(t, recv.URL+"/orders", got.URL)
	require.Equal(t, "invoice.paid, order.*", b.text(t, "tr.subscription .event-types"), "sorted, as the API keeps them")
	shown := b.text(t, "tr.subscription .secret")
	testenv.RememberSecrets([]byte(shown))
	require.True(t, strings.HasPrefix(shown, "whsec_"), "the new endpoint's secret shows once created: %q", shown)

	// Edit: the description changes, in the page and in the API.
	b.do(t,
		chromedp.Click(chromedp.CSS("tr.subscription button.edit")),
		chromedp.WaitVisible(chromedp.CSS("#subscription-form")),
		chromedp.SetValue(chromedp.CSS("#f-description"), "Order sync (prod)"),
		chromedp.SetValue(chromedp.CSS("#f-rate-limit"), "2.5"),
		chromedp.SetValue(chromedp.CSS("#f-max-in-flight"), "3"),
		chromedp.Click(chromedp.CSS("#f-save")),
		chromedp.WaitVisible(chromedp.CSS("tr.subscription .flow-control")),
	)
	require.Equal(t, "Order sync (prod)", b.text(t, "tr.subscription .description"))
	var limits struct {
		RateLimit   *float64 `json:"rate_limit"`
		MaxInFlight *int     `json:"max_in_flight"`
	}
	require.Equal(t, http.StatusOK, e.h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions/"+subID, nil, &limits, admin...))
	require.NotNil(t, limits.RateLimit)
	require.NotNil(t, limits.MaxInFlight)
	require.Equal(t, 2.5, *limits.RateLimit)
	require.Equal(t, 3, *limits.MaxInFlight)
	require.Equal(t, "at most 2.5 requests/s, at most 3 at once", b.text(t, "tr.subscription .flow-control"))
	// Emptied, the rate limit goes; a cap of 0 is the API's 400, in words.
	b.do(t,
		chromedp.Click(chromedp.CSS("tr.subscription button.edit")),
		chromedp.WaitVisible(chromedp.CSS("#subscription-form")),
		chromedp.SetValue(chromedp.CSS("#f-rate-limit"), ""),
		chromedp.SetValue(chromedp.CSS("#f-max-in-flight"), "0"),
		chromedp.Click(chromedp.CSS("#f-save")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
	)
	require.Contains(t, b.text(t, "#error"), "max_in_flight")
	b.do(t,
		chromedp.SetValue(chromedp.CSS("#f-max-in-flight"), "3"),
		chromedp.Click(chromedp.CSS("#f-save")),
		chromedp.WaitVisible(chromedp.CSS("tr.subscription .flow-control")),
	)
	limits.RateLimit, limits.MaxInFlight = nil, nil
	require.Equal(t, http.StatusOK, e.h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions/"+subID, nil, &limits, admin...))
	require.Nil(t, limits.RateLimit)
	require.NotNil(t, limits.MaxInFlight)
	b.screenshotForDocs(t, "portal-subscriptions.png")

	e.publish(t, "acme", "portal-order-1", "order.created")
	e.delivered(t, "acme", "portal-order-1", 1)
	b.do(t,
		chromedp.Click(chromedp.CSS("#tab-deliveries")),
		chromedp.WaitVisible(chromedp.CSS("#delivery-filters")),
		chromedp.SetValue(chromedp.CSS("#filter-event"), "portal-order-1"),
		chromedp.Click(chromedp.CSS("#apply-filters")),
	)
	b.waitFor(t, `!!document.querySelector('tr.delivery[data-status="succeeded"]')`, "#refresh")
	b.do(t,
		chromedp.Click(chromedp.CSS("tr.delivery button.open-delivery")),
		chromedp.WaitVisible(chromedp.CSS("#attempts")),
	)
	require.Equal(t, "200", b.text(t, "#attempts tr.attempt .status-code"))
	require.Equal(t, `{"received":true}`, b.text(t, "#attempts tr.attempt .response-excerpt"))
	require.Equal(t, "succeeded", b.text(t, "#delivery-status"))
	b.screenshotForDocs(t, "portal-delivery.png")

	// Pause and resume from the list.
	b.do(t, chromedp.Click(chromedp.CSS("#tab-subscriptions")), chromedp.WaitVisible(chromedp.CSS("tr.subscription button.pause")),
		chromedp.Click(chromedp.CSS("tr.subscription button.pause")), chromedp.WaitVisible(chromedp.CSS("tr.subscription button.resume")))
	require.Equal(t, http.StatusOK, e.h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions/"+subID, nil, &got, admin...))
	require.Equal(t, "paused", got.Status)
	b.do(t, chromedp.Click(chromedp.CSS("tr.subscription button.resume")), chromedp.WaitVisible(chromedp.CSS("tr.subscription button.pause")))

	// Delete, confirmed in the page (no native dialog).
	b.do(t, chromedp.Click(chromedp.CSS("tr.subscription button.delete")), chromedp.WaitVisible(chromedp.CSS("tr.subscription .confirm-yes")),
		chromedp.Click(chromedp.CSS("tr.subscription .confirm-yes")), chromedp.WaitVisible(chromedp.CSS("#no-subscriptions")))
	require.Equal(t, http.StatusNotFound, e.h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions/"+subID, nil, nil, admin...))
	b.noDialogs(t)
}

// Resend from the delivery view makes a new delivery of the same event,
// which the list shows beside the first. Needs the message log and resend
// (the contract's GET .../deliveries and POST .../deliveries/{id}/resend).
func TestPortalResendShowsTheNewDelivery(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	recv := testenv.NewReceiver(t)
	e.subscribe(t, "acme", recv.URL, "order.*")
	e.publish(t, "acme", "portal-resend-1", "order.created")
	first := e.delivered(t, "acme", "portal-resend-1", 1)[0]

	b := newBrowser(t)
	b.open(t, e.link(t, "acme", nil))
	b.do(t, chromedp.Click(chromedp.CSS("#tab-deliveries")), chromedp.WaitVisible(chromedp.CSS("tr.delivery")))
	// The list, newest first, with no filter: the one delivery.
	require.Equal(t, first, eval[string](t, b, "document.querySelector('tr.delivery').dataset.id"))
	b.do(t,
		chromedp.Click(chromedp.CSS("tr.delivery button.open-delivery")),
		chromedp.WaitVisible(chromedp.CSS("#attempts")),
		chromedp.Click(chromedp.CSS("#resend")),
	)
	b.waitFor(t, fmt.Sprintf(`(() => { const d = document.querySelector('#delivery'); return !!d && d.dataset.id !== %q })()`, first), "")
	second := eval[string](t, b, "document.querySelector('#delivery').dataset.id")
	require.Contains(t, b.text(t, "#notice"), second)
	require.Eventually(t, func() bool { return recv.Count() == 2 }, 60*time.Second, 100*time.Millisecond, "the resend reaches the receiver")
	b.waitFor(t, `document.querySelectorAll('tr.delivery').length === 2`, "#refresh")
	require.Equal(t, second, eval[string](t, b, "document.querySelector('tr.delivery').dataset.id"), "newest first")
	// Filtered by status and endpoint.
	b.do(t, chromedp.SetValue(chromedp.CSS("#filter-status"), "failed"), chromedp.Click(chromedp.CSS("#apply-filters")),
		chromedp.WaitVisible(chromedp.CSS("#no-deliveries")))
	b.noDialogs(t)
}

// Rotate the secret in the page, then send a test event: a receiver that
// verifies with the new secret (the Standard Webhooks library) accepts it,
// and no other subscription gets it, not even one of type hookflow.test.
func TestPortalRotateSecretAndSendTestEvent(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	recv := testenv.NewReceiver(t)
	other := testenv.NewReceiver(t)
	sub := e.subscribe(t, "acme", recv.URL, "order.*")
	e.subscribe(t, "acme", other.URL, "hookflow.test", "order.*")

	b := newBrowser(t)
	b.open(t, e.link(t, "acme", nil))
	row := fmt.Sprintf(`tr.subscription[data-id=%q]`, sub.ID)
	b.do(t, chromedp.Click(chromedp.CSS(row+" button.reveal-secret")), chromedp.WaitVisible(chromedp.CSS(row+" .secret")))
	require.Equal(t, sub.Secret, b.text(t, row+" .secret"))
	b.do(t,
		chromedp.Click(chromedp.CSS(row+" button.rotate-secret")),
		chromedp.Click(chromedp.CSS(row+" .confirm-yes")),
	)
	b.waitFor(t, fmt.Sprintf(`(document.querySelector(%q)||{}).textContent !== %q && /^whsec_/.test((document.querySelector(%q)||{}).textContent||'')`,
		row+" .secret", sub.Secret, row+" .secret"), "")
	rotated := b.text(t, row+" .secret")
	testenv.RememberSecrets([]byte(rotated))
	var secret struct{ Secret string }
	require.Equal(t, http.StatusOK, e.h.Do(t, http.MethodGet, "/v1/applications/acme/subscriptions/"+sub.ID+"/secret", nil, &secret, admin...))
	require.Equal(t, secret.Secret, rotated, "the page shows the secret the API now signs with")

	recv.SetSecret(rotated)
	b.do(t, chromedp.Click(chromedp.CSS(row+" button.send-test")), chromedp.WaitVisible(chromedp.CSS("#notice button.see-test")))
	require.Eventually(t, func() bool { return recv.Count() == 1 }, 60*time.Second, 100*time.Millisecond)
	r := recv.Requests()[0]
	require.NoError(t, r.VerifyErr, "the test event verifies with the new secret")
	var body struct {
		Type string
		Data struct {
			SubscriptionID string `json:"subscription_id"`
		}
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.Equal(t, "hookflow.test", body.Type)
	require.Equal(t, sub.ID, body.Data.SubscriptionID)

	// Its delivery shows from the notice's button.
	b.do(t, chromedp.Click(chromedp.CSS("#notice button.see-test")))
	b.waitFor(t, `!!document.querySelector('tr.delivery[data-status="succeeded"]')`, "#refresh")
	time.Sleep(time.Second)
	require.Zero(t, other.Count(), "a test event goes to its one subscription only")
	b.noDialogs(t)
}

// A receiver that answers with markup: the page shows the characters, and
// nothing runs (no dialog opens; the page has its one script).
func TestPortalShowsAReceiversMarkupAsText(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	const evil = `<script>alert(1)</script><img src=x onerror="alert(2)">`
	recv := testenv.NewReceiver(t)
	recv.Respond = func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(evil))
	}
	// The subscriber's own fields carry markup too.
	var sub subscription
	require.Equal(t, http.StatusCreated, e.h.Do(t, http.MethodPost, "/v1/applications/acme/subscriptions",
		map[string]any{"url": recv.URL + "/?q=<script>alert(3)</script>", "event_types": []string{"order.*"}, "description": `<img src=x onerror="alert(4)">`}, &sub, admin...))
	e.publish(t, "acme", "portal-xss-1", "order.created")
	e.delivered(t, "acme", "portal-xss-1", 1)

	b := newBrowser(t)
	b.open(t, e.link(t, "acme", nil))
	require.Equal(t, `<img src=x onerror="alert(4)">`, b.text(t, "tr.subscription .description"))
	b.do(t,
		chromedp.Click(chromedp.CSS("#tab-deliveries")),
		chromedp.WaitVisible(chromedp.CSS("#delivery-filters")),
		chromedp.SetValue(chromedp.CSS("#filter-event"), "portal-xss-1"),
		chromedp.Click(chromedp.CSS("#apply-filters")),
	)
	b.waitFor(t, `!!document.querySelector('tr.delivery')`, "#refresh")
	b.do(t, chromedp.Click(chromedp.CSS("tr.delivery button.open-delivery")), chromedp.WaitVisible(chromedp.CSS("#attempts")))
	require.Equal(t, evil, b.text(t, "#attempts .response-excerpt"))
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, 1, eval[int](t, b, "document.scripts.length"), "no script element but the portal's")
	require.Equal(t, 0, eval[int](t, b, "document.querySelectorAll('main img').length"), "no image element from the data")
	b.noDialogs(t)
}

// A link of acme shows nothing of globex, and its token cannot reach
// globex's routes, even when the page is pointed at globex.
func TestPortalLinkOfOneApplicationShowsNothingOfAnother(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	recv := testenv.NewReceiver(t)
	e.subscribe(t, "acme", recv.URL+"/acme-endpoint", "order.*")
	e.subscribe(t, "globex", recv.URL+"/globex-endpoint", "order.*")
	e.publish(t, "globex", "portal-globex-1", "order.created")
	e.delivered(t, "globex", "portal-globex-1", 1)

	b := newBrowser(t)
	l := e.link(t, "acme", nil)
	b.open(t, l)
	body := eval[string](t, b, "document.body.innerText")
	require.Contains(t, body, "acme-endpoint")
	require.NotContains(t, body, "globex")
	require.NotContains(t, body, "Globex")

	// The event of globex, looked up from acme's portal: not found.
	b.do(t,
		chromedp.Click(chromedp.CSS("#tab-deliveries")),
		chromedp.WaitVisible(chromedp.CSS("#delivery-filters")),
		chromedp.SetValue(chromedp.CSS("#filter-event"), "portal-globex-1"),
		chromedp.Click(chromedp.CSS("#apply-filters")),
	)
	b.waitFor(t, `!!document.querySelector('#no-deliveries') || !document.getElementById('error').hidden`, "")
	require.NotContains(t, eval[string](t, b, "document.body.innerText"), "globex-endpoint")

	// The session pointed at globex by hand: the API refuses the token.
	eval[bool](t, b, fmt.Sprintf(`sessionStorage.setItem('hookflow.portal', JSON.stringify({token: %q, app: 'globex'})), true`, l.Token))
	b.do(t, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#error")))
	require.Contains(t, b.text(t, "#error"), "403")
	body = eval[string](t, b, "document.body.innerText")
	require.NotContains(t, body, "globex-endpoint")
	require.NotContains(t, body, "Globex Inc.")
	b.noDialogs(t)
}

// An expired link opens the page that says to ask for a new one; so does
// a link revoked while the page is open, at its next request; and the page
// opened with no link at all.
func TestPortalExpiredLinkShowsTheExpiredPage(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	short := e.link(t, "acme", map[string]any{"expires_in_seconds": 1})
	time.Sleep(time.Until(short.ExpiresAt) + 100*time.Millisecond)

	b := newBrowser(t)
	b.do(t, chromedp.Navigate(short.URL), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	require.Contains(t, b.text(t, "#signed-out"), "expired")
	require.Contains(t, b.text(t, "#signed-out"), "new link")
	require.False(t, eval[bool](t, b, "!!sessionStorage.getItem('hookflow.portal')"), "the dead token is dropped")
	require.NotContains(t, eval[string](t, b, "location.href"), short.Token)

	live := e.link(t, "acme", nil)
	b.open(t, live)
	var toks struct {
		Data []struct {
			ID          string `json:"id"`
			Description string `json:"description"`
		} `json:"data"`
	}
	require.Equal(t, http.StatusOK, e.h.Do(t, http.MethodGet, "/v1/applications/acme/tokens", nil, &toks, admin...))
	for _, tok := range toks.Data {
		require.Equal(t, "subscriber portal", tok.Description)
		require.Equal(t, http.StatusNoContent, e.h.Do(t, http.MethodDelete, "/v1/applications/acme/tokens/"+tok.ID, nil, nil, admin...))
	}
	b.do(t, chromedp.Click(chromedp.CSS("#tab-deliveries")), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	require.Contains(t, b.text(t, "#signed-out"), "expired or was revoked")

	b.do(t, chromedp.Navigate(e.h.URL+"/portal/"), chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	require.Contains(t, b.text(t, "#signed-out"), "portal link")
	b.noDialogs(t)
}

// The delivery log in the page: newest first, 20 a page with Older and
// Newer, filtered by endpoint and status; cancel a delivery that keeps
// failing, and a retry of the cancelled one shows the API's refusal in
// words.
func TestPortalDeliveryListFiltersPagesAndSteers(t *testing.T) {
	prepare(t)
	e := startHookflow(t)
	ok, failing := testenv.NewReceiver(t), testenv.NewReceiver(t)
	failing.Respond = func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }
	e.subscribe(t, "acme", ok.URL+"/ok", "order.*")
	bad := e.subscribe(t, "acme", failing.URL+"/failing", "invoice.*")
	for i := range 22 {
		e.publish(t, "acme", fmt.Sprintf("portal-page-%02d", i), "order.created")
	}
	e.publish(t, "acme", "portal-invoice-1", "invoice.paid")
	require.Eventually(t, func() bool { return ok.Count() >= 22 && failing.Count() >= 1 }, 60*time.Second, 100*time.Millisecond)

	b := newBrowser(t)
	b.open(t, e.link(t, "acme", nil))
	b.do(t, chromedp.Click(chromedp.CSS("#tab-deliveries")), chromedp.WaitVisible(chromedp.CSS("tr.delivery")))
	require.Equal(t, 20, eval[int](t, b, "document.querySelectorAll('tr.delivery').length"))
	const ids = `Array.from(document.querySelectorAll('tr.delivery')).map(r => r.dataset.id)`
	const newestFirst = `(() => { const c = Array.from(document.querySelectorAll('tr.delivery')).map(r => Date.parse(r.dataset.created));
		return c.every((v, i) => i === 0 || c[i-1] >= v) })()`
	require.True(t, eval[bool](t, b, newestFirst), "newest first")
	first := eval[[]string](t, b, ids)
	b.do(t, chromedp.Click(chromedp.CSS("#older")), chromedp.WaitVisible(chromedp.CSS("#newer")))
	require.Equal(t, 3, eval[int](t, b, "document.querySelectorAll('tr.delivery').length"))
	require.True(t, eval[bool](t, b, newestFirst))
	seen := map[string]bool{}
	for _, id := range append(first, eval[[]string](t, b, ids)...) {
		seen[id] = true
	}
	require.Len(t, seen, 23, "the two pages hold every delivery once")
	b.do(t, chromedp.Click(chromedp.CSS("#newer")), chromedp.WaitVisible(chromedp.CSS("#older")))
	require.Equal(t, first, eval[[]string](t, b, ids), "Newer goes back to the first page")

	b.do(t, chromedp.SetValue(chromedp.CSS("#filter-subscription"), bad.ID), chromedp.Click(chromedp.CSS("#apply-filters")))
	b.waitFor(t, `document.querySelectorAll('tr.delivery').length === 1`, "")
	require.Contains(t, b.text(t, "tr.delivery"), failing.URL+"/failing")
	b.do(t, chromedp.SetValue(chromedp.CSS("#filter-status"), "succeeded"), chromedp.Click(chromedp.CSS("#apply-filters")),
		chromedp.WaitVisible(chromedp.CSS("#no-deliveries")))
	// Its one delivery keeps failing (the receiver answers 503): Retry
	// attempts at once, and the page shows the new attempt; Cancel ends it;
	// a retry of the cancelled delivery is the API's 409, in words.
	b.do(t, chromedp.SetValue(chromedp.CSS("#filter-status"), "retrying"), chromedp.Click(chromedp.CSS("#apply-filters")))
	b.waitFor(t, `document.querySelectorAll('tr.delivery[data-status="retrying"]').length === 1`, "#refresh")
	b.do(t, chromedp.Click(chromedp.CSS("tr.delivery button.open-delivery")), chromedp.WaitVisible(chromedp.CSS("#attempts")))
	require.Equal(t, "503", b.text(t, "#attempts tr.attempt .status-code"))
	before := failing.Count()
	b.do(t, chromedp.Click(chromedp.CSS("#retry")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	require.Contains(t, b.text(t, "#notice"), "Retry requested")
	require.Eventually(t, func() bool { return failing.Count() > before }, 60*time.Second, 50*time.Millisecond)
	b.waitFor(t, fmt.Sprintf("document.querySelectorAll('#attempts tr.attempt').length >= %d", before+1), "#reload-delivery")
	b.do(t, chromedp.Click(chromedp.CSS("#cancel")), chromedp.WaitVisible(chromedp.CSS("#notice")))
	b.waitFor(t, `(document.querySelector('#delivery-status')||{}).textContent === 'cancelled'`, "#reload-delivery")
	b.do(t, chromedp.Click(chromedp.CSS("#retry")), chromedp.WaitVisible(chromedp.CSS("#error")))
	msg := b.text(t, "#error")
	require.Contains(t, msg, "409")
	require.Contains(t, msg, "cancel")
	b.noDialogs(t)
}
