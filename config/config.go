// Package config holds Hookflow's configuration: every setting is read from a
// HOOKFLOW_* environment variable, defaulted once here and validated before use.
//
// Variables (defaults in brackets):
//
//	HOOKFLOW_HTTP_ADDR               API listen address [127.0.0.1:8080]
//	HOOKFLOW_TEMPORAL_ADDRESS        Temporal frontend [127.0.0.1:7233]
//	HOOKFLOW_TEMPORAL_NAMESPACE      namespace [default]
//	HOOKFLOW_TASK_QUEUE              task queue; deliveries use <queue>-deliveries [hookflow]
//	HOOKFLOW_DATABASE_URL            sqlite://PATH or postgres://... [sqlite://.hookflow/hookflow.db]
//	HOOKFLOW_API_KEYS                comma-separated bearer tokens; empty disables auth [empty]
//	HOOKFLOW_INSECURE_NO_AUTH        let the API listen beyond loopback without HOOKFLOW_API_KEYS [false]
//	HOOKFLOW_ALLOW_PRIVATE_TARGETS   allow loopback/private subscriber URLs [false]
//	HOOKFLOW_ALLOWED_TARGET_CIDRS    comma-separated CIDRs (or addresses) reachable despite the address checks [empty]
//	HOOKFLOW_REQUIRE_HTTPS           refuse http:// subscriber URLs [false]
//	HOOKFLOW_SECRET_KEY              id:base64key[,...] encrypting subscriber secrets at rest, first current [empty: stored as given]
//	HOOKFLOW_CODEC_KEYS              id:base64key[,...] encrypting every Temporal payload, first current [empty: payloads in clear]
//	HOOKFLOW_CODEC_ALLOWED_ORIGINS   browser origins (the Temporal Web UI) allowed to call /v1/codec [http://127.0.0.1:8233,http://localhost:8233]
//	HOOKFLOW_RETRY_INITIAL_INTERVAL  first backoff [5s]
//	HOOKFLOW_RETRY_BACKOFF_COEFFICIENT  growth of each backoff [2]
//	HOOKFLOW_RETRY_MAX_INTERVAL      longest backoff [4h]
//	HOOKFLOW_RETRY_MAX_ATTEMPTS      attempts per round, 0 = bounded by duration only [0]
//	HOOKFLOW_RETRY_MAX_DURATION      how long a round of attempts may last [72h]
//	HOOKFLOW_ATTEMPT_TIMEOUT         per-attempt HTTP timeout [15s]
//	HOOKFLOW_FAILED_RETENTION        how long a failed delivery stays open for a retry signal [168h]
//	HOOKFLOW_RETENTION               finished events, deliveries and attempts older than this are purged, 0 = keep everything [720h]
//	HOOKFLOW_RETENTION_INTERVAL      how often the hookflow-retention schedule starts a purge [1h]
//	HOOKFLOW_MAX_BODY_BYTES          largest accepted request body [262144]
//	HOOKFLOW_DELIVERY_SLOTS          deliveries (attempts in flight) one worker process works on at once [256]
//	HOOKFLOW_MAX_PENDING_EVENTS      accepted events waiting for their workflow to start past which a post is 503 with Retry-After, 0 = no bound [100000]
//	HOOKFLOW_SECRET_ROTATION_GRACE   how long a rotated-out secret keeps signing beside the new one [24h]
//	HOOKFLOW_ALLOW_UNKNOWN_EVENT_TYPES  accept events whose type is not registered under /v1/event-types [true]
//	HOOKFLOW_METRICS_ADDR            extra listener serving /metrics and /healthz, for `hookflow worker` above all [empty: none; the API serves /metrics]
//	HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS  subscriptions with attempt latency series of their own, per process; the rest share subscription="other" [1000]
//	HOOKFLOW_PUBLIC_URL              base URL of portal links, like https://hooks.example.com [empty: the scheme and Host of the admin's request]
//	HOOKFLOW_LOG_LEVEL               debug, info, warn or error; logs are JSON on stderr [info]
//
// Keys are 32 random bytes in base64 (openssl rand -base64 32); SECURITY.md
// says how to rotate them. Key values never appear in an error message.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/hookflow/hookflow/netguard"
)

// Config is the whole of Hookflow's configuration.
type Config struct {
	HTTPAddr            string        `env:"HOOKFLOW_HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	TemporalAddress     string        `env:"HOOKFLOW_TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace   string        `env:"HOOKFLOW_TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue           string        `env:"HOOKFLOW_TASK_QUEUE" envDefault:"hookflow"`
	DatabaseURL         string        `env:"HOOKFLOW_DATABASE_URL" envDefault:"sqlite://.hookflow/hookflow.db"`
	APIKeys             []string      `env:"HOOKFLOW_API_KEYS" envSeparator:","`
	AllowPrivateTargets bool          `env:"HOOKFLOW_ALLOW_PRIVATE_TARGETS" envDefault:"false"`
	Retry               RetryPolicy   `envPrefix:"HOOKFLOW_RETRY_"`
	AttemptTimeout      time.Duration `env:"HOOKFLOW_ATTEMPT_TIMEOUT" envDefault:"15s"`
	FailedRetention     time.Duration `env:"HOOKFLOW_FAILED_RETENTION" envDefault:"168h"`
	MaxBodyBytes        int64         `env:"HOOKFLOW_MAX_BODY_BYTES" envDefault:"262144"`
	// PauseHold is how long a delivery waits, held, for its paused
	// subscription to resume before it gives up (ends failed).
	PauseHold time.Duration `env:"HOOKFLOW_PAUSE_HOLD" envDefault:"72h"`
	// DisableAfter is how long every attempt to a subscription may fail
	// before Hookflow disables it (a 410 Gone disables at once). Zero
	// never disables for failures.
	DisableAfter time.Duration `env:"HOOKFLOW_DISABLE_AFTER" envDefault:"120h"`
	// Retention is how long finished events, deliveries and attempts are
	// kept; the hookflow-retention schedule purges older ones every
	// RetentionInterval. Zero keeps everything (and removes the schedule).
	Retention         time.Duration `env:"HOOKFLOW_RETENTION" envDefault:"720h"`
	RetentionInterval time.Duration `env:"HOOKFLOW_RETENTION_INTERVAL" envDefault:"1h"`
	// DeliverySlots bounds the deliveries one worker process works on at
	// once (workflow tasks, and the attempts running in them); the rest
	// wait in Temporal's task queue, where fairness orders them.
	DeliverySlots int `env:"HOOKFLOW_DELIVERY_SLOTS" envDefault:"256"`
	// MaxPendingEvents bounds the outbox: while this many accepted events
	// wait for their workflow to start (Temporal down for long, say), a
	// new event is refused with 503 and Retry-After, so that the backlog
	// cannot fill the disk. Zero: no bound.
	MaxPendingEvents int `env:"HOOKFLOW_MAX_PENDING_EVENTS" envDefault:"100000"`
	// SecretRotationGrace is how long the previous secret of a subscription
	// keeps signing beside the new one after a rotation.
	SecretRotationGrace time.Duration `env:"HOOKFLOW_SECRET_ROTATION_GRACE" envDefault:"24h"`
	// AllowUnknownEventTypes accepts events of types nobody registered; when
	// false, only registered types are accepted.
	AllowUnknownEventTypes bool `env:"HOOKFLOW_ALLOW_UNKNOWN_EVENT_TYPES" envDefault:"true"`
	// InsecureNoAuth lets the API listen beyond loopback with no API key
	// (see CheckAPIExposure).
	InsecureNoAuth bool `env:"HOOKFLOW_INSECURE_NO_AUTH" envDefault:"false"`
	// PublicURL is where users reach Hookflow, the base of portal links
	// (POST .../portal-access); empty: the scheme and Host of the request.
	PublicURL string `env:"HOOKFLOW_PUBLIC_URL"`

	// Outbound guard and encryption (SECURITY.md).
	AllowedTargetCIDRs  string   `env:"HOOKFLOW_ALLOWED_TARGET_CIDRS"`
	RequireHTTPS        bool     `env:"HOOKFLOW_REQUIRE_HTTPS" envDefault:"false"`
	SecretKey           string   `env:"HOOKFLOW_SECRET_KEY"`
	CodecKeys           string   `env:"HOOKFLOW_CODEC_KEYS"`
	CodecAllowedOrigins []string `env:"HOOKFLOW_CODEC_ALLOWED_ORIGINS" envSeparator:"," envDefault:"http://127.0.0.1:8233,http://localhost:8233"`
	// Observability: metrics and logs.
	MetricsAddr             string `env:"HOOKFLOW_METRICS_ADDR"`
	MetricsMaxSubscriptions int    `env:"HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS" envDefault:"1000"`
	LogLevel                string `env:"HOOKFLOW_LOG_LEVEL" envDefault:"info"`
	// TargetResolver resolves subscriber host names for the outbound guard,
	// at create time and at connect time; nil is the system's resolver. It
	// is not read from the environment: tests inject one.
	TargetResolver netguard.Resolver `env:"-"`
}

// RetryPolicy is the default schedule of attempts of a delivery. The
// defaults follow Stripe and Svix: attempts for up to three days, backoff
// growing from a few seconds to a few hours.
type RetryPolicy struct {
	InitialInterval    time.Duration `env:"INITIAL_INTERVAL" envDefault:"5s"`
	BackoffCoefficient float64       `env:"BACKOFF_COEFFICIENT" envDefault:"2"`
	MaxInterval        time.Duration `env:"MAX_INTERVAL" envDefault:"4h"`
	MaxAttempts        int           `env:"MAX_ATTEMPTS" envDefault:"0"`
	MaxDuration        time.Duration `env:"MAX_DURATION" envDefault:"72h"`
}

// Load reads the environment, applies defaults and validates the result.
func Load() (Config, error) {
	cfg, err := env.ParseAs[Config]()
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg.APIKeys = trimEmpty(cfg.APIKeys)
	cfg.CodecAllowedOrigins = trimEmpty(cfg.CodecAllowedOrigins)
	return cfg, cfg.Validate()
}

// Default returns the configuration an empty environment yields.
func Default() Config {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: map[string]string{}})
	if err != nil {
		panic(err) // the defaults above are constants; failing here is a programming error
	}
	return cfg
}

// Validate reports every setting that cannot work, naming its variable.
func (c Config) Validate() error {
	var errs []error
	if c.TaskQueue == "" {
		errs = append(errs, errors.New("HOOKFLOW_TASK_QUEUE must not be empty"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("HOOKFLOW_PUBLIC_URL must be an http:// or https:// URL with a host and no query, like https://hooks.example.com, got %q", c.PublicURL))
		}
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite://") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, fmt.Errorf("HOOKFLOW_DATABASE_URL must start with sqlite:// or postgres://, got %q", c.DatabaseURL))
	}
	if c.Retry.InitialInterval <= 0 {
		errs = append(errs, errors.New("HOOKFLOW_RETRY_INITIAL_INTERVAL must be positive"))
	}
	if c.Retry.BackoffCoefficient < 1 {
		errs = append(errs, errors.New("HOOKFLOW_RETRY_BACKOFF_COEFFICIENT must be at least 1"))
	}
	if c.Retry.MaxInterval < c.Retry.InitialInterval {
		errs = append(errs, errors.New("HOOKFLOW_RETRY_MAX_INTERVAL must be at least HOOKFLOW_RETRY_INITIAL_INTERVAL"))
	}
	if c.Retry.MaxAttempts < 0 {
		errs = append(errs, errors.New("HOOKFLOW_RETRY_MAX_ATTEMPTS must not be negative"))
	}
	if c.Retry.MaxAttempts == 0 && c.Retry.MaxDuration <= 0 {
		errs = append(errs, errors.New("HOOKFLOW_RETRY_MAX_DURATION must be positive when HOOKFLOW_RETRY_MAX_ATTEMPTS is 0"))
	}
	if c.AttemptTimeout <= 0 {
		errs = append(errs, errors.New("HOOKFLOW_ATTEMPT_TIMEOUT must be positive"))
	}
	if c.FailedRetention < 0 {
		errs = append(errs, errors.New("HOOKFLOW_FAILED_RETENTION must not be negative"))
	}
	if c.PauseHold <= 0 {
		errs = append(errs, errors.New("HOOKFLOW_PAUSE_HOLD must be positive"))
	}
	if c.DisableAfter < 0 {
		errs = append(errs, errors.New("HOOKFLOW_DISABLE_AFTER must not be negative (0 never disables for failures)"))
	}
	if c.Retention < 0 {
		errs = append(errs, errors.New("HOOKFLOW_RETENTION must not be negative (0 keeps everything)"))
	}
	if c.RetentionInterval < time.Second {
		errs = append(errs, errors.New("HOOKFLOW_RETENTION_INTERVAL must be at least 1s"))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("HOOKFLOW_MAX_BODY_BYTES must be positive"))
	}
	if c.DeliverySlots < 1 {
		errs = append(errs, errors.New("HOOKFLOW_DELIVERY_SLOTS must be at least 1"))
	}
	if c.MaxPendingEvents < 0 {
		errs = append(errs, errors.New("HOOKFLOW_MAX_PENDING_EVENTS must not be negative (0 means no bound)"))
	}
	if c.SecretRotationGrace < 0 {
		errs = append(errs, errors.New("HOOKFLOW_SECRET_ROTATION_GRACE must not be negative"))
	}
	if c.MetricsMaxSubscriptions < 0 {
		errs = append(errs, errors.New("HOOKFLOW_METRICS_MAX_SUBSCRIPTIONS must not be negative"))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("HOOKFLOW_LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel))
	}
	errs = append(errs, c.validateSecurity()...)
	return errors.Join(errs...)
}

// SlogLevel is HOOKFLOW_LOG_LEVEL as a slog level; info when it does not
// parse (Validate reports that).
func (c Config) SlogLevel() slog.Level {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return slog.LevelInfo
	}
	return level
}

func trimEmpty(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
