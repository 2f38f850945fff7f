// Package e2e tests Hookflow end to end: a real Temporal dev server, Hookflow
// running in the test process, and httptest receivers.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hookflow/hookflow/internal/testenv"
)

// updateHistories rewrites the recorded histories the replay tests read.
var updateHistories = flag.Bool("update-histories", false, "record workflow histories into workflows/testdata/histories")

// tp is the one dev server every test of the package shares. An event's
// workflow id is its application and id, so two tests that post the same
// event id in the same application meet the other's workflow: the second
// one's event finds it already started and never fans out. Each test
// names its events apart (a prefix of its own).
var tp *testenv.Temporal

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
	if code == 0 {
		code = checkNoSecretInAnyHistory()
	}
	if err := tp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop dev server:", err)
	}
	os.Exit(code)
}

// checkNoSecretInAnyHistory searches every history the package's tests
// produced, and every log line of the Hookflow processes they started, for
// every subscriber secret and application token they saw: none may be
// there.
func checkNoSecretInAnyHistory() int {
	secrets := testenv.SeenSecrets()
	if len(secrets) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	leaks, histories, err := secretLeaks(ctx, tp.Client, secrets)
	if err != nil {
		fmt.Fprintln(os.Stderr, "search histories for secrets:", err)
		return 1
	}
	if len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: subscriber secrets or application tokens found in workflow histories:\n  %s\n", strings.Join(leaks, "\n  "))
		return 1
	}
	if inLogs := testenv.LeakedInLogs(); len(inLogs) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: subscriber secrets or application tokens found in log lines:\n  %s\n", strings.Join(inLogs, "\n  "))
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("no secret in any history: searched %d histories for %d secrets\n", histories, len(secrets))
	}
	return 0
}
