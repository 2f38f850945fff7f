-- +goose Up
-- Ids and event-type patterns compare byte by byte, as they do in SQLite and
-- in Go, whatever collation the database was created with (the PostgreSQL
-- docker image defaults to en_US.utf8, where "sub_a" < "sub_B"). Listing by
-- id, cursors ("id > after") and the order in which the event workflow meets
-- subscribers are then the same in every database. "C" also makes these
-- comparisons cheaper.
ALTER TABLE subscription_event_types
    ALTER COLUMN pattern TYPE TEXT COLLATE "C",
    ALTER COLUMN subscription_id TYPE TEXT COLLATE "C";
ALTER TABLE subscriptions ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE events ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE deliveries
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN event_id TYPE TEXT COLLATE "C",
    ALTER COLUMN subscription_id TYPE TEXT COLLATE "C";
ALTER TABLE delivery_attempts ALTER COLUMN delivery_id TYPE TEXT COLLATE "C";

-- +goose Down
ALTER TABLE delivery_attempts ALTER COLUMN delivery_id TYPE TEXT COLLATE "default";
ALTER TABLE deliveries
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN event_id TYPE TEXT COLLATE "default",
    ALTER COLUMN subscription_id TYPE TEXT COLLATE "default";
ALTER TABLE events ALTER COLUMN id TYPE TEXT COLLATE "default";
ALTER TABLE subscriptions ALTER COLUMN id TYPE TEXT COLLATE "default";
ALTER TABLE subscription_event_types
    ALTER COLUMN pattern TYPE TEXT COLLATE "default",
    ALTER COLUMN subscription_id TYPE TEXT COLLATE "default";
