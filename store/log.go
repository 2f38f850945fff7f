package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookflow/hookflow/ids"
)

// ErrBadCursor is returned for a cursor that no list returned.
var ErrBadCursor = errors.New("store: bad cursor")

// MaxLogPage bounds a page of the message log.
const MaxLogPage = 250

// Page is one page of the message log, newest first. NextCursor, when
// HasMore, reads the page after it.
type Page[T any] struct {
	Items      []T
	NextCursor string
	HasMore    bool
}

// Window selects records by creation time: Since inclusive, Until
// exclusive; a zero bound is no bound.
type Window struct {
	Since, Until time.Time
}

// ListEventsParams selects a page of an application's events.
type ListEventsParams struct {
	ApplicationID string
	// Type, when set, keeps the events of that exact type.
	Type string
	Window
	// Cursor is the NextCursor of the previous page; empty: the first.
	Cursor string
	// Limit bounds the page: 1 to MaxLogPage.
	Limit int
}

// ListDeliveriesParams selects a page of an application's deliveries;
// the filters that are set combine (AND).
type ListDeliveriesParams struct {
	ApplicationID  string
	SubscriptionID string
	EventID        string
	Status         string
	Window
	Cursor string
	Limit  int
}

// The log is ordered by (created_at DESC, id DESC), a total order (ids are
// unique within an application), so a cursor naming the last row of a page
// resumes right after it whatever was inserted meanwhile: a row inserted
// later is newer than every row already listed (it shows on a new
// listing), and nothing listed moves.
//
// A cursor is "created_at micros:id" in unpadded base64url: opaque to
// callers, who only hand back what a page gave them, and URL-safe.

func encodeCursor(createdAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(micros(createdAt), 10) + ":" + id))
}

type cursor struct {
	createdAt int64
	id        string
}

func decodeCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrBadCursor
	}
	us, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return cursor{}, ErrBadCursor
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n < 0 || !ids.Valid(id) {
		return cursor{}, ErrBadCursor
	}
	return cursor{createdAt: n, id: id}, nil
}

// logQuery builds the WHERE clause shared by both lists: the equality
// filters first (they lead each list's index), then the window and the
// cursor as ranges on (created_at, id), which the index's tail serves.
type logQuery struct {
	where []string
	args  []any
}

func (q *logQuery) eq(column, value string) {
	if value != "" {
		q.where = append(q.where, column+" = ?")
		q.args = append(q.args, value)
	}
}

func (q *logQuery) window(w Window, cur string) error {
	if !w.Since.IsZero() {
		q.where = append(q.where, "created_at >= ?")
		q.args = append(q.args, micros(w.Since))
	}
	if !w.Until.IsZero() {
		q.where = append(q.where, "created_at < ?")
		q.args = append(q.args, micros(w.Until))
	}
	if cur != "" {
		c, err := decodeCursor(cur)
		if err != nil {
			return err
		}
		// A row-value comparison: both databases turn it into one range
		// of the index (created_at, id).
		q.where = append(q.where, "(created_at, id) < (?, ?)")
		q.args = append(q.args, c.createdAt, c.id)
	}
	return nil
}

// sql is the page's query. index, when set, names the index SQLite must
// read: without statistics (Hookflow runs no ANALYZE on SQLite) its planner
// takes the index that serves the ORDER BY with the fewest columns, which
// for a filter on event_id scans every delivery of the application.
// PostgreSQL's planner has statistics and is left to choose.
func (q *logQuery) sql(columns, table, index string, limit int) (string, []any) {
	from := table
	if index != "" {
		from += ` INDEXED BY ` + index
	}
	return `SELECT ` + columns + ` FROM ` + from + ` WHERE ` + strings.Join(q.where, " AND ") +
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(q.args, limit+1)
}

func checkLimit(limit int) error {
	if limit < 1 || limit > MaxLogPage {
		return fmt.Errorf("store: page limit %d is not within 1 to %d", limit, MaxLogPage)
	}
	return nil
}

// page cuts the limit+1 rows read into a page.
func page[T any](items []T, limit int, key func(T) (time.Time, string)) Page[T] {
	p := Page[T]{Items: items}
	if len(items) > limit {
		p.Items, p.HasMore = items[:limit], true
		p.NextCursor = encodeCursor(key(items[limit-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

const eventColumns = `application_id, id, type, payload, body_hash, workflow_id, run_id, dispatched, deliver_at, cancelled, created_at, target_subscription_id`

// eventLogQuery is the query of a page of ListEventLog, limit+1 rows, for
// SQLite or PostgreSQL.
func eventLogQuery(p ListEventsParams, sqlite bool) (string, []any, error) {
	if err := checkLimit(p.Limit); err != nil {
		return "", nil, err
	}
	// The application is always a condition, even empty: a list never
	// spans applications.
	q := &logQuery{where: []string{"application_id = ?"}, args: []any{p.ApplicationID}}
	q.eq("type", p.Type)
	if err := q.window(p.Window, p.Cursor); err != nil {
		return "", nil, err
	}
	index := ""
	if sqlite {
		index = "events_log"
		if p.Type != "" {
			index = "events_log_type"
		}
	}
	query, args := q.sql(eventColumns, "events", index, p.Limit)
	return query, args, nil
}

// deliveryLogQuery is the query of a page of ListDeliveryLog.
func deliveryLogQuery(p ListDeliveriesParams, sqlite bool) (string, []any, error) {
	if err := checkLimit(p.Limit); err != nil {
		return "", nil, err
	}
	q := &logQuery{where: []string{"application_id = ?"}, args: []any{p.ApplicationID}}
	q.eq("subscription_id", p.SubscriptionID)
	q.eq("event_id", p.EventID)
	q.eq("status", p.Status)
	if err := q.window(p.Window, p.Cursor); err != nil {
		return "", nil, err
	}
	index := ""
	if sqlite {
		// The most selective filter's index: an event has a delivery per
		// subscriber, a subscription one per event, a status many.
		switch {
		case p.EventID != "":
			index = "deliveries_event"
		case p.SubscriptionID != "":
			index = "deliveries_log_subscription"
		case p.Status != "":
			index = "deliveries_log_status"
		default:
			index = "deliveries_log"
		}
	}
	query, args := q.sql(deliveryColumns, "deliveries", index, p.Limit)
	return query, args, nil
}

func (s *SQL) ListEventLog(ctx context.Context, p ListEventsParams) (Page[Event], error) {
	query, args, err := eventLogQuery(p, !s.postgres)
	if err != nil {
		return Page[Event]{}, err
	}
	var rows []eventRow
	if err := selectRows(ctx, s.db, &rows, query, args...); err != nil {
		return Page[Event]{}, fmt.Errorf("store: list events: %w", err)
	}
	events := make([]Event, len(rows))
	for i, r := range rows {
		events[i] = r.event()
	}
	return page(events, p.Limit, func(e Event) (time.Time, string) { return e.CreatedAt, e.ID }), nil
}

func (s *SQL) ListDeliveryLog(ctx context.Context, p ListDeliveriesParams) (Page[Delivery], error) {
	query, args, err := deliveryLogQuery(p, !s.postgres)
	if err != nil {
		return Page[Delivery]{}, err
	}
	ds, err := s.queryDeliveries(ctx, query, args...)
	if err != nil {
		return Page[Delivery]{}, err
	}
	return page(ds, p.Limit, func(d Delivery) (time.Time, string) { return d.CreatedAt, d.ID }), nil
}
