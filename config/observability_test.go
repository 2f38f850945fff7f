package config_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/config"
)

func TestObservabilitySettingsDefaultParseAndValidate(t *testing.T) {
	cfg := config.Default()
	require.Empty(t, cfg.MetricsAddr, "no extra listener unless asked")
	require.Equal(t, 1000, cfg.MetricsMaxSubscriptions)
	require.Equal(t, slog.LevelInfo, cfg.SlogLevel())

	t.Setenv("HOOKFLOW_METRICS_ADDR", "127.0.0.1:9090")
	t.Setenv("HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS", "0")
	t.Setenv("HOOKFLOW_LOG_LEVEL", "debug")
	cfg, err := config.Load()
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9090", cfg.MetricsAddr)
	require.Zero(t, cfg.MetricsMaxSubscriptions)
	require.Equal(t, slog.LevelDebug, cfg.SlogLevel())

	t.Setenv("HOOKFLOW_LOG_LEVEL", "loud")
	_, err = config.Load()
	require.ErrorContains(t, err, "HOOKFLOW_LOG_LEVEL")

	t.Setenv("HOOKFLOW_LOG_LEVEL", "warn")
	t.Setenv("HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS", "-1")
	_, err = config.Load()
	require.ErrorContains(t, err, "HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS must not be negative")
}
