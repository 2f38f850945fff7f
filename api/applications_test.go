package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type applicationView struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Metadata map[string]string `json:"metadata"`
}

func TestApplicationsAreCreatedReadChangedListedAndDeleted(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	var acme applicationView
	r := ta.do(t, "POST", "/v1/applications", map[string]any{"id": "acme", "name": "Acme", "metadata": map[string]string{"plan": "pro"}})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	r.json(t, &acme)
	require.Equal(t, applicationView{ID: "acme", Name: "Acme", Metadata: map[string]string{"plan": "pro"}}, acme)

	var generated applicationView
	r = ta.do(t, "POST", "/v1/applications", map[string]any{"name": "No id"})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	r.json(t, &generated)
	require.True(t, strings.HasPrefix(generated.ID, "app_"), generated.ID)
	require.Equal(t, map[string]string{}, generated.Metadata)

	requireError(t, ta.do(t, "POST", "/v1/applications", map[string]any{"id": "acme", "name": "Again"}), http.StatusConflict, "conflict")
	e := requireError(t, ta.do(t, "POST", "/v1/applications", map[string]any{"id": "a/b c", "name": "Bad"}), http.StatusBadRequest, "validation_failed")
	require.Equal(t, map[string]string{"id": "url_safe_id"}, e.fields(), "the rule is named")
	e = requireError(t, ta.do(t, "POST", "/v1/applications", map[string]any{"id": strings.Repeat("a", 129), "name": "Long"}), http.StatusBadRequest, "validation_failed")
	require.Equal(t, map[string]string{"id": "url_safe_id"}, e.fields())
	e = requireError(t, ta.do(t, "POST", "/v1/applications", map[string]any{"id": "x"}), http.StatusBadRequest, "validation_failed")
	require.Equal(t, map[string]string{"name": "required"}, e.fields())

	r = ta.do(t, "PATCH", "/v1/applications/acme", map[string]any{"name": "Acme Inc."})
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	r = ta.do(t, "GET", "/v1/applications/acme", nil)
	require.Equal(t, http.StatusOK, r.Code)
	r.json(t, &acme)
	require.Equal(t, "Acme Inc.", acme.Name)
	require.Equal(t, map[string]string{"plan": "pro"}, acme.Metadata, "a patch keeps what it does not name")
	requireError(t, ta.do(t, "PATCH", "/v1/applications/acme", `{"name":null}`), http.StatusBadRequest, "validation_failed")
	requireError(t, ta.do(t, "GET", "/v1/applications/nope", nil), http.StatusNotFound, "application_not_found")
	requireError(t, ta.do(t, "PATCH", "/v1/applications/nope", map[string]any{"name": "x"}), http.StatusNotFound, "application_not_found")

	var page struct {
		Data       []applicationView `json:"data"`
		NextCursor string            `json:"next_cursor"`
	}
	var listed []string
	cursor := ""
	for i := 0; i < 10; i++ {
		r = ta.do(t, "GET", "/v1/applications?limit=2&cursor="+cursor, nil)
		require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
		page.NextCursor = ""
		r.json(t, &page)
		for _, a := range page.Data {
			listed = append(listed, a.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Equal(t, []string{"_operational", "acme", generated.ID, "default"}, listed)

	for _, reserved := range []string{"default", "_operational"} {
		e := requireError(t, ta.do(t, "DELETE", "/v1/applications/"+reserved, nil), http.StatusConflict, "conflict")
		require.Contains(t, e.Error.Message, "cannot be deleted")
	}
	r = ta.do(t, "DELETE", "/v1/applications/acme", nil)
	require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	require.Contains(t, string(r.Body), `"workflow_id":"app-delete:acme/`)
	requireError(t, ta.do(t, "GET", "/v1/applications/acme", nil), http.StatusNotFound, "application_not_found")
	requireError(t, ta.do(t, "DELETE", "/v1/applications/acme", nil), http.StatusNotFound, "application_not_found")
}

// Every resource route exists under an application, reaches only that
// application's records, and answers application_not_found for an unknown
// application before anything else.
func TestResourcesOfOneApplicationAreInvisibleToAnother(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	for _, id := range []string{"acme", "globex"} {
		require.Equal(t, http.StatusCreated, ta.do(t, "POST", "/v1/applications", map[string]any{"id": id, "name": id}).Code)
	}
	var sub subscriptionView
	r := ta.do(t, "POST", "/v1/applications/acme/subscriptions", map[string]any{"url": "https://e.com/acme", "event_types": []string{"*"}})
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	r.json(t, &sub)

	require.Equal(t, http.StatusOK, ta.do(t, "GET", "/v1/applications/acme/subscriptions/"+sub.ID, nil).Code)
	for _, other := range []string{"/v1/applications/globex", "/v1"} {
		requireError(t, ta.do(t, "GET", other+"/subscriptions/"+sub.ID, nil), http.StatusNotFound, "not_found")
		requireError(t, ta.do(t, "PATCH", other+"/subscriptions/"+sub.ID, map[string]any{"status": "paused"}), http.StatusNotFound, "not_found")
		requireError(t, ta.do(t, "GET", other+"/subscriptions/"+sub.ID+"/secret", nil), http.StatusNotFound, "not_found")
		requireError(t, ta.do(t, "POST", other+"/subscriptions/"+sub.ID+"/rotate-secret", nil), http.StatusNotFound, "not_found")
		requireError(t, ta.do(t, "DELETE", other+"/subscriptions/"+sub.ID, nil), http.StatusNotFound, "not_found")
		r := ta.do(t, "GET", other+"/subscriptions", nil)
		require.Equal(t, http.StatusOK, r.Code)
		require.NotContains(t, string(r.Body), sub.ID)
	}

	// The same idempotency key in two applications is two events.
	body := map[string]any{"type": "order.created", "data": map[string]any{"n": 1}}
	var inAcme, inDefault struct {
		WorkflowID string `json:"workflow_id"`
	}
	r = ta.do(t, "POST", "/v1/applications/acme/events", body, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	require.Empty(t, r.Header.Get("Idempotent-Replayed"))
	r.json(t, &inAcme)
	r = ta.do(t, "POST", "/v1/events", map[string]any{"type": "order.created", "data": map[string]any{"n": 2}}, "Idempotency-Key", "order-1")
	require.Equal(t, http.StatusAccepted, r.Code, "another body under the same key is no conflict in another application: %s", r.Body)
	require.Empty(t, r.Header.Get("Idempotent-Replayed"))
	r.json(t, &inDefault)
	require.Equal(t, "event:acme/order-1", inAcme.WorkflowID)
	require.Equal(t, "event:default/order-1", inDefault.WorkflowID)
	ta.eventuallyStarted(t, 2) // the outbox dispatcher starts them a moment later
	requireError(t, ta.do(t, "GET", "/v1/applications/globex/events/order-1", nil), http.StatusNotFound, "not_found")
	requireError(t, ta.do(t, "GET", "/v1/applications/globex/deliveries/order-1:"+sub.ID, nil), http.StatusNotFound, "not_found")

	// An unknown application is told apart from an unknown resource, on
	// every route under it.
	for _, route := range [][2]string{
		{"GET", "/subscriptions"}, {"POST", "/subscriptions"}, {"GET", "/subscriptions/" + sub.ID},
		{"POST", "/events"}, {"GET", "/events/order-1"}, {"POST", "/events/order-1/cancel"},
		{"GET", "/deliveries/x:y"}, {"POST", "/deliveries/x:y/cancel"}, {"POST", "/deliveries/x:y/retry"},
	} {
		requireError(t, ta.do(t, route[0], "/v1/applications/nope"+route[1], body), http.StatusNotFound, "application_not_found")
	}
}
