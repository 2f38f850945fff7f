package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
	"github.com/hookflow/hookflow/store"
)

// The message log: GET .../events and GET .../deliveries, newest first,
// {data, next_cursor, has_more}. Query parameters are read by hand rather
// than bound, so that each bad one (an unparsable limit or time included)
// is a 400 naming it, in the contract's shape.

// maxCursor bounds a cursor: a creation time and an id of at most 128
// characters, in base64.
const maxCursor = 512

type logQuery struct {
	Limit  string `form:"limit"`
	Cursor string `form:"cursor"`
	Since  string `form:"since"`
	Until  string `form:"until"`
}

type listEventsQuery struct {
	logQuery
	Type string `form:"type" json:"type" validate:"omitempty,max=256,event_type"`
}

type listDeliveriesQuery struct {
	logQuery
	SubscriptionID string `form:"subscription_id" json:"subscription_id" validate:"omitempty,url_safe_id"`
	EventID        string `form:"event_id" json:"event_id" validate:"omitempty,url_safe_id"`
	Status         string `form:"status" json:"status" validate:"omitempty,oneof=pending scheduled delivering retrying held succeeded failed cancelled"`
}

// parse turns the shared parameters into a limit and a window, naming
// every one at fault.
func (q logQuery) parse() (int, store.Window, []FieldError) {
	var (
		errs  []FieldError
		limit int
		w     store.Window
	)
	// A cursor is checked here rather than by a validate tag: the
	// validator would name it after the embedded struct.
	if len(q.Cursor) > maxCursor {
		errs = append(errs, FieldError{Field: "cursor", Rule: "max", Message: "is not a cursor a page of this list returned"})
	}
	if q.Limit != "" {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > service.MaxLogPage {
			errs = append(errs, FieldError{Field: "limit", Rule: "range",
				Message: "must be a whole number from 1 to " + strconv.Itoa(service.MaxLogPage) + " (default " + strconv.Itoa(service.DefaultLogPage) + ")"})
		}
		limit = n
	}
	parseTime := func(field, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil || t.Before(time.Unix(0, 0)) {
			errs = append(errs, FieldError{Field: field, Rule: "rfc3339", Message: "must be an RFC 3339 time after 1970, like 2026-03-01T14:00:00Z"})
			return time.Time{}
		}
		return t
	}
	w.Since, w.Until = parseTime("since", q.Since), parseTime("until", q.Until)
	if !w.Since.IsZero() && !w.Until.IsZero() && !w.Until.After(w.Since) {
		errs = append(errs, FieldError{Field: "until", Rule: "gtfield", Message: "must be after since"})
	}
	return limit, w, errs
}

// bindLogQuery binds q (which embeds logQuery as base) and validates it.
func (h *handlers) bindLogQuery(c *gin.Context, q any, base *logQuery) (int, store.Window, error) {
	var errs []FieldError
	if err := h.bindQuery(c, q); err != nil {
		apiErr, ok := err.(*Error)
		if !ok || len(apiErr.Details) == 0 {
			return 0, store.Window{}, err
		}
		errs = append(errs, apiErr.Details...)
	}
	limit, w, more := base.parse()
	if errs = append(errs, more...); len(errs) > 0 {
		return 0, store.Window{}, newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid query parameters", errs...)
	}
	return limit, w, nil
}

type eventLogItem struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	// DeliverAt is null unless the event was posted with deliver_at.
	DeliverAt  *time.Time `json:"deliver_at"`
	WorkflowID string     `json:"workflow_id"`
	RunID      string     `json:"run_id"`
}

type deliveryLogItem struct {
	ID             string    `json:"id"`
	EventID        string    `json:"event_id"`
	SubscriptionID string    `json:"subscription_id"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	CreatedAt      time.Time `json:"created_at"`
	WorkflowID     string    `json:"workflow_id"`
}

type logPage[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
	HasMore    bool   `json:"has_more"`
}

func (h *handlers) listEvents(c *gin.Context) {
	var q listEventsQuery
	limit, w, err := h.bindLogQuery(c, &q, &q.logQuery)
	if err != nil {
		writeError(c, err)
		return
	}
	page, err := h.svc.ListEvents(c.Request.Context(), store.ListEventsParams{
		ApplicationID: appOf(c), Type: q.Type, Window: w, Cursor: q.Cursor, Limit: limit,
	})
	if err != nil {
		writeError(c, err)
		return
	}
	out := logPage[eventLogItem]{Data: make([]eventLogItem, 0, len(page.Items)), NextCursor: page.NextCursor, HasMore: page.HasMore}
	for _, e := range page.Items {
		item := eventLogItem{ID: e.ID, Type: e.Type, CreatedAt: e.CreatedAt, WorkflowID: e.WorkflowID, RunID: e.RunID}
		if !e.DeliverAt.IsZero() {
			item.DeliverAt = &e.DeliverAt
		}
		out.Data = append(out.Data, item)
	}
	c.JSON(http.StatusOK, out)
}

func (h *handlers) listDeliveries(c *gin.Context) {
	var q listDeliveriesQuery
	limit, w, err := h.bindLogQuery(c, &q, &q.logQuery)
	if err != nil {
		writeError(c, err)
		return
	}
	page, err := h.svc.ListDeliveries(c.Request.Context(), store.ListDeliveriesParams{
		ApplicationID: appOf(c), SubscriptionID: q.SubscriptionID, EventID: q.EventID, Status: q.Status,
		Window: w, Cursor: q.Cursor, Limit: limit,
	})
	if err != nil {
		writeError(c, err)
		return
	}
	out := logPage[deliveryLogItem]{Data: make([]deliveryLogItem, 0, len(page.Items)), NextCursor: page.NextCursor, HasMore: page.HasMore}
	for _, d := range page.Items {
		out.Data = append(out.Data, deliveryLogItem{
			ID: d.ID, EventID: d.EventID, SubscriptionID: d.SubscriptionID, Status: d.Status,
			Attempts: d.Attempts, CreatedAt: d.CreatedAt, WorkflowID: d.WorkflowID,
		})
	}
	c.JSON(http.StatusOK, out)
}
