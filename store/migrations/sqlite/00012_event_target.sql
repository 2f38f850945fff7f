-- +goose Up
-- A test event (POST .../subscriptions/{id}/test, type hookflow.test) goes
-- to one subscription only, whatever event types it subscribes to: the
-- fan-out reads this column instead of matching the type. Empty for every
-- other event, which goes to the subscriptions matching its type.
ALTER TABLE events ADD COLUMN target_subscription_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN target_subscription_id;
