-- +goose Up
-- The outbox is claimed in turns between applications (ClaimPendingEvents
-- ranks each application's pending events by age and takes the first of
-- every application before the second of any), so that one application's
-- burst does not queue another's events behind it. This index hands each
-- application's pending events in age order without a sort.
CREATE INDEX events_pending_by_app ON events (application_id, created_at, id) WHERE run_id = '';

-- +goose Down
DROP INDEX events_pending_by_app;
