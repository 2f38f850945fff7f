package app

import (
	"fmt"

	"github.com/hookflow/hookflow/codec"
	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/delivery"
	"github.com/hookflow/hookflow/netguard"
	"github.com/hookflow/hookflow/secretbox"
)

// targetPolicy is the outbound guard the settings describe: which
// subscriber URLs the API accepts and which addresses the delivery client
// connects to.
func targetPolicy(cfg config.Config) (netguard.Policy, error) {
	allow, err := netguard.ParseAllowList(cfg.AllowedTargetCIDRs)
	if err != nil {
		return netguard.Policy{}, fmt.Errorf("HOOKFLOW_ALLOWED_TARGET_CIDRS: %w", err)
	}
	return netguard.Policy{
		AllowPrivate: cfg.AllowPrivateTargets,
		Allow:        allow,
		RequireHTTPS: cfg.RequireHTTPS,
		Resolver:     cfg.TargetResolver,
	}, nil
}

// secretBox is the box that seals subscriber secrets in the database; it
// passes plaintext through when HOOKFLOW_SECRET_KEY is empty.
func secretBox(cfg config.Config) (*secretbox.Box, error) {
	return secretbox.New(cfg.SecretKey) // its errors name the variable, never a key
}

// payloadCodec is the payload codec for Temporal, or nil when
// HOOKFLOW_CODEC_KEYS is empty.
func payloadCodec(cfg config.Config) (*codec.Codec, error) {
	if cfg.CodecKeys == "" {
		return nil, nil
	}
	cd, err := codec.New(cfg.CodecKeys)
	if err != nil {
		return nil, fmt.Errorf("HOOKFLOW_CODEC_KEYS: %w", err)
	}
	return cd, nil
}

// deliveryDefaults are the delivery settings every subscription starts
// from.
func deliveryDefaults(cfg config.Config) delivery.Defaults {
	return delivery.Defaults{
		Retry: delivery.Policy{
			InitialInterval: cfg.Retry.InitialInterval, BackoffCoefficient: cfg.Retry.BackoffCoefficient,
			MaxInterval: cfg.Retry.MaxInterval, MaxAttempts: cfg.Retry.MaxAttempts, MaxDuration: cfg.Retry.MaxDuration,
		},
		AttemptTimeout:  cfg.AttemptTimeout,
		FailedRetention: cfg.FailedRetention,
		PauseHold:       cfg.PauseHold,
		DisableAfter:    cfg.DisableAfter,
	}
}
