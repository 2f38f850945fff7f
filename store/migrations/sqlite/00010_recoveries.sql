-- +goose Up
-- Resends and recoveries. A resend is a new delivery of the same event to
-- the same subscription; resent_from names the delivery it resends, and
-- superseded_by, on every earlier delivery of that pair, the newest one,
-- so that a recovery picks only the newest delivery of each pair and never
-- sends an event twice because an old and a new delivery both failed.
ALTER TABLE deliveries ADD COLUMN resent_from TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN superseded_by TEXT NOT NULL DEFAULT '';
-- recovery_id names the recovery that made the delivery, so that a page
-- of a recovery that runs again after a crash finds again what it had
-- found (and starts what it may not have started yet).
ALTER TABLE deliveries ADD COLUMN recovery_id TEXT NOT NULL DEFAULT '';
-- A recovery pages through a subscription's failed deliveries by id.
CREATE INDEX deliveries_recover ON deliveries (application_id, subscription_id, status, id);
-- Its events of the window are read through events_log (00009).

-- One row per recovery, so that its progress and outcome can be read
-- after its workflow has closed. Only one recovery of a workflow id (a
-- subscription and a window) runs at a time: a second request finds the
-- running one through recoveries_running.
CREATE TABLE recoveries (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    workflow_id     TEXT NOT NULL,
    since_at        BIGINT NOT NULL,
    until_at        BIGINT NOT NULL,
    status          TEXT NOT NULL,
    matched         BIGINT NOT NULL DEFAULT 0,
    resent          BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX recoveries_running ON recoveries (workflow_id) WHERE status = 'running';

-- +goose Down
DROP TABLE recoveries;
DROP INDEX deliveries_recover;
ALTER TABLE deliveries DROP COLUMN recovery_id;
ALTER TABLE deliveries DROP COLUMN superseded_by;
ALTER TABLE deliveries DROP COLUMN resent_from;
