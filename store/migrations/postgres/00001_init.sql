-- +goose Up
-- Times are Unix microseconds in BIGINT columns in both dialects, so that
-- one implementation reads them the same way from SQLite and PostgreSQL.
CREATE TABLE subscriptions (
    id                         TEXT PRIMARY KEY,
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at BIGINT NOT NULL DEFAULT 0,
    headers                    TEXT NOT NULL DEFAULT '{}',
    retry                      TEXT NOT NULL DEFAULT '',
    timeout_ms                 BIGINT NOT NULL DEFAULT 0,
    status                     TEXT NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
);

CREATE TABLE subscription_event_types (
    pattern         TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    PRIMARY KEY (pattern, subscription_id)
);
CREATE INDEX subscription_event_types_subscription ON subscription_event_types (subscription_id);

CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    payload     BYTEA NOT NULL,
    body_hash   TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    run_id      TEXT NOT NULL DEFAULT '',
    dispatched  INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    url             TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    workflow_id     TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX deliveries_event ON deliveries (event_id, id);

CREATE TABLE delivery_attempts (
    delivery_id      TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    started_at       BIGINT NOT NULL,
    duration_ms      BIGINT NOT NULL,
    status_code      INTEGER NOT NULL,
    error            TEXT NOT NULL DEFAULT '',
    response_excerpt TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE subscription_event_types;
DROP TABLE subscriptions;
