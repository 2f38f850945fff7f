package leakcheck_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/hookflow/hookflow/internal/leakcheck"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func history(t *testing.T, events ...*historypb.HistoryEvent) *historypb.History {
	t.Helper()
	for i, ev := range events {
		ev.EventId = int64(i + 1)
	}
	return &historypb.History{Events: events}
}

func payloadOf(t *testing.T, v any) *commonpb.Payloads {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	require.NoError(t, err)
	return p
}

// The checker must find a secret wherever a careless change could put it.
func TestFindSeesASecretInEveryPlace(t *testing.T) {
	key := []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	cases := map[string]*historypb.HistoryEvent{
		"workflow input": {
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				Input: payloadOf(t, map[string]string{"Secret": secret}),
			}},
		},
		"activity failure message": {
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			Attributes: &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
				Failure: &failurepb.Failure{Message: "cannot sign with " + secret},
			}},
		},
		"base64 key alone in a marker": {
			EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				Details: map[string]*commonpb.Payloads{"data": payloadOf(t, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},
			}},
		},
		"raw key bytes as a []byte result": {
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
			Attributes: &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
				Result: &commonpb.Payloads{Payloads: []*commonpb.Payload{{Data: key}}},
			}},
		},
	}
	rawKeySecret := "whsec_3q2+7wECAwQFBgcICQoLDA0ODxAREhMU"
	for name, ev := range cases {
		t.Run(name, func(t *testing.T) {
			needles := append(leakcheck.SecretForms("secret 1", secret), leakcheck.SecretForms("secret 2", rawKeySecret)...)
			found, err := leakcheck.Find(history(t, ev), needles)
			require.NoError(t, err)
			require.NotEmpty(t, found)
			require.Contains(t, found[0], "event 1 (")
			require.NotContains(t, found[0], secret, "a report names the secret, never prints it")
		})
	}

	clean := history(t, &historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			Input: payloadOf(t, map[string]string{"SubscriptionID": "sub_1"}),
		}},
	})
	found, err := leakcheck.Find(clean, leakcheck.SecretForms("secret", secret))
	require.NoError(t, err)
	require.Empty(t, found)
}

func TestPayloadsWalksNestedMessages(t *testing.T) {
	h := history(t,
		&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				Input: payloadOf(t, "a"),
			}},
		},
		&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				Details: map[string]*commonpb.Payloads{"data": payloadOf(t, "b")},
				Failure: &failurepb.Failure{EncodedAttributes: &commonpb.Payload{Data: []byte(`"c"`)}},
			}},
		},
	)
	var got []string
	for _, p := range leakcheck.Payloads(h) {
		got = append(got, string(p.GetData()))
	}
	require.ElementsMatch(t, []string{`"a"`, `"b"`, `"c"`}, got)
}
