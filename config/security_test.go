package config_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/config"
)

func TestSecuritySettingsAreReadAndChecked(t *testing.T) {
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	t.Setenv("HOOKFLOW_ALLOWED_TARGET_CIDRS", "10.1.0.0/16, 192.168.5.5")
	t.Setenv("HOOKFLOW_REQUIRE_HTTPS", "true")
	t.Setenv("HOOKFLOW_SECRET_KEY", "s1:"+key)
	t.Setenv("HOOKFLOW_CODEC_KEYS", "c2:"+key+",c1:"+key)
	t.Setenv("HOOKFLOW_CODEC_ALLOWED_ORIGINS", "https://temporal.example.test, ")
	cfg, err := config.Load()
	require.NoError(t, err)
	require.Equal(t, []string{"https://temporal.example.test"}, cfg.CodecAllowedOrigins)
	require.Equal(t, "10.1.0.0/16, 192.168.5.5", cfg.AllowedTargetCIDRs)
	require.True(t, cfg.RequireHTTPS)
	require.Equal(t, "s1:"+key, cfg.SecretKey)
	// What app.New builds from them: app/security_test.go.
}

func TestSecurityDefaultsAreStrictAndUnencrypted(t *testing.T) {
	cfg := config.Default()
	require.False(t, cfg.AllowPrivateTargets)
	require.False(t, cfg.RequireHTTPS)
	require.Equal(t, []string{"http://127.0.0.1:8233", "http://localhost:8233"}, cfg.CodecAllowedOrigins)
	require.Empty(t, cfg.CodecKeys)
	require.Empty(t, cfg.SecretKey)
	require.NoError(t, cfg.Validate())
}

func TestBadSecuritySettingsNameTheVariableAndNeverTheKey(t *testing.T) {
	short := "c2hvcnQta2V5LXZhbHVlLXNlY3JldA==" // 24 bytes: too short
	cfg := config.Default()
	cfg.AllowedTargetCIDRs = "10.0.0.0/33"
	cfg.SecretKey = "s1:" + short
	cfg.CodecKeys = "c1:" + short + ",c1:" + short
	err := cfg.Validate()
	require.Error(t, err)
	msg := err.Error()
	for _, variable := range []string{"HOOKFLOW_ALLOWED_TARGET_CIDRS", "HOOKFLOW_SECRET_KEY", "HOOKFLOW_CODEC_KEYS"} {
		require.Contains(t, msg, variable)
	}
	require.NotContains(t, msg, short)
	require.NotContains(t, msg, strings.TrimSuffix(short, "=="))
}
