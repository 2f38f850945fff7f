package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/config"
)

func TestSecuritySettingsBuildTheGuardTheBoxAndTheCodec(t *testing.T) {
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	t.Setenv("HOOKFLOW_ALLOWED_TARGET_CIDRS", "10.1.0.0/16, 192.168.5.5")
	t.Setenv("HOOKFLOW_REQUIRE_HTTPS", "true")
	t.Setenv("HOOKFLOW_SECRET_KEY", "s1:"+key)
	t.Setenv("HOOKFLOW_CODEC_KEYS", "c2:"+key+",c1:"+key)
	cfg, err := config.Load()
	require.NoError(t, err)

	p, err := targetPolicy(cfg)
	require.NoError(t, err)
	require.False(t, p.AllowPrivate)
	require.True(t, p.RequireHTTPS)
	require.Len(t, p.Allow, 2)
	box, err := secretBox(cfg)
	require.NoError(t, err)
	require.True(t, box.Enabled())
	c, err := payloadCodec(cfg)
	require.NoError(t, err)
	require.Equal(t, "c2", c.CurrentKeyID())
}

func TestTheDefaultsEncryptNothing(t *testing.T) {
	cfg := config.Default()
	c, err := payloadCodec(cfg)
	require.NoError(t, err)
	require.Nil(t, c, "no codec without HOOKFLOW_CODEC_KEYS")
	box, err := secretBox(cfg)
	require.NoError(t, err)
	require.False(t, box.Enabled())
}

func TestDeliveryDefaultsComeFromTheRetrySettings(t *testing.T) {
	cfg := config.Default()
	d := deliveryDefaults(cfg)
	require.Equal(t, 5*time.Second, d.Retry.InitialInterval)
	require.Equal(t, 2.0, d.Retry.BackoffCoefficient)
	require.Equal(t, 4*time.Hour, d.Retry.MaxInterval)
	require.Equal(t, 72*time.Hour, d.Retry.MaxDuration)
	require.Equal(t, 15*time.Second, d.AttemptTimeout)
	require.Equal(t, 168*time.Hour, d.FailedRetention)
}
