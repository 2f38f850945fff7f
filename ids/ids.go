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

// NewApplication returns a fresh application id for an application created
// without one.
func NewApplication() string { return "app_" + newULID() }

// EventWorkflow is the workflow id of an event's fan-out: "event:", the
// application, "/" and the event id. Ids may hold ':' but never '/', so
// "a:b" + "c" and "a" + "b:c" cannot meet. Events stored before
// applications existed keep the id stored with them ("event:" + event id).
func EventWorkflow(app, eventID string) string { return "event:" + app + "/" + eventID }

// Delivery names the delivery of an event to a subscription. Subscription
// ids never contain ':', so the last ':' splits it again.
func Delivery(eventID, subscriptionID string) string { return eventID + ":" + subscriptionID }

// DeliveryWorkflow is the workflow id of a delivery: "delivery:", the
// application, "/" and the delivery id. An empty app is a fan-out started
// before applications existed, whose deliveries keep the id of that time,
// "delivery:" and the delivery id, so that its history replays and no
// delivery starts twice under two ids.
func DeliveryWorkflow(app, deliveryID string) string {
	if app == "" {
		return "delivery:" + deliveryID
	}
	return "delivery:" + app + "/" + deliveryID
}

// ApplicationDeleteWorkflow is the workflow id of the clean-up after an
// application is deleted. It is unique per deletion (an id may be deleted,
// created and deleted again), and starts with the application so that an
// operator finds it by prefix.
func ApplicationDeleteWorkflow(app string) string { return "app-delete:" + app + "/" + newULID() }

// ParseDelivery splits a delivery id into its event and subscription ids.
func ParseDelivery(id string) (eventID, subscriptionID string, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 || !strings.HasPrefix(id[i+1:], "sub_") {
		return "", "", false
	}
	return id[:i], id[i+1:], true
}
