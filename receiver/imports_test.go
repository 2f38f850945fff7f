package receiver_test

import (
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// nonStandardImports returns the imports of the given Go sources that are
// not packages of the standard library. Transitive imports need no check:
// the standard library imports only itself.
func nonStandardImports(t *testing.T, sources map[string][]byte) []string {
	t.Helper()
	var found []string
	fset := token.NewFileSet()
	for name, src := range sources {
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			require.NoError(t, err)
			if !isStandard(path) {
				found = append(found, name+": "+path)
			}
		}
	}
	return found
}

// isStandard reports whether path names a package in GOROOT. Like the go
// command, it takes a dot in the first element to mean a module path.
func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	if strings.Contains(first, ".") {
		return false
	}
	pkg, err := build.Default.Import(path, "", build.FindOnly)
	return err == nil && pkg.Goroot
}

// Subscribers import the package into their own builds: it must not bring a
// dependency along. Files of every build tag count.
func TestPackageImportsOnlyTheStandardLibrary(t *testing.T) {
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	sources := map[string][]byte{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		sources[name] = src
	}
	require.Contains(t, sources, "receiver.go", "the test must look at the package's own files")
	require.Empty(t, nonStandardImports(t, sources))
}

func TestImportCheckCatchesOtherModules(t *testing.T) {
	src := []byte(`package receiver

import (
	"net/http"
	"github.com/hookflow/hookflow/signing"
	"golang.org/x/sync/errgroup"
	"nosuchstdpkg"
)
`)
	got := nonStandardImports(t, map[string][]byte{"x.go": src})
	require.ElementsMatch(t, []string{
		"x.go: github.com/hookflow/hookflow/signing",
		"x.go: golang.org/x/sync/errgroup",
		"x.go: nosuchstdpkg",
	}, got)
}
