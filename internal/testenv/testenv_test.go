package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `make run` must start the dev server the way the tests and the bench do.
func TestRunScriptUsesDevServerArgs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "scripts", "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join(strings.Fields(strings.ReplaceAll(string(raw), "\\\n", " ")), " ")
	for i := 0; i+1 < len(DevServerArgs); i += 2 {
		arg := DevServerArgs[i] + " " + DevServerArgs[i+1]
		if !strings.Contains(script, arg) {
			t.Errorf("scripts/run.sh does not pass %q", arg)
		}
	}
}
