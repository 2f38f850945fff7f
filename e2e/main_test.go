// Package e2e tests Hookflow end to end: a real Temporal dev server, Hookflow
// running in the test process, and httptest receivers.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hookflow/hookflow/internal/testenv"
)

// updateHistories rewrites the recorded histories the replay tests read.
var updateHistories = flag.Bool("update-histories", false, "record workflow histories into workflows/testdata/histories")

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
	if err := tp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop dev server:", err)
	}
	os.Exit(code)
}
