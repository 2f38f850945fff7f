package ids_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/ids"
)

func TestDeliveryIDRoundTripsWithColonsInEventIDs(t *testing.T) {
	for _, eventID := range []string{"evt_1", "order:42:v2", "a.b-c_d"} {
		sub := ids.NewSubscription()
		e, s, ok := ids.ParseDelivery(ids.Delivery(eventID, sub))
		require.True(t, ok)
		require.Equal(t, eventID, e)
		require.Equal(t, sub, s)
	}
	for _, bad := range []string{"", "evt_1", ":sub_1", "evt_1:", "evt_1:nosub"} {
		_, _, ok := ids.ParseDelivery(bad)
		require.False(t, ok, bad)
	}
}

func TestValidAcceptsOnlyURLSafeIDs(t *testing.T) {
	require.True(t, ids.Valid("evt_01-ab.c:d"))
	require.True(t, ids.Valid(ids.NewEvent()))
	for _, bad := range []string{"", "a/b", "a b", "a?b", "é", strings.Repeat("a", 129)} {
		require.False(t, ids.Valid(bad), bad)
	}
}

// Workflow ids separate the application from the record id with "/",
// which no id holds, so two pairs never give one workflow id.
func TestWorkflowIDsOfTwoApplicationsNeverMeet(t *testing.T) {
	require.NotEqual(t, ids.EventWorkflow("a:b", "c"), ids.EventWorkflow("a", "b:c"))
	require.Equal(t, "event:acme/o-1", ids.EventWorkflow("acme", "o-1"))
	require.Equal(t, "delivery:acme/o-1:sub_1", ids.DeliveryWorkflow("acme", "o-1:sub_1"))
	require.Equal(t, "delivery:o-1:sub_1", ids.DeliveryWorkflow("", "o-1:sub_1"), "fan-outs recorded before applications keep their children's ids")
	require.NotEqual(t, ids.ApplicationDeleteWorkflow("acme"), ids.ApplicationDeleteWorkflow("acme"))
	require.True(t, strings.HasPrefix(ids.ApplicationDeleteWorkflow("acme"), "app-delete:acme/"))
	require.True(t, ids.Valid(ids.NewApplication()))
}

// A resent delivery names the pair it delivers to, whatever it resends.
func TestResendIDsStayShortAndParse(t *testing.T) {
	sub := ids.NewSubscription()
	first := ids.Delivery("order:42.v2", sub)
	r1 := ids.Resend(first, "rs_1")
	require.Equal(t, first+".rs_1", r1)
	require.Equal(t, first+".rcv_9", ids.Resend(r1, "rcv_9"), "a resend of a resend starts from the first delivery")
	require.True(t, ids.Valid(ids.Resend(first, ids.NewResendTag())))
	e, s, ok := ids.ParseDelivery(r1)
	require.True(t, ok)
	require.Equal(t, "order:42.v2", e)
	require.Equal(t, sub, s)
	for _, bad := range []string{"e:sub_.x", "e:sub_1."} {
		_, _, ok := ids.ParseDelivery(bad)
		require.False(t, ok, bad)
	}
	require.Equal(t, "recover:acme/sub_1/10-now", ids.RecoveryWorkflow("acme", "sub_1", 10, 0, true))
	require.Equal(t, "recover:acme/sub_1/10-20", ids.RecoveryWorkflow("acme", "sub_1", 10, 20, false))
	require.True(t, ids.Valid(ids.NewRecovery()))
}
