package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/activities"
	"github.com/hookflow/hookflow/store"
)

// A test event (hookflow.test naming its subscription) is claimed for that
// one subscription, which need not receive the type, in one page even of
// size 1, and for no other, not even one subscribed to hookflow.test; a
// producer's own hookflow.test event, naming none, goes by its type.
func TestClaimTargetsOfATestEventIsItsOneSubscription(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1/x")
	ctx := t.Context()
	other := f.sub
	other.ID, other.EventTypes = "sub_02OTHER", []string{"hookflow.test", "order.*"}
	require.NoError(t, f.store.CreateSubscription(ctx, other))
	for _, ev := range []store.Event{
		{ApplicationID: store.DefaultApplication, ID: "evt_test", Type: store.TestEventType, TargetSubscriptionID: f.sub.ID},
		{ApplicationID: store.DefaultApplication, ID: "evt_producer", Type: store.TestEventType},
		{ApplicationID: store.DefaultApplication, ID: "evt_gone", Type: store.TestEventType, TargetSubscriptionID: "sub_deleted"},
	} {
		ev.Payload, ev.BodyHash, ev.WorkflowID, ev.CreatedAt = []byte(`{}`), ev.ID, "event:"+ev.ID, f.now
		_, _, err := f.store.CreateEvent(ctx, ev)
		require.NoError(t, err)
	}
	claim := func(event string) activities.ClaimTargetsResult {
		t.Helper()
		res, err := f.acts.ClaimTargets(ctx, activities.ClaimTargetsInput{EventID: event, EventType: store.TestEventType, Limit: 1})
		require.NoError(t, err)
		return res
	}
	res := claim("evt_test")
	require.True(t, res.Done, "one page")
	require.Len(t, res.Targets, 1)
	require.Equal(t, f.sub.ID, res.Targets[0].SubscriptionID)
	ds, err := f.store.ListDeliveries(ctx, store.DefaultApplication, "evt_test")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, f.sub.ID, ds[0].SubscriptionID)

	res = claim("evt_producer")
	require.Len(t, res.Targets, 1)
	require.Equal(t, other.ID, res.Targets[0].SubscriptionID, "by its type")

	res = claim("evt_gone")
	require.True(t, res.Done)
	require.Empty(t, res.Targets, "a deleted target gets nothing, and nobody else does")
}
