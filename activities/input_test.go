package activities_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/activities"
)

// An attempt's input keeps its application through the encoding every
// regular activity goes through; without it a retry of a delivery outside
// default looked its subscription up in default.
func TestDeliverInputKeepsItsApplication(t *testing.T) {
	in := activities.DeliverInput{ApplicationID: "acme", DeliveryID: "e:s", EventID: "e", SubscriptionID: "s",
		Attempt: 2, RoundAttempt: 2, RoundStart: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Timeout: 15 * time.Second}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out activities.DeliverInput
	require.NoError(t, json.Unmarshal(b, &out))
	require.Equal(t, "acme", out.ApplicationID)
	require.Equal(t, in.Attempt, out.Attempt)
	b, err = json.Marshal(activities.DeliverInput{DeliveryID: "e:s"})
	require.NoError(t, err)
	require.NotContains(t, string(b), "ApplicationID", "inputs of default read as they were recorded")
}
