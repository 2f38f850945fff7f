package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

type eventLogPage struct {
	Data []struct {
		ID        string     `json:"id"`
		Type      string     `json:"type"`
		CreatedAt time.Time  `json:"created_at"`
		DeliverAt *time.Time `json:"deliver_at"`
	} `json:"data"`
	NextCursor string `json:"next_cursor"`
	HasMore    bool   `json:"has_more"`
}

type deliveryLogPage struct {
	Data []struct {
		ID             string    `json:"id"`
		EventID        string    `json:"event_id"`
		SubscriptionID string    `json:"subscription_id"`
		Status         string    `json:"status"`
		Attempts       int       `json:"attempts"`
		CreatedAt      time.Time `json:"created_at"`
		WorkflowID     string    `json:"workflow_id"`
	} `json:"data"`
	NextCursor string `json:"next_cursor"`
	HasMore    bool   `json:"has_more"`
}

func TestListsPageNewestFirstPerApplication(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	createApplications(t, ta, "acme")
	for i := range 5 {
		ta.now = ta.now.Add(time.Second)
		r := ta.do(t, "POST", "/v1/applications/acme/events", fmt.Sprintf(`{"id":"e%d","type":"order.%s","data":{}}`, i, []string{"created", "paid"}[i%2]))
		require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	}
	r := ta.do(t, "POST", "/v1/events", `{"id":"in-default","type":"order.created","data":{}}`)
	require.Equal(t, http.StatusAccepted, r.Code)

	var ids []string
	cursor := ""
	for {
		var p eventLogPage
		r := ta.do(t, "GET", "/v1/applications/acme/events?limit=2&cursor="+url.QueryEscape(cursor), nil)
		require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
		r.json(t, &p)
		for _, e := range p.Data {
			ids = append(ids, e.ID)
		}
		require.Equal(t, p.HasMore, p.NextCursor != "")
		if !p.HasMore {
			break
		}
		cursor = p.NextCursor
	}
	require.Equal(t, []string{"e4", "e3", "e2", "e1", "e0"}, ids)

	var p eventLogPage
	since := ta.now.Add(-3 * time.Second).Format(time.RFC3339)
	ta.do(t, "GET", "/v1/applications/acme/events?type=order.created&since="+since, nil).json(t, &p)
	require.Len(t, p.Data, 2, "e2 and e4")
	require.Equal(t, "e4", p.Data[0].ID)
	require.Nil(t, p.Data[0].DeliverAt)
	ta.do(t, "GET", "/v1/events", nil).json(t, &p)
	require.Len(t, p.Data, 1)
	require.Equal(t, "in-default", p.Data[0].ID, "the top-level list is the application default's")

	require.NoError(t, ta.store.AddDeliveries(t.Context(), []store.Delivery{
		{ID: "d1", ApplicationID: "acme", EventID: "e1", SubscriptionID: "sub_a", URL: "https://e.com", Status: store.DeliveryFailed, WorkflowID: "w1", CreatedAt: ta.now, UpdatedAt: ta.now},
		{ID: "d2", ApplicationID: "acme", EventID: "e1", SubscriptionID: "sub_b", URL: "https://e.com", Status: store.DeliverySucceeded, WorkflowID: "w2", CreatedAt: ta.now, UpdatedAt: ta.now},
	}))
	var dp deliveryLogPage
	ta.do(t, "GET", "/v1/applications/acme/deliveries?event_id=e1&status=failed", nil).json(t, &dp)
	require.Len(t, dp.Data, 1)
	require.Equal(t, "d1", dp.Data[0].ID)
	require.Equal(t, "sub_a", dp.Data[0].SubscriptionID)
	require.Equal(t, "w1", dp.Data[0].WorkflowID)
	require.False(t, dp.HasMore)
	ta.do(t, "GET", "/v1/deliveries", nil).json(t, &dp)
	require.Empty(t, dp.Data)
	require.NotNil(t, dp.Data, "an empty page is [] not null")
}

func TestListsRefuseBadParametersByName(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"limit=0", []string{"limit"}},
		{"limit=251", []string{"limit"}},
		{"limit=ten", []string{"limit"}},
		{"cursor=not-a-cursor", []string{"cursor"}},
		{"cursor=" + strings.Repeat("a", 600), []string{"cursor"}},
		{"since=yesterday", []string{"since"}},
		{"until=2026-13-01T00:00:00Z", []string{"until"}},
		{"since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", []string{"until"}},
		{"since=2026-03-01T00:00:00Z&until=2026-03-01T00:00:00Z", []string{"until"}},
		{"status=lost", []string{"status"}},
		{"subscription_id=a%20b", []string{"subscription_id"}},
		{"limit=-1&status=lost&since=x", []string{"limit", "status", "since"}},
	} {
		r := ta.do(t, "GET", "/v1/deliveries?"+c.query, nil)
		e := requireError(t, r, http.StatusBadRequest, "validation_failed")
		got := e.fields()
		for _, f := range c.fields {
			require.Contains(t, got, f, "query %s: %s", c.query, r.Body)
		}
		require.Len(t, got, len(c.fields), "query %s: %s", c.query, r.Body)
	}
	e := requireError(t, ta.do(t, "GET", "/v1/events?type=not%20a%20type", nil), http.StatusBadRequest, "validation_failed")
	require.Contains(t, e.fields(), "type")
	e = requireError(t, ta.do(t, "GET", "/v1/events?cursor=MTp3aXRoIHNwYWNl", nil), http.StatusBadRequest, "validation_failed")
	require.Contains(t, e.fields(), "cursor")
	requireError(t, ta.do(t, "GET", "/v1/applications/nope/events", nil), http.StatusNotFound, "application_not_found")
}

func TestDeliverAtIsCheckedScheduledAndCancellable(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	post := func(body string) response {
		return ta.do(t, "POST", "/v1/events", body)
	}
	for _, at := range []string{
		ta.now.Add(-time.Second).Format(time.RFC3339),
		ta.now.Add(30*24*time.Hour + time.Second).Format(time.RFC3339),
		"tomorrow", "2026-03-01 13:00:00",
	} {
		e := requireError(t, post(`{"type":"a.b","data":{},"deliver_at":"`+at+`"}`), http.StatusBadRequest, "validation_failed")
		require.Equal(t, map[string]string{"deliver_at": e.Error.Details[0].Rule}, e.fields(), "deliver_at %s", at)
	}
	ta.requireNothingAccepted(t, "a refused deliver_at stores nothing")

	at := ta.now.Add(time.Hour)
	body := `{"id":"later","type":"a.b","data":{},"deliver_at":"` + at.Format(time.RFC3339) + `"}`
	r := post(body)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	var acc struct {
		DeliverAt time.Time `json:"deliver_at"`
	}
	r.json(t, &acc)
	require.True(t, at.Equal(acc.DeliverAt))
	ta.eventuallyStarted(t, 1)
	var ev struct {
		Status    string     `json:"status"`
		DeliverAt *time.Time `json:"deliver_at"`
		RunID     string     `json:"run_id"`
	}
	require.Eventually(t, func() bool {
		ta.do(t, "GET", "/v1/events/later", nil).json(t, &ev)
		return ev.RunID != ""
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "scheduled", ev.Status)
	require.True(t, at.Equal(*ev.DeliverAt))

	// The same post once the time has passed repeats the first answer.
	ta.now = ta.now.Add(2 * time.Hour)
	r = post(body)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	ta.now = ta.now.Add(-2 * time.Hour)

	r = ta.do(t, "POST", "/v1/events/later/cancel", nil)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	ta.do(t, "GET", "/v1/events/later", nil).json(t, &ev)
	require.Equal(t, "cancelled", ev.Status)
}
