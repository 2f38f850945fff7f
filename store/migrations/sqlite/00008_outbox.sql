-- +goose Up
-- The transactional outbox: an event is accepted once its row is stored,
-- and its workflow is started after the answer, by a dispatcher. An event
-- whose run_id is still empty is pending; claimed_until (Unix
-- microseconds, 0 for none) is the end of the lease under which one
-- dispatcher is starting it, so that several dispatchers never start the
-- same event at once and the claims of one that crashed come back.
--
-- Rows stored before this migration with no run are events whose start
-- failed or was cut short by a crash: their producer had no 202, but would
-- have started them by posting the same key again. They are pending too,
-- which delivers them at least once rather than never.
ALTER TABLE events ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
-- Only pending events are in it, so that claiming, counting them and
-- finding the oldest stay cheap however many events were ever accepted.
CREATE INDEX events_pending ON events (created_at, application_id, id) WHERE run_id = '';

-- +goose Down
DROP INDEX events_pending;
ALTER TABLE events DROP COLUMN claimed_until;
