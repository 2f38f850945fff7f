package config

import (
	"fmt"

	"github.com/hookflow/hookflow/codec"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/secretbox"
)

// TargetPolicy is the outbound guard the settings describe: which subscriber
// URLs the API accepts and which addresses the delivery client connects to.
func (c Config) TargetPolicy() (netguard.Policy, error) {
	allow, err := netguard.ParseAllowList(c.AllowedTargetCIDRs)
	if err != nil {
		return netguard.Policy{}, fmt.Errorf("HOOKFLOW_ALLOWED_TARGET_CIDRS: %w", err)
	}
	return netguard.Policy{
		AllowPrivate: c.AllowPrivateTargets,
		Allow:        allow,
		RequireHTTPS: c.RequireHTTPS,
		Resolver:     c.TargetResolver,
	}, nil
}

// SecretBox returns the box that seals subscriber secrets in the database;
// it passes plaintext through when HOOKFLOW_SECRET_KEY is empty.
func (c Config) SecretBox() (*secretbox.Box, error) {
	return secretbox.New(c.SecretKey) // its errors name the variable, never a key
}

// Codec returns the payload codec for Temporal, or nil when
// HOOKFLOW_CODEC_KEYS is empty.
func (c Config) Codec() (*codec.Codec, error) {
	if c.CodecKeys == "" {
		return nil, nil
	}
	cd, err := codec.New(c.CodecKeys)
	if err != nil {
		return nil, fmt.Errorf("HOOKFLOW_CODEC_KEYS: %w", err)
	}
	return cd, nil
}

// validateSecurity parses every key and list, so that a bad one stops the
// process at start rather than at the first delivery.
func (c Config) validateSecurity() []error {
	var errs []error
	if _, err := c.TargetPolicy(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.SecretBox(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.Codec(); err != nil {
		errs = append(errs, err)
	}
	return errs
}
