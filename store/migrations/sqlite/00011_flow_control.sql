-- +goose Up
-- Flow control.
--
-- The outbox is claimed in turns between applications (ClaimPendingEvents
-- ranks each application's pending events by age and takes the first of
-- every application before the second of any), so that one application's
-- burst does not queue another's events behind it. This index hands each
-- application's pending events in age order without a sort.
CREATE INDEX events_pending_by_app ON events (application_id, created_at, id) WHERE run_id = '';

-- A subscription's rate_limit (requests per second, 0: none) and
-- max_in_flight (requests at once across every worker, 0: none).
ALTER TABLE subscriptions ADD COLUMN rate_limit REAL NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 0;

-- One row per request in flight to a subscription with max_in_flight: the
-- attempt (holder: delivery id and attempt number) holds it until it ends,
-- or until expires_at (Unix microseconds), which its attempt renews while
-- it runs, so that the slot of a worker killed mid-request comes back.
CREATE TABLE flight_leases (
    subscription_id TEXT NOT NULL,
    holder          TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, holder)
);

-- The next free send time (Unix microseconds) of a subscription with a
-- rate_limit: each request takes the time it finds and moves it on by one
-- interval, so that every worker draws from the same schedule.
CREATE TABLE rate_schedule (
    subscription_id TEXT PRIMARY KEY,
    next_at         BIGINT NOT NULL
);

-- +goose Down
DROP TABLE rate_schedule;
DROP TABLE flight_leases;
ALTER TABLE subscriptions DROP COLUMN max_in_flight;
ALTER TABLE subscriptions DROP COLUMN rate_limit;
DROP INDEX events_pending_by_app;
