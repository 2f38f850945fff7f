package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

const subscriptionColumns = `id, application_id, url, description, secret, previous_secret, previous_secret_expires_at,
	headers, retry, timeout_ms, status, created_at, updated_at, rate_limit, max_in_flight, failing_since, disabled_reason`

// subscriptionRow is a row of subscriptions as stored: secrets maybe sealed,
// times in microseconds, headers and retry as JSON text.
type subscriptionRow struct {
	ID                      string  `db:"id"`
	ApplicationID           string  `db:"application_id"`
	URL                     string  `db:"url"`
	Description             string  `db:"description"`
	Secret                  string  `db:"secret"`
	PreviousSecret          string  `db:"previous_secret"`
	PreviousSecretExpiresAt int64   `db:"previous_secret_expires_at"`
	Headers                 string  `db:"headers"`
	Retry                   string  `db:"retry"`
	TimeoutMs               int64   `db:"timeout_ms"`
	Status                  string  `db:"status"`
	CreatedAt               int64   `db:"created_at"`
	UpdatedAt               int64   `db:"updated_at"`
	RateLimit               float64 `db:"rate_limit"`
	MaxInFlight             int     `db:"max_in_flight"`
	FailingSince            int64   `db:"failing_since"`
	DisabledReason          string  `db:"disabled_reason"`
}

// subscription turns r into a Subscription, secrets still as stored and
// without its event types.
func (r subscriptionRow) subscription() (Subscription, error) {
	sub := Subscription{
		ID:                      r.ID,
		ApplicationID:           r.ApplicationID,
		URL:                     r.URL,
		Description:             r.Description,
		Secret:                  r.Secret,
		PreviousSecret:          r.PreviousSecret,
		PreviousSecretExpiresAt: fromMicros(r.PreviousSecretExpiresAt),
		Timeout:                 time.Duration(r.TimeoutMs) * time.Millisecond,
		Status:                  r.Status,
		CreatedAt:               fromMicros(r.CreatedAt),
		UpdatedAt:               fromMicros(r.UpdatedAt),
		RateLimit:               r.RateLimit,
		MaxInFlight:             r.MaxInFlight,
		FailingSince:            fromMicros(r.FailingSince),
		DisabledReason:          r.DisabledReason,
	}
	if err := json.Unmarshal([]byte(r.Headers), &sub.Headers); err != nil {
		return Subscription{}, fmt.Errorf("store: decode headers of %s: %w", r.ID, err)
	}
	if r.Retry != "" {
		sub.Retry = &RetryOverride{}
		if err := json.Unmarshal([]byte(r.Retry), sub.Retry); err != nil {
			return Subscription{}, fmt.Errorf("store: decode retry of %s: %w", r.ID, err)
		}
	}
	return sub, nil
}

func (s *SQL) CreateSubscription(ctx context.Context, sub Subscription) error {
	sub, err := s.sealSecrets(sub)
	if err != nil {
		return err
	}
	headers, retry, err := encodeSubscriptionJSON(sub)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.applicationExists(ctx, tx, sub.ApplicationID); err != nil {
			return err
		}
		_, err := exec(ctx, tx, `INSERT INTO subscriptions (`+subscriptionColumns+`)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			sub.ID, sub.ApplicationID, sub.URL, sub.Description, sub.Secret, sub.PreviousSecret, micros(sub.PreviousSecretExpiresAt),
			headers, retry, sub.Timeout.Milliseconds(), sub.Status, micros(sub.CreatedAt), micros(sub.UpdatedAt), sub.RateLimit, sub.MaxInFlight,
			micros(sub.FailingSince), sub.DisabledReason)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: subscription %s exists: %w", sub.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: insert subscription: %w", err)
		}
		return insertPatterns(ctx, tx, sub)
	})
}

// insertPatterns records the event types of sub with whether it receives
// new events (active: it is not disabled; a paused subscription's
// deliveries are held), which MatchSubscriptions reads from the same index.
// Every write of a subscription's status goes through here (create and
// update rewrite the rows) or DisableSubscription, so the copy cannot drift
// from subscriptions.status.
func insertPatterns(ctx context.Context, tx *sqlx.Tx, sub Subscription) error {
	active := 0
	if receives(sub.Status) {
		active = 1
	}
	seen := map[string]bool{}
	for _, p := range sub.EventTypes {
		if seen[p] {
			continue
		}
		seen[p] = true
		if _, err := exec(ctx, tx, `INSERT INTO subscription_event_types (application_id, pattern, subscription_id, active) VALUES (?,?,?,?)`,
			sub.ApplicationID, p, sub.ID, active); err != nil {
			return fmt.Errorf("store: insert event type: %w", err)
		}
	}
	return nil
}

func encodeSubscriptionJSON(sub Subscription) (headers, retry string, err error) {
	h := sub.Headers
	if h == nil {
		h = map[string]string{}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", "", fmt.Errorf("store: encode headers of %s: %w", sub.ID, err)
	}
	if sub.Retry != nil {
		rb, err := json.Marshal(sub.Retry)
		if err != nil {
			return "", "", fmt.Errorf("store: encode retry of %s: %w", sub.ID, err)
		}
		retry = string(rb)
	}
	return string(hb), retry, nil
}

func (s *SQL) GetSubscription(ctx context.Context, app, id string) (Subscription, error) {
	subs, err := s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE application_id = ? AND id = ?`, app, id)
	if err != nil {
		return Subscription{}, err
	}
	if len(subs) == 0 {
		return Subscription{}, ErrNotFound
	}
	return subs[0], nil
}

func (s *SQL) ListSubscriptions(ctx context.Context, p ListSubscriptionsParams) ([]Subscription, error) {
	if p.EventType == "" {
		return s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE application_id = ? AND id > ? ORDER BY id LIMIT ?`, p.ApplicationID, p.After, pageLimit(p.Limit))
	}
	return s.matching(ctx, p.ApplicationID, p.EventType, p.After, p.Limit, false)
}

// receives reports whether a subscription in status gets deliveries of new
// events: an active one, and a paused one, whose deliveries are held.
func receives(status string) bool { return status != SubscriptionDisabled }

func (s *SQL) MatchSubscriptions(ctx context.Context, app, eventType, after string, limit int) ([]Subscription, error) {
	return s.matching(ctx, app, eventType, after, limit, true)
}

// matching returns a page of the subscriptions whose patterns receive
// eventType. Each pattern contributes at most one page of ids after the
// cursor, read in order from an index, and the page is the first limit ids
// of their union: a page costs (patterns x limit) index entries however many
// subscriptions match, so paging through every match stays linear. With
// activeOnly the index is (application_id, pattern, active,
// subscription_id); otherwise the primary key (pattern, subscription_id),
// filtered by application. Matching names the application in every arm and
// again on subscriptions, so that it never crosses applications.
func (s *SQL) matching(ctx context.Context, app, eventType, after string, limit int, activeOnly bool) ([]Subscription, error) {
	limit = pageLimit(limit)
	active := ""
	if activeOnly {
		active = " AND active = 1"
	}
	var (
		arms []string
		args []any
		seen = map[string]bool{}
	)
	for _, p := range MatchPatterns(eventType) {
		if seen[p] {
			continue
		}
		seen[p] = true
		arms = append(arms, `SELECT subscription_id FROM (SELECT subscription_id FROM subscription_event_types
			WHERE application_id = ? AND pattern = ?`+active+` AND subscription_id > ? ORDER BY subscription_id LIMIT ?) AS arm`)
		args = append(args, app, p, after, limit)
	}
	args = append(args, app)
	status := ""
	if activeOnly {
		status = ` AND status <> ?`
		args = append(args, SubscriptionDisabled)
	}
	args = append(args, limit)
	return s.querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE id IN (`+strings.Join(arms, " UNION ")+`) AND application_id = ?`+status+` ORDER BY id LIMIT ?`, args...)
}

// querySubscriptions runs a query of subscriptionColumns on db (the
// database or a transaction) and returns its subscriptions, secrets opened
// and event types filled in.
func (s *SQL) querySubscriptions(ctx context.Context, db sqlx.ExtContext, query string, args ...any) ([]Subscription, error) {
	var rows []subscriptionRow
	if err := selectRows(ctx, db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("store: query subscriptions: %w", err)
	}
	var subs []Subscription
	for _, r := range rows {
		sub, err := r.subscription()
		if err != nil {
			return nil, err
		}
		if err := s.openSecrets(&sub); err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, loadPatterns(ctx, db, subs)
}

// patternBatch bounds the ids of one event-type query, well below the
// parameter limits of SQLite (32766) and PostgreSQL (65535).
const patternBatch = 500

// loadPatterns fills in the event types of subs, sorted.
func loadPatterns(ctx context.Context, db sqlx.ExtContext, subs []Subscription) error {
	index := make(map[string]int, len(subs))
	for i, sub := range subs {
		index[sub.ID] = i
	}
	for start := 0; start < len(subs); start += patternBatch {
		batch := subs[start:min(start+patternBatch, len(subs))]
		ids := make([]any, len(batch))
		for i, sub := range batch {
			ids[i] = sub.ID
		}
		var rows []struct {
			SubscriptionID string `db:"subscription_id"`
			Pattern        string `db:"pattern"`
		}
		if err := selectRows(ctx, db, &rows, `SELECT subscription_id, pattern FROM subscription_event_types
			WHERE subscription_id IN (`+placeholders(len(ids))+`) ORDER BY subscription_id, pattern`, ids...); err != nil {
			return fmt.Errorf("store: query event types: %w", err)
		}
		for _, r := range rows {
			subs[index[r.SubscriptionID]].EventTypes = append(subs[index[r.SubscriptionID]].EventTypes, r.Pattern)
		}
	}
	return nil
}

func (s *SQL) UpdateSubscription(ctx context.Context, sub Subscription) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		return s.updateSubscriptionTx(ctx, tx, sub)
	})
}

// ModifySubscription implements Store. The read locks the row (see
// forUpdate), so two modifications of one subscription run one after the
// other.
func (s *SQL) ModifySubscription(ctx context.Context, app, id string, fn SubscriptionModifier) (Subscription, error) {
	var out Subscription
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		subs, err := s.querySubscriptions(ctx, tx, s.forUpdate(`SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE application_id = ? AND id = ?`), app, id)
		if err != nil {
			return err
		}
		if len(subs) == 0 {
			return ErrNotFound
		}
		sub := subs[0]
		if err := fn(&sub); err != nil {
			return err
		}
		sub.ID, sub.ApplicationID = subs[0].ID, subs[0].ApplicationID
		if err := s.updateSubscriptionTx(ctx, tx, sub); err != nil {
			return err
		}
		out = sub
		return nil
	})
	return out, err
}

// updateSubscriptionTx writes sub (secrets in plaintext) within tx.
func (s *SQL) updateSubscriptionTx(ctx context.Context, tx *sqlx.Tx, sub Subscription) error {
	sub, err := s.sealSecrets(sub)
	if err != nil {
		return err
	}
	headers, retry, err := encodeSubscriptionJSON(sub)
	if err != nil {
		return err
	}
	res, err := exec(ctx, tx, `UPDATE subscriptions SET url = ?, description = ?, secret = ?,
		previous_secret = ?, previous_secret_expires_at = ?, headers = ?, retry = ?, timeout_ms = ?,
		status = ?, updated_at = ?, rate_limit = ?, max_in_flight = ?, failing_since = ?, disabled_reason = ?
		WHERE application_id = ? AND id = ?`,
		sub.URL, sub.Description, sub.Secret, sub.PreviousSecret, micros(sub.PreviousSecretExpiresAt),
		headers, retry, sub.Timeout.Milliseconds(), sub.Status, micros(sub.UpdatedAt), sub.RateLimit, sub.MaxInFlight,
		micros(sub.FailingSince), sub.DisabledReason, sub.ApplicationID, sub.ID)
	if err := mustAffect(res, err); err != nil {
		return fmt.Errorf("store: update subscription %s: %w", sub.ID, err)
	}
	if _, err := exec(ctx, tx, `DELETE FROM subscription_event_types WHERE subscription_id = ?`, sub.ID); err != nil {
		return fmt.Errorf("store: replace event types: %w", err)
	}
	return insertPatterns(ctx, tx, sub)
}

func (s *SQL) DeleteSubscription(ctx context.Context, app, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := exec(ctx, tx, `DELETE FROM subscription_event_types WHERE application_id = ? AND subscription_id = ?`, app, id); err != nil {
			return fmt.Errorf("store: delete event types: %w", err)
		}
		res, err := exec(ctx, tx, `DELETE FROM subscriptions WHERE application_id = ? AND id = ?`, app, id)
		if err := mustAffect(res, err); err != nil {
			return fmt.Errorf("store: delete subscription %s: %w", id, err)
		}
		// Its flow-control state goes with it.
		for _, table := range []string{"flight_leases", "rate_schedule"} {
			if _, err := exec(ctx, tx, `DELETE FROM `+table+` WHERE subscription_id = ?`, id); err != nil {
				return fmt.Errorf("store: delete %s of %s: %w", table, id, err)
			}
		}
		return nil
	})
}
