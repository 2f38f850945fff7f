package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/config"
)

func TestProducerSettingsDefaultsAndValidation(t *testing.T) {
	cfg := config.Default()
	require.Equal(t, 24*time.Hour, cfg.SecretRotationGrace)
	require.True(t, cfg.AllowUnknownEventTypes)
	require.Empty(t, cfg.APIKeys)
	require.Equal(t, int64(256<<10), cfg.MaxBodyBytes)

	t.Setenv("HOOKFLOW_API_KEYS", " key-1, ,key-2 ")
	t.Setenv("HOOKFLOW_SECRET_ROTATION_GRACE", "90m")
	t.Setenv("HOOKFLOW_ALLOW_UNKNOWN_EVENT_TYPES", "false")
	cfg, err := config.Load()
	require.NoError(t, err)
	require.Equal(t, []string{"key-1", "key-2"}, cfg.APIKeys)
	require.Equal(t, 90*time.Minute, cfg.SecretRotationGrace)
	require.False(t, cfg.AllowUnknownEventTypes)

	t.Setenv("HOOKFLOW_SECRET_ROTATION_GRACE", "-1s")
	_, err = config.Load()
	require.ErrorContains(t, err, "HOOKFLOW_SECRET_ROTATION_GRACE")
}
