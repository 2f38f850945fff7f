package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/api"
)

// The document is valid OpenAPI 3.0 as kin-openapi reads it, with every
// check it has switched on: examples and defaults against their schemas,
// patterns compiled, formats known. `make lint` also runs Redocly's
// linter on it; this test keeps the document valid without Node.
func TestOpenAPIDocumentValidates(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	require.Equal(t, "3.0.3", doc.OpenAPI, "the checks below are OpenAPI 3.0's")
	require.NoError(t, doc.Validate(context.Background(),
		openapi3.EnableExamplesValidation(),
		openapi3.EnableSchemaDefaultsValidation(),
		openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableSchemaFormatValidation(),
	))
}

// In OpenAPI 3.0 `nullable` only adds null to the `type` beside it; without
// a type it means nothing, and generated clients then send PATCH's nulls
// wrong (kin-openapi accepts it; Redocly's nullable-type-sibling does not).
func TestOpenAPINullableHasAType(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	var bad []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if s.Nullable && (s.Type == nil || len(*s.Type) == 0) {
			bad = append(bad, where)
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		walk(where+"[]", s.Items)
		if s.AdditionalProperties.Schema != nil {
			walk(where+"{}", s.AdditionalProperties.Schema)
		}
		for i, x := range s.OneOf {
			walk(fmt.Sprintf("%s.oneOf[%d]", where, i), x)
		}
		for i, x := range s.AnyOf {
			walk(fmt.Sprintf("%s.anyOf[%d]", where, i), x)
		}
		for i, x := range s.AllOf {
			walk(fmt.Sprintf("%s.allOf[%d]", where, i), x)
		}
		walk(where+".not", s.Not)
	}
	for name, s := range doc.Components.Schemas {
		walk(name, s)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					walk(where+" request "+ct, mt.Schema)
				}
			}
			for status, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for ct, mt := range resp.Value.Content {
					walk(where+" "+status+" "+ct, mt.Schema)
				}
			}
			for _, p := range op.Parameters {
				if p.Value != nil {
					walk(where+" parameter "+p.Value.Name, p.Value.Schema)
				}
			}
		}
	}
	sort.Strings(bad)
	require.Empty(t, bad, "nullable without a type")
}

// What PATCH and event-type bodies may hold, per the document: null clears
// headers, retry and a schema, and a value of the wrong type does not pass.
// Generated clients read these schemas, so they must say it.
func TestOpenAPINullsWhereTheAPIAcceptsThem(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	check := func(schema, body string, ok bool) {
		t.Helper()
		var v any
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		err := doc.Components.Schemas[schema].Value.VisitJSON(v)
		if ok {
			require.NoError(t, err, "%s should accept %s", schema, body)
		} else {
			require.Error(t, err, "%s should refuse %s", schema, body)
		}
	}
	check("SubscriptionPatch", `{"headers":null,"retry":null,"description":null,"timeout_seconds":null}`, true)
	check("SubscriptionPatch", `{"headers":{"X-Team":"a"},"retry":{"max_attempts":3}}`, true)
	check("SubscriptionPatch", `{"headers":"X-Team: a"}`, false)
	check("SubscriptionPatch", `{"headers":{"X-Team":1}}`, false)
	check("SubscriptionPatch", `{"retry":{"max_attempts":-1}}`, false)
	check("SubscriptionPatch", `{"retry":5}`, false)
	check("NewEventType", `{"name":"a.b","schema":null}`, true)
	check("NewEventType", `{"name":"a.b","schema":true}`, true)
	check("NewEventType", `{"name":"a.b","schema":{"type":"object"}}`, true)
	check("NewEventType", `{"name":"a.b","schema":"object"}`, false)
	check("NewEventType", `{"name":"a.b","schema":3}`, false)
}
