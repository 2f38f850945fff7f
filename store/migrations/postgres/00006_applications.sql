-- +goose Up
-- Applications: every subscription belongs to one, every event is addressed
-- to one and fans out to its subscriptions only. Today's data is carried
-- into the application "default", which, like "_operational" (the home of
-- Hookflow's own operational events), always exists. Ids compare byte by
-- byte (COLLATE "C"), as everywhere in the store.
CREATE TABLE applications (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    metadata   TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO applications (id, name, metadata, created_at, updated_at) VALUES
    ('default', 'Default application', '{}', (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT, (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT),
    ('_operational', 'Hookflow operational events', '{}', (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT, (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT);

ALTER TABLE subscriptions ADD COLUMN application_id TEXT COLLATE "C" NOT NULL DEFAULT 'default';
CREATE INDEX subscriptions_application ON subscriptions (application_id, id);

-- Matching reads one application's patterns: the application leads the
-- match index, so a fan-out never scans another application's rows.
ALTER TABLE subscription_event_types ADD COLUMN application_id TEXT COLLATE "C" NOT NULL DEFAULT 'default';
DROP INDEX subscription_event_types_match;
CREATE INDEX subscription_event_types_match ON subscription_event_types (application_id, pattern, active, subscription_id);

-- Event ids (idempotency keys) are unique per application.
ALTER TABLE events ADD COLUMN application_id TEXT COLLATE "C" NOT NULL DEFAULT 'default';
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD PRIMARY KEY (application_id, id);

-- Deliveries carry their application for scoped reads and for cancelling
-- the unfinished deliveries of a deleted application page by page.
ALTER TABLE deliveries ADD COLUMN application_id TEXT COLLATE "C" NOT NULL DEFAULT 'default';
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (application_id, event_id, id);
CREATE INDEX deliveries_application ON deliveries (application_id, id);

-- +goose Down
DROP INDEX deliveries_application;
DROP INDEX deliveries_event;
CREATE INDEX deliveries_event ON deliveries (event_id, id);
ALTER TABLE deliveries DROP COLUMN application_id;
DELETE FROM events WHERE application_id <> 'default';
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events DROP COLUMN application_id;
ALTER TABLE events ADD PRIMARY KEY (id);
DROP INDEX subscription_event_types_match;
CREATE INDEX subscription_event_types_match ON subscription_event_types (pattern, active, subscription_id);
ALTER TABLE subscription_event_types DROP COLUMN application_id;
DROP INDEX subscriptions_application;
ALTER TABLE subscriptions DROP COLUMN application_id;
DROP TABLE applications;
