-- +goose Up
-- The message log: events and deliveries listed per application, newest
-- first, by keyset pagination on (created_at, id). Each list has an index
-- that leads with the application and the filter it is read by and ends
-- with (created_at, id), so that a page is one index range scan whatever
-- the table's size, in both directions of the (created_at DESC, id DESC)
-- order (SQLite and PostgreSQL read an index backwards).
--
-- Deliveries had no creation time; a delivery is created once, so the
-- time it was last changed is the best there is for those already stored.
ALTER TABLE deliveries ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE deliveries SET created_at = updated_at;
CREATE INDEX deliveries_log ON deliveries (application_id, created_at, id);
CREATE INDEX deliveries_log_subscription ON deliveries (application_id, subscription_id, created_at, id);
CREATE INDEX deliveries_log_status ON deliveries (application_id, status, created_at, id);
-- A list filtered by event_id reads deliveries_event, which holds one
-- event's deliveries (one per subscriber), and sorts them.

CREATE INDEX events_log ON events (application_id, created_at, id);
CREATE INDEX events_log_type ON events (application_id, type, created_at, id);

-- deliver_at (Unix microseconds, 0 for none): no attempt before it. The
-- dispatcher starts the event's workflow with the rest of the wait as its
-- start delay. cancelled is set when the event was cancelled before its
-- workflow fanned out (a scheduled event, say), so that it shows as such.
ALTER TABLE events ADD COLUMN deliver_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;

-- Retention reads the oldest finished events of every application first.
-- Partial, on the retention query's own condition, so that it is no
-- candidate for the lists above (a list of one application must not walk
-- every application's events by time).
CREATE INDEX events_age ON events (created_at, application_id, id) WHERE (dispatched = 1 OR cancelled = 1);

-- +goose Down
DROP INDEX events_age;
ALTER TABLE events DROP COLUMN cancelled;
ALTER TABLE events DROP COLUMN deliver_at;
DROP INDEX events_log_type;
DROP INDEX events_log;
DROP INDEX deliveries_log_status;
DROP INDEX deliveries_log_subscription;
DROP INDEX deliveries_log;
ALTER TABLE deliveries DROP COLUMN created_at;
