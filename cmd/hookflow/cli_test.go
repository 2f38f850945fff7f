package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/app"
	"github.com/hookflow/hookflow/client"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/internal/testenv"
)

// These tests run the built binary, the way operators and scripts do,
// against Hookflow on a Temporal dev server.

var updateHelp = flag.Bool("update", false, "rewrite testdata/help/*.txt from the binary's --help")

var (
	binary string
	tp     *testenv.Temporal
)

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := runMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func runMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "hookflow-cli-test")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	binary = filepath.Join(dir, "hookflow")
	// -buildvcs=auto: the commit goes into the build info when there is a
	// checkout (whatever GOFLAGS says), which `version` reads.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build hookflow: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tp, err = testenv.StartTemporal(ctx)
	cancel()
	if err != nil {
		return 0, err
	}
	defer func() { _ = tp.Stop() }()
	return m.Run(), nil
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// hookflow runs the binary with only PATH, HOME and env in its
// environment, so that nothing of whoever runs the tests leaks in.
func hookflow(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run hookflow %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// hookflowJSON runs a command that must succeed and decodes its --json
// output into out.
func hookflowJSON(t *testing.T, env []string, out any, args ...string) {
	t.Helper()
	r := hookflow(t, env, append(args, "--json")...)
	require.Equal(t, 0, r.code, "hookflow %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(out), "hookflow %s printed %s", strings.Join(args, " "), r.stdout)
}

// allCommands is every command of the tree, the root first.
func allCommands() []*cobra.Command {
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		out = append(out, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
	return out
}

// Every command answers --help, with exit status 0, the text in
// testdata/help (go test ./cmd/hookflow -run TestHelp -update rewrites it),
// and no golden file is left for a command that went.
func TestHelpOfEveryCommand(t *testing.T) {
	dir := filepath.Join("testdata", "help")
	if *updateHelp {
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	want := map[string]bool{}
	for _, c := range allCommands() {
		path := c.CommandPath()
		name := strings.ReplaceAll(path, " ", "_") + ".txt"
		want[name] = true
		t.Run(path, func(t *testing.T) {
			require.NotEmpty(t, c.Short, "%s has no one-line description", path)
			args := append(strings.Fields(path)[1:], "--help")
			r := hookflow(t, nil, args...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			require.Empty(t, r.stderr)
			require.Contains(t, r.stdout, "Usage:")
			golden := filepath.Join(dir, name)
			if *updateHelp {
				require.NoError(t, os.WriteFile(golden, []byte(r.stdout), 0o644))
				return
			}
			text, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden help for %q: run go test ./cmd/hookflow -run TestHelp -update", path)
			require.Equal(t, string(text), r.stdout, "%s --help changed: run go test ./cmd/hookflow -run TestHelp -update and review the diff", path)
		})
	}
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, f := range files {
		require.True(t, want[f.Name()], "%s is the help of no command", f.Name())
	}
}

// The README shows `hookflow --help` as the binary prints it.
func TestREADMEShowsTheRootHelp(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	r := hookflow(t, nil, "--help")
	require.Equal(t, 0, r.code)
	require.Contains(t, string(readme), "$ hookflow --help\n"+r.stdout+"```",
		"README.md's Operator CLI section must show the current hookflow --help")
}

// `hookflow` alone prints the root help; an unknown command or flag, or
// a missing argument, exits 1 and points at the help.
func TestUsageErrors(t *testing.T) {
	r := hookflow(t, nil)
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "hookflow [command]")

	for _, args := range [][]string{
		{"nonsense"},
		{"events", "--bogus"},
		{"deliveries", "get"},
		{"events", "send", "--type", "a.b"},
		{"events", "send", "--type", "a.b", "--data", "{not json"},
		{"subscriptions", "create", "--url", "https://e.com", "--event-type", "a", "--header", "novalue"},
	} {
		r := hookflow(t, nil, args...)
		require.Equal(t, 1, r.code, "hookflow %s", strings.Join(args, " "))
		require.Regexp(t, `^hookflow: \S`, r.stderr, "hookflow %s", strings.Join(args, " "))
		require.Empty(t, r.stdout)
	}
}

func TestSendAnEventAndSeeItDelivered(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.APIKeys = []string{"cli-key"} })
	receiver := testenv.NewReceiver(t)
	env := []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=cli-key"}

	var sub client.Subscription
	hookflowJSON(t, env, &sub, "subscriptions", "create", "--url", receiver.URL+"/hooks",
		"--event-type", "order.*", "--header", "X-Team=billing")
	require.True(t, strings.HasPrefix(sub.Secret, "whsec_"))
	require.Equal(t, map[string]string{"X-Team": "billing"}, sub.Headers)
	receiver.SetSecret(sub.Secret)

	var acc client.Accepted
	hookflowJSON(t, env, &acc, "events", "send", "--type", "order.created", "--id", "order-1-created", "--data", `{"id":1}`)
	require.Equal(t, "order-1-created", acc.ID)
	require.Equal(t, "accepted", acc.Status)

	var page client.Page[client.DeliveryLogItem]
	require.Eventually(t, func() bool {
		page = client.Page[client.DeliveryLogItem]{}
		hookflowJSON(t, env, &page, "deliveries", "list", "--event", acc.ID)
		return len(page.Data) == 1 && page.Data[0].Status == "succeeded"
	}, time.Minute, 250*time.Millisecond, "the delivery succeeds")
	d := page.Data[0]
	require.Equal(t, sub.ID, d.SubscriptionID)
	require.Equal(t, acc.ID, d.EventID)
	require.Equal(t, 1, d.Attempts)

	got := receiver.Requests()
	require.Len(t, got, 1)
	require.NoError(t, got[0].VerifyErr, "signed per Standard Webhooks")
	require.JSONEq(t, `{"id":1}`, string(mustField(t, got[0].Body, "data")))
	require.Equal(t, "billing", got[0].Header.Get("X-Team"))

	// The filter keeps what matches, and an empty list is [] in JSON.
	var failed client.Page[client.DeliveryLogItem]
	hookflowJSON(t, env, &failed, "deliveries", "list", "--event", acc.ID, "--status", "failed")
	require.NotNil(t, failed.Data)
	require.Empty(t, failed.Data)

	var full client.Delivery
	hookflowJSON(t, env, &full, "deliveries", "get", d.ID)
	require.Len(t, full.Attempts, 1)
	require.NotNil(t, full.Attempts[0].StatusCode)
	require.Equal(t, http.StatusOK, *full.Attempts[0].StatusCode)

	// The same id again is the first event: nothing is delivered twice.
	var again client.Accepted
	hookflowJSON(t, env, &again, "events", "send", "--type", "order.created", "--id", "order-1-created", "--data", `{"id":1}`)
	require.Equal(t, acc.WorkflowID, again.WorkflowID)

	// For people: tables with the same facts.
	r := hookflow(t, env, "events", "get", acc.ID)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^STATUS\s+\S+`, r.stdout)
	require.Regexp(t, `(?m)^`+regexp.QuoteMeta(d.ID)+`\s+order-1-created\s+`+regexp.QuoteMeta(sub.ID)+`\s+succeeded\s+1\s*$`, r.stdout)
	r = hookflow(t, env, "subscriptions", "list")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^ID\s+STATUS\s+URL\s+EVENT TYPES\s*$`, r.stdout)
	require.Contains(t, r.stdout, sub.ID)

	// Flags win over the environment.
	r = hookflow(t, append(env, "HOOKFLOW_API_KEY=wrong"), "subscriptions", "get", sub.ID, "--api-key", "cli-key")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^STATUS\s+active\s*$`, r.stdout)

	// Pause and resume go through PATCH.
	var paused client.Subscription
	hookflowJSON(t, env, &paused, "subscriptions", "pause", sub.ID)
	require.Equal(t, "paused", paused.Status)
	var cleared client.Subscription
	hookflowJSON(t, env, &cleared, "subscriptions", "update", sub.ID, "--status", "active", "--clear-headers")
	require.Equal(t, "active", cleared.Status)
	require.Empty(t, cleared.Headers)

	// A retry schedule of its own, in Go durations, and back to the server's.
	var retrying client.Subscription
	hookflowJSON(t, env, &retrying, "subscriptions", "update", sub.ID, "--retry-max-attempts", "3", "--retry-initial-interval", "2s", "--retry-max-duration", "1h")
	require.NotNil(t, retrying.Retry)
	require.Equal(t, 3, *retrying.Retry.MaxAttempts)
	require.Equal(t, 2.0, *retrying.Retry.InitialIntervalSeconds)
	require.Equal(t, 3600.0, *retrying.Retry.MaxDurationSeconds)
	require.Nil(t, retrying.Retry.BackoffCoefficient, "a flag left out follows the server's")
	r = hookflow(t, env, "subscriptions", "get", sub.ID)
	require.Regexp(t, `(?m)^RETRY\s+max 3 attempts, first backoff 2s, for at most 1h0m0s$`, r.stdout)
	var back client.Subscription
	hookflowJSON(t, env, &back, "subscriptions", "update", sub.ID, "--clear-retry")
	require.Nil(t, back.Retry)
}

func mustField(t *testing.T, body []byte, field string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	return m[field]
}

// A refused call exits non-zero and prints the API's own message.
func TestAPIErrorsExitNonZeroWithTheAPIsMessage(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeAPI, func(c *config.Config) { c.APIKeys = []string{"right"} })
	var apiErr struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	status := h.Do(t, "GET", "/v1/subscriptions", nil, &apiErr, "Authorization", "Bearer wrong")
	require.Equal(t, http.StatusUnauthorized, status)
	require.NotEmpty(t, apiErr.Error.Message)

	for _, args := range [][]string{
		{"subscriptions", "list"},
		{"subscriptions", "list", "--json"},
		{"events", "send", "--type", "a.b", "--data", "{}"},
	} {
		r := hookflow(t, []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=wrong"}, args...)
		require.Equal(t, 1, r.code, "hookflow %s", strings.Join(args, " "))
		require.Equal(t, "hookflow: unauthorized (401): "+apiErr.Error.Message+"\n", r.stderr)
		require.Empty(t, r.stdout, "nothing on stdout for a script to mistake for an answer")
	}

	// Bad input: the API's message and each bad field.
	r := hookflow(t, []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=right"},
		"subscriptions", "create", "--url", "ftp://example.com/x", "--event-type", "a.b")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "hookflow: validation_failed (400): ")
	require.Regexp(t, `(?m)^  url: `, r.stderr)

	r = hookflow(t, []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=right"}, "deliveries", "get", "dlv_nope")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "hookflow: not_found (404): ")
}

// serve and api will not put an open API on a public address; the
// setting that allows it must be spelled out. The worker has no API.
func TestUnauthenticatedAPIBeyondLoopbackNeedsWords(t *testing.T) {
	base := []string{
		"HOOKFLOW_TEMPORAL_ADDRESS=" + tp.Address,
		"HOOKFLOW_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "hookflow.db"),
		"HOOKFLOW_TASK_QUEUE=hookflow-" + t.Name(),
	}
	for _, mode := range []string{"serve", "api"} {
		r := hookflow(t, append(base, "HOOKFLOW_HTTP_ADDR=0.0.0.0:0"), mode)
		require.Equal(t, 1, r.code, "%s: %s", mode, r.stderr)
		require.Contains(t, r.stderr, "HOOKFLOW_API_KEYS is empty and HOOKFLOW_HTTP_ADDR=0.0.0.0:0 listens beyond loopback")
		require.Contains(t, r.stderr, "HOOKFLOW_INSECURE_NO_AUTH=true")
	}

	// Said in words, it starts, serves and stops cleanly on SIGTERM.
	port, err := testenv.FreePort()
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), binary, "api")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		fmt.Sprintf("HOOKFLOW_HTTP_ADDR=0.0.0.0:%d", port), "HOOKFLOW_INSECURE_NO_AUTH=true"}, base...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, time.Minute, 100*time.Millisecond, "api with HOOKFLOW_INSECURE_NO_AUTH=true serves; stderr: %s", &stderr)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	require.Contains(t, stderr.String(), "WITHOUT authentication", "the warning stays")
}

// migrate applies the schema and exits; running it again is a no-op.
func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hookflow.db")
	env := []string{"HOOKFLOW_DATABASE_URL=sqlite://" + path}
	for range 2 {
		r := hookflow(t, env, "migrate")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, "migrated sqlite://"+path+": the schema is up to date\n", r.stdout)
	}
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('subscriptions', 'events', 'deliveries')`).Scan(&tables))
	require.Equal(t, 3, tables)

	r := hookflow(t, []string{"HOOKFLOW_DATABASE_URL=mysql://nope"}, "migrate")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "HOOKFLOW_DATABASE_URL must start with sqlite:// or postgres://")
}

// version reports what the binary's build information records: the
// same commit `go version -m` reads from it.
func TestVersionIsTheBuildInfo(t *testing.T) {
	var v buildVersion
	hookflowJSON(t, nil, &v, "version")
	require.NotEmpty(t, v.Version)
	require.Regexp(t, `^go1\.`, v.GoVersion)

	out, err := exec.Command("go", "version", "-m", binary).Output()
	require.NoError(t, err)
	rev := regexp.MustCompile(`(?m)^\s+build\s+vcs\.revision=(\S+)$`).FindSubmatch(out)
	if rev == nil {
		require.Empty(t, v.Commit, "no VCS stamp in the binary, so no commit")
	} else {
		require.Equal(t, string(rev[1]), v.Commit)
	}
	r := hookflow(t, nil, "version")
	require.Equal(t, 0, r.code)
	require.Regexp(t, `^hookflow \S+\n`, r.stdout)
	if v.Commit != "" {
		require.Contains(t, r.stdout, "commit   "+v.Commit)
	}
}

// The README's applications walk-through, with the CLI: two applications,
// a token for one, and that token refused on the other.
func TestAppsAndTheirTokens(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeAPI, func(c *config.Config) { c.APIKeys = []string{"admin-key"} })
	admin := []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=admin-key"}

	var acme client.Application
	hookflowJSON(t, admin, &acme, "apps", "create", "--id", "acme", "--name", "Acme", "--metadata", "plan=gold")
	require.Equal(t, "acme", acme.ID)
	require.Equal(t, map[string]string{"plan": "gold"}, acme.Metadata)
	hookflowJSON(t, admin, &client.Application{}, "apps", "create", "--id", "globex", "--name", "Globex")

	var page client.Page[client.Application]
	hookflowJSON(t, admin, &page, "apps", "list")
	var ids []string
	for _, a := range page.Data {
		ids = append(ids, a.ID)
	}
	require.Subset(t, ids, []string{"acme", "globex", "default"})

	var renamed client.Application
	hookflowJSON(t, admin, &renamed, "apps", "update", "acme", "--name", "Acme Corp")
	require.Equal(t, "Acme Corp", renamed.Name)
	require.Equal(t, map[string]string{"plan": "gold"}, renamed.Metadata, "left out, the metadata stays")

	var minted client.MintedToken
	hookflowJSON(t, admin, &minted, "apps", "tokens", "create", "acme", "--expires-in", "1h", "--description", "acme ci")
	require.True(t, strings.HasPrefix(minted.Token, "hfat_"))
	require.WithinDuration(t, time.Now().Add(time.Hour), minted.ExpiresAt, time.Minute)

	// The token works inside its application, and nowhere else.
	asAcme := []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=" + minted.Token}
	r := hookflow(t, append(asAcme, "HOOKFLOW_APP=acme"), "subscriptions", "list")
	require.Equal(t, 0, r.code, r.stderr)
	r = hookflow(t, append(asAcme, "HOOKFLOW_APP=globex"), "subscriptions", "list")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "(403)")
	r = hookflow(t, asAcme, "apps", "list")
	require.Equal(t, 1, r.code, "an application token is no admin")

	r = hookflow(t, admin, "apps", "tokens", "list", "acme")
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^`+regexp.QuoteMeta(minted.ID)+`\s+valid\s+\S+\s+acme ci\s*$`, r.stdout)
	require.NotContains(t, r.stdout, minted.Token, "a list never shows the token")

	r = hookflow(t, admin, "apps", "tokens", "revoke", "acme", minted.ID)
	require.Equal(t, 0, r.code, r.stderr)
	r = hookflow(t, append(asAcme, "HOOKFLOW_APP=acme"), "subscriptions", "list")
	require.Equal(t, 1, r.code, "a revoked token is refused at once")
	r = hookflow(t, admin, "apps", "tokens", "list", "acme")
	require.Regexp(t, `(?m)^`+regexp.QuoteMeta(minted.ID)+`\s+revoked\s+`, r.stdout)

	var link client.PortalLink
	hookflowJSON(t, admin, &link, "apps", "portal-link", "acme", "--expires-in", "30m")
	require.Contains(t, link.URL, "/portal/#")
	require.Contains(t, link.URL, link.Token, "the token rides in the fragment")
	require.WithinDuration(t, time.Now().Add(30*time.Minute), link.ExpiresAt, time.Minute)

	r = hookflow(t, admin, "apps", "delete", "globex")
	require.Equal(t, 0, r.code, r.stderr)
	r = hookflow(t, admin, "apps", "get", "globex")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "(404)")
}

// The message log from the terminal: an outage fails two deliveries, the
// log lists them, one recover brings both back, and a resend sends a
// succeeded one again.
func TestMessageLogResendAndRecover(t *testing.T) {
	h := testenv.StartHookflow(t, tp, app.ModeServe, func(c *config.Config) { c.APIKeys = []string{"cli-key"} })
	env := []string{"HOOKFLOW_URL=" + h.URL, "HOOKFLOW_API_KEY=cli-key"}
	var healthy atomic.Bool
	receiver := testenv.NewReceiver(t)
	receiver.Respond = func(_ int, w http.ResponseWriter) {
		if healthy.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	var sub client.Subscription
	hookflowJSON(t, env, &sub, "subscriptions", "create", "--url", receiver.URL, "--event-type", "invoice.*",
		"--retry-max-attempts", "1")
	receiver.SetSecret(sub.Secret)
	for _, id := range []string{"inv-1", "inv-2"} {
		hookflowJSON(t, env, &client.Accepted{}, "events", "send", "--type", "invoice.paid", "--id", id, "--data", `{}`)
	}

	var failed client.Page[client.DeliveryLogItem]
	require.Eventually(t, func() bool {
		failed = client.Page[client.DeliveryLogItem]{}
		hookflowJSON(t, env, &failed, "deliveries", "list", "--subscription", sub.ID, "--status", "failed", "--since", "10m")
		return len(failed.Data) == 2
	}, time.Minute, 250*time.Millisecond, "both fail during the outage")
	require.Equal(t, "inv-2", failed.Data[0].EventID, "newest first")

	var events client.Page[client.EventLogItem]
	hookflowJSON(t, env, &events, "events", "list", "--type", "invoice.paid", "--limit", "1")
	require.Len(t, events.Data, 1)
	require.True(t, events.HasMore)
	require.NotEmpty(t, events.NextCursor)
	r := hookflow(t, env, "events", "list", "--cursor", events.NextCursor)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `(?m)^inv-1\s+invoice\.paid\s+`, r.stdout)
	require.NotContains(t, r.stdout, "inv-2")

	healthy.Store(true)
	var rec client.Recovery
	hookflowJSON(t, env, &rec, "recover", sub.ID, "--since", "10m", "--wait")
	require.Equal(t, "completed", rec.Status)
	require.Equal(t, 2, rec.Resent)
	var again client.Recovery
	hookflowJSON(t, env, &again, "recover", "get", rec.ID)
	require.Equal(t, rec.Resent, again.Resent)
	require.Eventually(t, func() bool { return receiver.Count() == 4 }, time.Minute, 100*time.Millisecond,
		"two failed attempts, then both events once more")

	var ok client.Page[client.DeliveryLogItem]
	require.Eventually(t, func() bool {
		ok = client.Page[client.DeliveryLogItem]{}
		hookflowJSON(t, env, &ok, "deliveries", "list", "--event", "inv-1", "--status", "succeeded")
		return len(ok.Data) == 1
	}, time.Minute, 250*time.Millisecond)
	var resent client.Resent
	hookflowJSON(t, env, &resent, "deliveries", "resend", ok.Data[0].ID)
	require.NotEqual(t, ok.Data[0].ID, resent.ID, "a resend is a new delivery")
	require.Eventually(t, func() bool { return receiver.Count() == 5 }, time.Minute, 100*time.Millisecond)
	last := receiver.Requests()[4]
	require.NoError(t, last.VerifyErr)
	require.Equal(t, "inv-1", last.Header.Get("webhook-id"), "the same webhook-id, for the receiver to dedupe")

	r = hookflow(t, env, "recover", sub.ID, "--since", "yesterday")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "--since")
}
