package workflows_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/internal/leakcheck"
)

// No recorded history holds a subscriber secret or an application token.
// The secrets of the run that recorded them are gone, but every secret
// Hookflow hands out or stores starts with "whsec_" or, sealed, "enc:v1:",
// and every token with "hfat_"; the e2e package checks
// each history it produces against the exact secrets of its run.
func TestRecordedHistoriesHoldNoSecret(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	needles := []leakcheck.Needle{
		{Name: "a whsec_ secret", Bytes: []byte("whsec_")},
		{Name: "a sealed secret", Bytes: []byte("enc:v1:")},
		{Name: "an application token", Bytes: []byte("hfat_")},
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := os.Open(f)
			require.NoError(t, err)
			defer func() { _ = r.Close() }()
			h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, h.GetEvents())
			found, err := leakcheck.Find(h, needles)
			require.NoError(t, err)
			require.Empty(t, found)
		})
	}
}
