-- +goose Up
-- MatchSubscriptions reads, per pattern, one page of active subscription ids
-- after its cursor straight from this index, instead of every match of the
-- pattern: paging through 10,000 matches becomes linear, not quadratic.
-- active mirrors subscriptions.status = 'active'; the store rewrites a
-- subscription's rows here whenever it writes the subscription.
ALTER TABLE subscription_event_types ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
UPDATE subscription_event_types SET active = CASE
    WHEN (SELECT status FROM subscriptions WHERE subscriptions.id = subscription_event_types.subscription_id) = 'active'
    THEN 1 ELSE 0 END;
CREATE INDEX subscription_event_types_match ON subscription_event_types (pattern, active, subscription_id);

-- +goose Down
DROP INDEX subscription_event_types_match;
ALTER TABLE subscription_event_types DROP COLUMN active;
