package api

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/go-playground/validator/v10"
)

// optional is a field of a PATCH body, which follows JSON merge patch
// (RFC 7396): absent keeps the value, null removes it, anything else
// replaces it.
type optional[T any] struct {
	Set   bool // the field was in the body
	Null  bool // ... as null
	Value T
}

// UnmarshalJSON is called for every field present, null included.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}

// has reports whether the field holds a value (present and not null).
func (o optional[T]) has() bool { return o.Set && !o.Null }

// ptr is the value for the validator: a nil pointer (skipped by omitnil)
// unless the field holds a value.
func (o optional[T]) ptr() any {
	if !o.has() {
		return (*T)(nil)
	}
	v := o.Value
	return &v
}

// registerOptional lets the validator check what optional fields hold with
// the same tags a create request uses.
func registerOptional(v *validator.Validate, types ...any) {
	v.RegisterCustomTypeFunc(func(f reflect.Value) any {
		return f.Interface().(interface{ ptr() any }).ptr()
	}, types...)
}

// jsonTypeName names in JSON terms the Go type a value failed to decode
// into.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return "of another type"
	}
}
