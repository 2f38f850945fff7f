package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

const orderSchema = `{
  "type": "object",
  "required": ["order_id", "total"],
  "properties": {
    "order_id": {"type": "integer", "minimum": 1},
    "total": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
    "email": {"type": "string", "format": "email"}
  }
}`

type eventTypeView struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Schema      map[string]any `json:"schema"`
}

func TestEventTypeSchemasRefuseBadData(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	r := ta.do(t, "POST", "/v1/event-types", `{"name":"order.created","description":"an order was placed","schema":`+orderSchema+`}`)
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	var et eventTypeView
	r.json(t, &et)
	require.Equal(t, "order.created", et.Name)
	require.Equal(t, "object", et.Schema["type"])

	requireError(t, ta.do(t, "POST", "/v1/event-types", map[string]any{"name": "order.created"}), http.StatusConflict, "conflict")

	r = ta.do(t, "POST", "/v1/events", `{"type":"order.created","data":{"order_id":0,"total":"12","email":"nope"}}`)
	e := requireError(t, r, http.StatusBadRequest, "validation_failed")
	require.Equal(t, map[string]string{"data/order_id": "minimum", "data/total": "pattern", "data/email": "format"}, e.fields(), "%s", r.Body)
	r = ta.do(t, "POST", "/v1/events", `{"type":"order.created","data":{"total":"1.00"}}`)
	e = requireError(t, r, http.StatusBadRequest, "validation_failed")
	require.Equal(t, map[string]string{"data": "required"}, e.fields(), "%s", r.Body)
	require.Contains(t, e.Error.Details[0].Message, "order_id")
	ta.requireNothingAccepted(t, "refused events are not stored")

	r = ta.do(t, "POST", "/v1/events", `{"type":"order.created","data":{"order_id":7,"total":"12.50"}}`, "Idempotency-Key", "o-7")
	require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	require.Equal(t, http.StatusAccepted, ta.do(t, "POST", "/v1/events", `{"type":"user.created","data":{}}`).Code,
		"types nobody registered are accepted by default")

	// A tighter schema refuses new events, but a repeat of one accepted
	// before still gets its first answer.
	r = ta.do(t, "PUT", "/v1/event-types/order.created", `{"schema":{"type":"object","required":["currency"]}}`)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	requireError(t, ta.do(t, "POST", "/v1/events", `{"type":"order.created","data":{"order_id":8,"total":"1.00"}}`), http.StatusBadRequest, "validation_failed")
	r = ta.do(t, "POST", "/v1/events", `{"type":"order.created","data":{"order_id":7,"total":"12.50"}}`, "Idempotency-Key", "o-7")
	require.Equal(t, http.StatusAccepted, r.Code, "%s", r.Body)
	require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))

	r = ta.do(t, "PUT", "/v1/event-types/invoice.paid", `{"description":"no schema"}`)
	require.Equal(t, http.StatusCreated, r.Code, "%s", r.Body)
	var got eventTypeView
	ta.do(t, "GET", "/v1/event-types/invoice.paid", nil).json(t, &got)
	require.Equal(t, "no schema", got.Description)
	require.Nil(t, got.Schema)

	type page struct {
		Data       []eventTypeView `json:"data"`
		NextCursor string          `json:"next_cursor"`
	}
	var p page
	ta.do(t, "GET", "/v1/event-types?limit=1", nil).json(t, &p)
	require.Len(t, p.Data, 1)
	require.Equal(t, "invoice.paid", p.Data[0].Name)
	require.Equal(t, "invoice.paid", p.NextCursor)
	p = page{}
	ta.do(t, "GET", "/v1/event-types?limit=1&cursor=invoice.paid", nil).json(t, &p)
	require.Equal(t, "order.created", p.Data[0].Name)
	require.Empty(t, p.NextCursor)
}

func TestBadSchemasAreRefused(t *testing.T) {
	ta := newTestAPI(t, apiOptions{})
	for _, schema := range []string{
		`{"type": 5}`,
		`"a string"`,
		`[1,2]`,
		`{"$ref": "https://example.com/schema.json"}`,
		`{"$ref": "file:///etc/passwd"}`,
		`{"type": "string", "pattern": "("}`,
	} {
		e := requireError(t, ta.do(t, "POST", "/v1/event-types", `{"name":"a.b","schema":`+schema+`}`), http.StatusBadRequest, "validation_failed")
		require.Equal(t, "json_schema", e.fields()["schema"], "schema %s: %+v", schema, e.Error.Details)
	}
	requireError(t, ta.do(t, "PUT", "/v1/event-types/a..b", `{}`), http.StatusBadRequest, "validation_failed")
	e := requireError(t, ta.do(t, "POST", "/v1/event-types", `{"name":"a b"}`), http.StatusBadRequest, "validation_failed")
	require.Equal(t, "event_type", e.fields()["name"])
}

func TestUnknownTypesAreRefusedWhenConfigured(t *testing.T) {
	ta := newTestAPI(t, apiOptions{strictTypes: true})
	e := requireError(t, ta.do(t, "POST", "/v1/events", `{"type":"user.created","data":{}}`), http.StatusBadRequest, "validation_failed")
	require.Equal(t, "registered", e.fields()["type"])
	require.Equal(t, http.StatusCreated, ta.do(t, "POST", "/v1/event-types", `{"name":"user.created"}`).Code)
	require.Equal(t, http.StatusAccepted, ta.do(t, "POST", "/v1/events", `{"type":"user.created","data":{}}`).Code)
}
