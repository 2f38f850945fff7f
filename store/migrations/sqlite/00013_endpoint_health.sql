-- +goose Up
-- Endpoint health.
--
-- failing_since (Unix microseconds, 0: the last attempt that reached the
-- receiver succeeded) is when the subscription's current run of failed
-- attempts began, whichever worker made them: a subscription failing for
-- HOOKFLOW_DISABLE_AFTER is disabled, and disabled_reason says why.
ALTER TABLE subscriptions ADD COLUMN failing_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';

-- subscription_event_types.active now means "receives new events": a
-- paused subscription does (its deliveries are held until it resumes),
-- a disabled one does not.
UPDATE subscription_event_types SET active = 1
    WHERE subscription_id IN (SELECT id FROM subscriptions WHERE status = 'paused');

-- The held deliveries, which a resume wakes (by subscription) and the
-- hookflow_deliveries_held gauge counts, without reading the rest.
CREATE INDEX deliveries_held ON deliveries (subscription_id, id) WHERE status = 'held';

-- +goose Down
DROP INDEX deliveries_held;
UPDATE subscription_event_types SET active = 0
    WHERE subscription_id IN (SELECT id FROM subscriptions WHERE status <> 'active');
ALTER TABLE subscriptions DROP COLUMN disabled_reason;
ALTER TABLE subscriptions DROP COLUMN failing_since;
