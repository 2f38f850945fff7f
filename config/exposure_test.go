package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckAPIExposure(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		keys     []string
		insecure bool
		ok       bool
	}{
		{addr: "127.0.0.1:8080", ok: true},
		{addr: "127.0.0.1:0", ok: true},
		{addr: "127.1.2.3:8080", ok: true},
		{addr: "[::1]:8080", ok: true},
		{addr: "localhost:8080", ok: true},
		{addr: "0.0.0.0:8080"},
		{addr: ":8080"},
		{addr: "[::]:8080"},
		{addr: "10.0.0.5:8080"},
		{addr: "0.0.0.0:8080", keys: []string{"k"}, ok: true},
		{addr: ":8080", insecure: true, ok: true},
	} {
		cfg := Default()
		cfg.HTTPAddr, cfg.APIKeys, cfg.InsecureNoAuth = tc.addr, tc.keys, tc.insecure
		err := cfg.CheckAPIExposure()
		if tc.ok {
			require.NoError(t, err, "%+v", tc)
			continue
		}
		require.Error(t, err, "%+v", tc)
		require.Contains(t, err.Error(), "HOOKFLOW_API_KEYS")
		require.Contains(t, err.Error(), "HOOKFLOW_INSECURE_NO_AUTH=true")
	}
}

func TestInsecureNoAuthIsReadFromTheEnvironment(t *testing.T) {
	require.False(t, Default().InsecureNoAuth, "off unless said in words")
	t.Setenv("HOOKFLOW_INSECURE_NO_AUTH", "true")
	cfg, err := Load()
	require.NoError(t, err)
	require.True(t, cfg.InsecureNoAuth)
}
