-- +goose Up
-- Applications: every subscription belongs to one, every event is addressed
-- to one and fans out to its subscriptions only. Today's data is carried
-- into the application "default", which, like "_operational" (the home of
-- Hookflow's own operational events), always exists.
CREATE TABLE applications (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    metadata   TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO applications (id, name, metadata, created_at, updated_at) VALUES
    ('default', 'Default application', '{}', CAST(strftime('%s', 'now') AS INTEGER) * 1000000, CAST(strftime('%s', 'now') AS INTEGER) * 1000000),
    ('_operational', 'Hookflow operational events', '{}', CAST(strftime('%s', 'now') AS INTEGER) * 1000000, CAST(strftime('%s', 'now') AS INTEGER) * 1000000);

ALTER TABLE subscriptions ADD COLUMN application_id TEXT NOT NULL DEFAULT 'default';
CREATE INDEX subscriptions_application ON subscriptions (application_id, id);

-- Matching reads one application's patterns: the application leads the
-- match index, so a fan-out never scans another application's rows.
ALTER TABLE subscription_event_types ADD COLUMN application_id TEXT NOT NULL DEFAULT 'default';
DROP INDEX subscription_event_types_match;
CREATE INDEX subscription_event_types_match ON subscription_event_types (application_id, pattern, active, subscription_id);

-- Event ids (idempotency keys) are unique per application. SQLite cannot
-- change a primary key in place, so the table is rebuilt.
CREATE TABLE events_by_application (
    application_id TEXT NOT NULL,
    id             TEXT NOT NULL,
    type           TEXT NOT NULL,
    payload        BLOB NOT NULL,
    body_hash      TEXT NOT NULL,
    workflow_id    TEXT NOT NULL,
    run_id         TEXT NOT NULL DEFAULT '',
    dispatched     INTEGER NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (application_id, id)
);
INSERT INTO events_by_application (application_id, id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at)
    SELECT 'default', id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_by_application RENAME TO events;

-- Deliveries carry their application for scoped reads and for cancelling
-- the unfinished deliveries of a deleted application page by page.
ALTER TABLE deliveries ADD COLUMN application_id TEXT NOT NULL DEFAULT 'default';
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (application_id, event_id, id);
CREATE INDEX deliveries_application ON deliveries (application_id, id);

-- +goose Down
DROP INDEX deliveries_application;
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id, id);
ALTER TABLE deliveries DROP COLUMN application_id;
CREATE TABLE events_flat (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    payload     BLOB NOT NULL,
    body_hash   TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    run_id      TEXT NOT NULL DEFAULT '',
    dispatched  INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
INSERT INTO events_flat (id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at)
    SELECT id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at FROM events WHERE application_id = 'default';
DROP TABLE events;
ALTER TABLE events_flat RENAME TO events;
DROP INDEX subscription_event_types_match;
CREATE INDEX subscription_event_types_match ON subscription_event_types (pattern, active, subscription_id);
ALTER TABLE subscription_event_types DROP COLUMN application_id;
DROP INDEX subscriptions_application;
ALTER TABLE subscriptions DROP COLUMN application_id;
DROP TABLE applications;
