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
