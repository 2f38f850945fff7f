package config

import (
	"fmt"

	"github.com/hookflow/hookflow/codec"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/secretbox"
)

// validateSecurity parses every key and list the way app.New will, so that
// a bad one stops the process at start rather than at the first delivery.
// What it parses is thrown away: building the objects is app.New's job.
func (c Config) validateSecurity() []error {
	var errs []error
	if _, err := netguard.ParseAllowList(c.AllowedTargetCIDRs); err != nil {
		errs = append(errs, fmt.Errorf("HOOKFLOW_ALLOWED_TARGET_CIDRS: %w", err))
	}
	if _, err := secretbox.New(c.SecretKey); err != nil {
		errs = append(errs, err) // its errors name the variable, never a key
	}
	if c.CodecKeys != "" {
		if _, err := codec.New(c.CodecKeys); err != nil {
			errs = append(errs, fmt.Errorf("HOOKFLOW_CODEC_KEYS: %w", err))
		}
	}
	return errs
}
