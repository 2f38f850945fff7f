package store

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// planRowsEnv, when set to a number of rows (1000000 for the README's
// plans), loads that many events and deliveries instead of 100,000 and
// prints every plan. make test runs the smaller load: the planner already
// prefers the indexes there, and the test must stay quick.
const planRowsEnv = "HOOKFLOW_PLAN_ROWS"

// Every list of the message log is an index range scan in PostgreSQL: no
// Seq Scan, no OFFSET, whatever the filters; the cursor is a range of the
// same index. The tables are loaded by generate_series and ANALYZEd (the
// test server runs with autovacuum off, which would otherwise leave the
// planner without statistics).
func TestLogQueriesAreIndexScansInPostgres(t *testing.T) {
	rows := 100_000
	if v := os.Getenv(planRowsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, planRowsEnv)
		rows = n
	}
	s, err := Open(t.Context(), secretsDatabases(t)["postgres"])
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	start := time.Now()
	// 20 applications, 50 types, 100 subscriptions, statuses mostly
	// succeeded; one row a second back from a fixed time.
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	_, err = s.db.ExecContext(ctx, `INSERT INTO applications (id, name, metadata, created_at, updated_at)
		SELECT 'app_' || g, '', '{}', 0, 0 FROM generate_series(0, 19) g`)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, `INSERT INTO events (application_id, id, type, payload, body_hash, workflow_id, run_id, dispatched, created_at)
		SELECT 'app_' || (g % 20), 'evt_' || g, 'type.' || (g % 50), '{}'::bytea, 'h', 'event:' || g, 'run', 1, $1::bigint + g::bigint * 1000000
		FROM generate_series(1, $2::int) g`, base, rows)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, `INSERT INTO deliveries (id, application_id, event_id, subscription_id, url, status, attempts, next_attempt_at, workflow_id, created_at, updated_at)
		SELECT 'dlv_' || g, 'app_' || (g % 20), 'evt_' || (g / 5), 'sub_' || (g % 100), 'https://example.test',
			(ARRAY['succeeded','succeeded','succeeded','succeeded','succeeded','succeeded','succeeded','failed','retrying','pending'])[1 + (g / 100) % 10],
			1, 0, 'delivery:' || g, $1::bigint + g::bigint * 1000000, $1::bigint + g::bigint * 1000000
		FROM generate_series(1, $2::int) g`, base, rows)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, `ANALYZE events; ANALYZE deliveries`)
	require.NoError(t, err)
	t.Logf("loaded %d events and %d deliveries in %s", rows, rows, time.Since(start).Round(time.Millisecond))

	mid := time.UnixMicro(base + int64(rows/2)*1_000_000)
	cur := encodeCursor(time.UnixMicro(base+int64(rows/3)*1_000_000), "evt_x")
	window := Window{Since: mid.Add(-24 * time.Hour), Until: mid}
	cases := []struct {
		name  string
		build func() (string, []any, error)
	}{
		{"events", func() (string, []any, error) {
			return eventLogQuery(ListEventsParams{ApplicationID: "app_3", Limit: 50}, false)
		}},
		{"events?type=", func() (string, []any, error) {
			return eventLogQuery(ListEventsParams{ApplicationID: "app_3", Type: "type.13", Limit: 50}, false)
		}},
		{"events?since=&until=", func() (string, []any, error) {
			return eventLogQuery(ListEventsParams{ApplicationID: "app_3", Window: window, Limit: 50}, false)
		}},
		{"events?type=&since=&until=&cursor=", func() (string, []any, error) {
			return eventLogQuery(ListEventsParams{ApplicationID: "app_3", Type: "type.13", Window: Window{Since: mid.Add(-720 * time.Hour)}, Cursor: cur, Limit: 50}, false)
		}},
		{"deliveries", func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "app_3", Limit: 50}, false)
		}},
		{"deliveries?subscription_id=", func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "app_3", SubscriptionID: "sub_23", Limit: 50}, false)
		}},
		{"deliveries?status=", func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "app_3", Status: "failed", Limit: 50}, false)
		}},
		{"deliveries?event_id=", func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "app_3", EventID: fmt.Sprintf("evt_%d", rows/10), Limit: 50}, false)
		}},
		{"deliveries?subscription_id=&status=&since=&until=&cursor=", func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "app_3", SubscriptionID: "sub_23", Status: "failed",
				Window: Window{Since: mid.Add(-720 * time.Hour), Until: mid}, Cursor: cur, Limit: 50}, false)
		}},
		{"retention batch", func() (string, []any, error) {
			c := base + int64(rows/10)*1_000_000
			return purgeCandidates, []any{c, c, 500}, nil
		}},
	}
	var report strings.Builder
	for _, c := range cases {
		query, args, err := c.build()
		require.NoError(t, err)
		var lines []string
		require.NoError(t, s.db.SelectContext(ctx, &lines, s.db.Rebind("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) "+query), args...))
		plan := strings.Join(lines, "\n")
		fmt.Fprintf(&report, "-- %s\n%s\n\n", c.name, plan)
		require.Contains(t, plan, "Index", c.name)
		require.NotContains(t, plan, "Seq Scan", c.name)
	}
	if os.Getenv(planRowsEnv) != "" {
		fmt.Print(report.String())
	} else {
		t.Log("\n" + report.String())
	}
}

// In SQLite each list reads the index of its most selective filter (named
// with INDEXED BY, since Hookflow gathers no statistics there): a SEARCH
// of that index, never a SCAN of the table, and sorted by the index but for
// a list by event, which sorts one event's deliveries.
func TestLogQueriesSearchTheirIndexInSQLite(t *testing.T) {
	s, err := Open(t.Context(), secretsDatabases(t)["sqlite"])
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	now := time.Now()
	cur := encodeCursor(now, "evt_x")
	w := Window{Since: now.Add(-time.Hour), Until: now}
	cases := []struct {
		name, index string
		sorts       bool
		build       func() (string, []any, error)
	}{
		{"events", "events_log", false, func() (string, []any, error) {
			return eventLogQuery(ListEventsParams{ApplicationID: "a", Window: w, Cursor: cur, Limit: 50}, true)
		}},
		{"events?type=", "events_log_type", false, func() (string, []any, error) {
			return eventLogQuery(ListEventsParams{ApplicationID: "a", Type: "t", Window: w, Cursor: cur, Limit: 50}, true)
		}},
		{"deliveries", "deliveries_log", false, func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "a", Cursor: cur, Limit: 50}, true)
		}},
		{"deliveries?subscription_id=&status=", "deliveries_log_subscription", false, func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "a", SubscriptionID: "s", Status: "failed", Window: w, Cursor: cur, Limit: 50}, true)
		}},
		{"deliveries?status=", "deliveries_log_status", false, func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "a", Status: "failed", Limit: 50}, true)
		}},
		{"deliveries?event_id=", "deliveries_event", true, func() (string, []any, error) {
			return deliveryLogQuery(ListDeliveriesParams{ApplicationID: "a", EventID: "e", SubscriptionID: "s", Limit: 50}, true)
		}},
		{"retention batch", "events_age", false, func() (string, []any, error) { return purgeCandidates, []any{1, 1, 500}, nil }},
	}
	for _, c := range cases {
		query, args, err := c.build()
		require.NoError(t, err)
		rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		text := strings.Join(plan, "\n")
		require.Contains(t, text, "USING INDEX "+c.index, c.name)
		require.NotRegexp(t, `(?m)^SCAN `, text, c.name)
		if !c.sorts {
			require.NotContains(t, text, "TEMP B-TREE", c.name)
		}
	}
}
