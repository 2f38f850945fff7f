// Package ids makes and reads Hookflow's identifiers. They are contract:
// the API returns them, operators type them into the Temporal CLI, and every
// one is URL-safe (letters, digits and "_.:-") so it stands in a path as is.
// Workflow ids are derived from record ids, never random, so that the same
// event or delivery can never start twice.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
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
// A resent delivery (see Resend) parses as the delivery it resends: the
// tag after the subscription id names the resend, not another pair.
func ParseDelivery(id string) (eventID, subscriptionID string, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 || !strings.HasPrefix(id[i+1:], "sub_") {
		return "", "", false
	}
	sub := id[i+1:]
	if dot := strings.IndexByte(sub, '.'); dot >= 0 {
		if dot == len(sub)-1 {
			return "", "", false
		}
		sub = sub[:dot]
	}
	if sub == "sub_" {
		return "", "", false
	}
	return id[:i], sub, true
}

// Resend names a new delivery of the same event to the same subscription
// as the delivery original: the first delivery's id ("<event>:<sub>"), a
// '.' and tag. Subscription ids hold no '.', so a resend of a resend
// starts again from the first delivery's id and the id never grows with
// the number of resends. Every resend is a delivery of its own, with its
// own workflow (DeliveryWorkflow of this id).
//
// The tag is NewResendTag() for a resend asked for by hand, and the
// recovery's id for a resend made by a recovery, so that a recovery that
// restarts after a crash finds the resends it already made under the same
// ids and makes each only once.
func Resend(original, tag string) string {
	eventID, subscriptionID, ok := ParseDelivery(original)
	if !ok {
		return original + "." + tag
	}
	return Delivery(eventID, subscriptionID) + "." + tag
}

// NewResendTag is the tag of a resend asked for by hand: "rs_" and a ULID,
// so resends of one delivery sort by time.
func NewResendTag() string { return "rs_" + newULID() }

// NewRecovery returns a fresh recovery id, "rcv_" and a ULID.
func NewRecovery() string { return "rcv_" + newULID() }

// RecoveryWorkflow is the workflow id of the recovery of a subscription of
// app over a window: "recover:", the application, "/", the subscription,
// "/" and the window's bounds (Unix microseconds; "now" for a window left
// open at its end). A second request for the same window while the first
// runs finds its workflow by this id, and gets the first.
func RecoveryWorkflow(app, subscriptionID string, sinceMicros, untilMicros int64, openEnded bool) string {
	until := "now"
	if !openEnded {
		until = strconv.FormatInt(untilMicros, 10)
	}
	return "recover:" + app + "/" + subscriptionID + "/" + strconv.FormatInt(sinceMicros, 10) + "-" + until
}

// WakeWorkflow is the workflow id of the wake-up of a subscription's
// waiting deliveries after a change at changeMicros (Unix microseconds of
// the change: its updated_at): "wake:", the application, "/", the
// subscription, "/", why ("resume" or "disable") and the time. The same
// change asked twice (an activity run again, a PATCH repeated) finds the
// first wake-up.
func WakeWorkflow(app, subscriptionID, why string, changeMicros int64) string {
	return "wake:" + app + "/" + subscriptionID + "/" + why + "-" + strconv.FormatInt(changeMicros, 10)
}

// Operational is the id of an operational event about key (what it
// reports, e.g. "subscription.disabled/app/sub/1700000000000000"): "op_"
// and a hash of it, so that an activity run again publishes the same event
// once, and ids stay short and URL-safe whatever key holds.
func Operational(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "op_" + hex.EncodeToString(sum[:13])
}
