package service

import (
	"context"
	"errors"
	"strings"

	"github.com/hookflow/hookflow/netguard"
)

// checkTargetURL refuses a subscriber URL that the outbound guard
// (Service.Targets) would not let a delivery reach: a wrong shape, http
// where https is required, or a host that is, or resolves to, an address
// inside Hookflow's own network. Every operation that sets a subscription's
// URL (create, change) calls it, so the caller hears why at once instead of
// through failed deliveries.
//
// A host that does not resolve now is let through: DNS may be briefly down
// or the record not published yet, and the connect-time guard checks every
// address a delivery dials anyway.
func (s *Service) checkTargetURL(ctx context.Context, raw string) error {
	ctx, cancel := context.WithTimeout(ctx, netguard.DefaultLookupTimeout)
	defer cancel()
	err := s.Targets.CheckURLContext(ctx, raw)
	var blocked *netguard.BlockedError
	switch {
	case err == nil, errors.Is(err, netguard.ErrLookup):
		return nil
	case errors.As(err, &blocked):
		// The reason names a host and an address, never the path or query.
		s.log().Info("subscriber url refused by the outbound guard", "reason", blocked.Error())
		return invalid("the request has invalid fields", FieldProblem{Field: "url", Rule: "target", Message: "must not point into Hookflow's own network: " + blocked.Error()})
	case errors.Is(err, netguard.ErrInvalidURL):
		return invalid("the request has invalid fields", FieldProblem{Field: "url", Rule: "target", Message: strings.TrimPrefix(err.Error(), netguard.ErrInvalidURL.Error()+": ")})
	default:
		return invalid("the request has invalid fields", FieldProblem{Field: "url", Rule: "target", Message: "is not allowed: " + err.Error()})
	}
}
