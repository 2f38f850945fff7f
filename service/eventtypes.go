package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/hookflow/hookflow/store"
)

// maxSchemaProblems bounds the schema errors one answer lists.
const maxSchemaProblems = 20

// NewEventType is an event type as a producer registers it; Schema is
// empty or a JSON Schema for the data of its events.
type NewEventType struct {
	Name        string
	Description string
	Schema      json.RawMessage
}

// CreateEventType registers an event type; a type of that name is
// ErrConflict. A schema that does not compile is ErrInvalid.
func (s *Service) CreateEventType(ctx context.Context, in NewEventType) (store.EventType, error) {
	t, err := s.newEventType(in)
	if err != nil {
		return store.EventType{}, err
	}
	if err := s.Store.CreateEventType(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.EventType{}, fmt.Errorf("event type %s already exists (PUT /v1/event-types/%s replaces it): %w", in.Name, in.Name, ErrConflict)
		}
		return store.EventType{}, storeErr(err, "create event type")
	}
	return t, nil
}

// PutEventType creates or replaces an event type and reports whether it
// created it. Events accepted before keep going out; only events posted
// afterwards are checked against the new schema.
func (s *Service) PutEventType(ctx context.Context, in NewEventType) (store.EventType, bool, error) {
	t, err := s.newEventType(in)
	if err != nil {
		return store.EventType{}, false, err
	}
	t, created, err := s.Store.PutEventType(ctx, t)
	return t, created, storeErr(err, "put event type")
}

func (s *Service) newEventType(in NewEventType) (store.EventType, error) {
	var schema []byte
	if len(in.Schema) > 0 && string(in.Schema) != "null" {
		schema = compact(in.Schema)
		if _, err := s.schemas.get(schema); err != nil {
			return store.EventType{}, invalid("the schema is not a valid JSON Schema",
				FieldProblem{Field: "schema", Rule: "json_schema", Message: err.Error()})
		}
	}
	now := s.now()
	return store.EventType{Name: in.Name, Description: in.Description, Schema: schema, CreatedAt: now, UpdatedAt: now}, nil
}

// GetEventType returns one event type.
func (s *Service) GetEventType(ctx context.Context, name string) (store.EventType, error) {
	t, err := s.Store.GetEventType(ctx, name)
	return t, storeErr(err, fmt.Sprintf("event type %s", name))
}

// ListEventTypes returns a page of event types by name and the cursor of
// the next page, empty on the last one.
func (s *Service) ListEventTypes(ctx context.Context, p store.ListEventTypesParams) ([]store.EventType, string, error) {
	limit := p.Limit
	p.Limit++
	ts, err := s.Store.ListEventTypes(ctx, p)
	if err != nil {
		return nil, "", storeErr(err, "list event types")
	}
	if len(ts) > limit {
		ts = ts[:limit]
		return ts, ts[limit-1].Name, nil
	}
	return ts, "", nil
}

// checkEvent refuses an event whose type is unknown (unless unknown types
// are allowed) or whose data breaks its type's schema.
func (s *Service) checkEvent(ctx context.Context, eventType string, data json.RawMessage) error {
	t, err := s.Store.GetEventType(ctx, eventType)
	if errors.Is(err, store.ErrNotFound) {
		if s.AllowUnknownEventTypes {
			return nil
		}
		return invalid("the request has invalid fields", FieldProblem{
			Field: "type", Rule: "registered", Message: fmt.Sprintf("%q is not a registered event type (POST /v1/event-types)", eventType),
		})
	}
	if err != nil {
		return storeErr(err, "load event type")
	}
	if len(t.Schema) == 0 {
		return nil
	}
	sch, err := s.schemas.get(t.Schema)
	if err != nil {
		// Stored schemas compiled when they were registered.
		return fmt.Errorf("event type %s: stored schema: %w", eventType, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return invalid("the request has invalid fields", FieldProblem{Field: "data", Rule: "json", Message: err.Error()})
	}
	var verr *jsonschema.ValidationError
	if err := sch.Validate(inst); errors.As(err, &verr) {
		return invalid(fmt.Sprintf("data does not match the schema of event type %s", eventType), schemaProblems(verr)...)
	} else if err != nil {
		return invalid(fmt.Sprintf("data does not match the schema of event type %s", eventType),
			FieldProblem{Field: "data", Rule: "schema", Message: err.Error()})
	}
	return nil
}

var english = message.NewPrinter(language.English)

// schemaProblems lists the innermost causes of a validation error, each
// with the place in data it concerns as "data" and a JSON Pointer.
func schemaProblems(verr *jsonschema.ValidationError) []FieldProblem {
	var out []FieldProblem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(out) >= maxSchemaProblems {
			return
		}
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		field := "data"
		for _, tok := range e.InstanceLocation {
			field += "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
		}
		rule := "schema"
		if path := e.ErrorKind.KeywordPath(); len(path) > 0 {
			rule = path[len(path)-1]
		}
		out = append(out, FieldProblem{Field: field, Rule: rule, Message: e.ErrorKind.LocalizedString(english)})
	}
	walk(verr)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// schemaCache keeps compiled schemas by the hash of their text, so that
// every API process compiles each schema once and sees a replaced schema at
// once (the store holds the text, read per event).
type schemaCache struct {
	mu       sync.Mutex
	compiled map[[32]byte]*jsonschema.Schema
}

// maxCachedSchemas bounds the cache; past it, it starts afresh.
const maxCachedSchemas = 1024

func (c *schemaCache) get(schema []byte) (*jsonschema.Schema, error) {
	key := sha256.Sum256(schema)
	c.mu.Lock()
	sch, ok := c.compiled[key]
	c.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := compileSchema(schema)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.compiled == nil || len(c.compiled) >= maxCachedSchemas {
		c.compiled = map[[32]byte]*jsonschema.Schema{}
	}
	c.compiled[key] = sch
	return sch, nil
}

// schemaURL names a schema being compiled; relative references resolve
// against it and nothing is ever fetched.
const schemaURL = "urn:hookflow:event-type-schema"

// compileSchema compiles a producer's schema. It may reference only itself:
// the loader refuses every URL, so a schema can make Hookflow read no file
// and call no server. Formats ("email", "date-time", ...) are asserted.
func compileSchema(schema []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, errors.New("a JSON Schema is an object or a boolean")
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseLoader{})
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
}

type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("references to other documents are not allowed (%s)", url)
}
