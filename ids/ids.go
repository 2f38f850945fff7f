// Package ids makes and reads Hookflow's identifiers. They are contract:
// the API returns them, operators type them into the Temporal CLI, and every
// one is URL-safe (letters, digits and "_.:-") so it stands in a path as is.
// Workflow ids are derived from record ids, never random, so that the same
// event or delivery can never start twice.
package ids

import (
	"crypto/rand"
	"regexp"
	"strings"

	"github.com/oklog/ulid/v2"
)

// MaxEventIDLength bounds client-given event ids.
const MaxEventIDLength = 128

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// Valid reports whether id is a well-formed client-given event id.
func Valid(id string) bool {
	return len(id) <= MaxEventIDLength && urlSafe.MatchString(id)
}

// NewSubscription returns a fresh subscription id, "sub_" and a ULID, so ids
// sort by creation time and cursor pagination follows creation order.
func NewSubscription() string { return "sub_" + newULID() }

// NewEvent returns a fresh event id for an event posted without one.
func NewEvent() string { return "evt_" + newULID() }

func newULID() string { return ulid.MustNew(ulid.Now(), rand.Reader).String() }

// EventWorkflow is the workflow id of an event's fan-out.
func EventWorkflow(eventID string) string { return "event:" + eventID }

// Delivery names the delivery of an event to a subscription. Subscription
// ids never contain ':', so the last ':' splits it again.
func Delivery(eventID, subscriptionID string) string { return eventID + ":" + subscriptionID }

// DeliveryWorkflow is the workflow id of a delivery.
func DeliveryWorkflow(deliveryID string) string { return "delivery:" + deliveryID }

// ParseDelivery splits a delivery id into its event and subscription ids.
func ParseDelivery(id string) (eventID, subscriptionID string, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 || !strings.HasPrefix(id[i+1:], "sub_") {
		return "", "", false
	}
	return id[:i], id[i+1:], true
}
