package service

import (
	"context"
	"errors"

	"github.com/hookflow/hookflow/store"
)

// Page sizes of the message log: Svix's (50 by default, 250 at most).
const (
	DefaultLogPage = 50
	MaxLogPage     = store.MaxLogPage
)

// ListEvents returns a page of an application's events, newest first.
// A cursor that no page gave is InvalidError naming "cursor".
func (s *Service) ListEvents(ctx context.Context, p store.ListEventsParams) (store.Page[store.Event], error) {
	if p.Limit == 0 {
		p.Limit = DefaultLogPage
	}
	page, err := s.Store.ListEventLog(ctx, p)
	if err != nil {
		return store.Page[store.Event]{}, logErr(err, "list events")
	}
	return page, nil
}

// ListDeliveries returns a page of an application's deliveries, newest
// first, filtered by subscription, event, status and creation time.
func (s *Service) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) (store.Page[store.Delivery], error) {
	if p.Limit == 0 {
		p.Limit = DefaultLogPage
	}
	page, err := s.Store.ListDeliveryLog(ctx, p)
	if err != nil {
		return store.Page[store.Delivery]{}, logErr(err, "list deliveries")
	}
	return page, nil
}

func logErr(err error, what string) error {
	if errors.Is(err, store.ErrBadCursor) {
		return invalid("the request has invalid query parameters",
			FieldProblem{Field: "cursor", Rule: "cursor", Message: "is not a cursor a page of this list returned"})
	}
	return storeErr(err, what)
}
