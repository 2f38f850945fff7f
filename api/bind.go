package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/signing"
)

var (
	// An event type is dotted words; a subscription pattern may end in
	// ".*" or be "*" alone.
	eventTypePattern    = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	eventPatternPattern = regexp.MustCompile(`^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$`)
)

// newValidator returns the one validator of the API, with Hookflow's rules
// and JSON field names in its errors.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	must := func(err error) {
		if err != nil {
			panic(err) // rule names are constants: a failure is a programming error
		}
	}
	must(v.RegisterValidation("event_type", func(fl validator.FieldLevel) bool {
		return eventTypePattern.MatchString(fl.Field().String())
	}))
	must(v.RegisterValidation("event_pattern", func(fl validator.FieldLevel) bool {
		return eventPatternPattern.MatchString(fl.Field().String())
	}))
	must(v.RegisterValidation("event_id", func(fl validator.FieldLevel) bool {
		return ids.Valid(fl.Field().String())
	}))
	must(v.RegisterValidation("url_safe_id", func(fl validator.FieldLevel) bool {
		return ids.Valid(fl.Field().String())
	}))
	must(v.RegisterValidation("webhook_url", func(fl validator.FieldLevel) bool {
		u, err := url.Parse(fl.Field().String())
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
	}))
	must(v.RegisterValidation("webhook_secret", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		_, err := signing.DecodeSecret(s)
		return strings.HasPrefix(s, signing.SecretPrefix) && err == nil
	}))
	registerOptional(v, optional[string]{}, optional[[]string]{}, optional[map[string]string]{},
		optional[retryRequest]{}, optional[float64]{}, optional[int]{})
	return v
}

// messages says in words what each rule wants.
var messages = map[string]string{
	"required":       "is required",
	"min":            "is too short or has too few items (min %s)",
	"max":            "is too long or has too many items (max %s)",
	"gt":             "must be greater than %s",
	"gte":            "must be at least %s",
	"lte":            "must be at most %s",
	"oneof":          "must be one of: %s",
	"event_type":     "must be dotted words of letters, digits, '_' and '-', like order.created",
	"event_pattern":  "must be an event type, a prefix ending in .* (order.*), or *",
	"event_id":       "must be at most 128 letters, digits or _ . : -",
	"url_safe_id":    "must be URL-safe: at most 128 letters, digits or _ . : -",
	"webhook_url":    "must be an absolute http or https URL without credentials",
	"webhook_secret": "must be whsec_ followed by 24 to 64 bytes in base64",
}

func fieldErrors(errs validator.ValidationErrors) []FieldError {
	out := make([]FieldError, 0, len(errs))
	for _, fe := range errs {
		msg, ok := messages[fe.Tag()]
		if !ok {
			msg = "fails rule " + fe.Tag()
		} else if strings.Contains(msg, "%s") {
			msg = fmt.Sprintf(msg, fe.Param())
		}
		// Namespace is "request.field[0].sub"; drop the struct's own name.
		field := fe.Namespace()
		if i := strings.IndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		out = append(out, FieldError{Field: field, Rule: fe.Tag(), Message: msg})
	}
	return out
}

// bindJSON reads a JSON body into dst and validates it: 415 unless the
// body is JSON, 413 past the size limit, 400 for unknown fields, malformed
// JSON or a broken rule.
func (h *handlers) bindJSON(c *gin.Context, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		}
	} else if c.Request.ContentLength != 0 {
		return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return newError(http.StatusRequestEntityTooLarge, CodePayloadTooLarge, fmt.Sprintf("the body is larger than %d bytes", h.maxBody))
	}
	if err != nil {
		return newError(http.StatusBadRequest, CodeInvalidJSON, "cannot read the body: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body holds more than one JSON value")
	}
	if err := h.validate.Struct(dst); err != nil {
		var verrs validator.ValidationErrors
		if errors.As(err, &verrs) {
			return newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields", fieldErrors(verrs)...)
		}
		return newError(http.StatusBadRequest, CodeValidationFailed, err.Error())
	}
	return nil
}

func jsonError(err error) *Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid fields",
			FieldError{Field: typeErr.Field, Rule: "type", Message: "must be " + jsonTypeName(typeErr.Type)})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body is not valid JSON: "+err.Error())
	case errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body is empty")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return newError(http.StatusBadRequest, CodeValidationFailed, "the request has unknown fields",
			FieldError{Field: field, Rule: "unknown", Message: "is not a known field"})
	default:
		return newError(http.StatusBadRequest, CodeInvalidJSON, "the body is not valid JSON: "+err.Error())
	}
}

// bindOptionalJSON is bindJSON for a body that may be left out.
func (h *handlers) bindOptionalJSON(c *gin.Context, dst any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return h.bindJSON(c, dst)
}

// bindQuery reads query parameters into dst and validates them.
func (h *handlers) bindQuery(c *gin.Context, dst any) error {
	if err := c.ShouldBindQuery(dst); err != nil {
		return newError(http.StatusBadRequest, CodeValidationFailed, "bad query parameters: "+err.Error())
	}
	if err := h.validate.Struct(dst); err != nil {
		var verrs validator.ValidationErrors
		if errors.As(err, &verrs) {
			return newError(http.StatusBadRequest, CodeValidationFailed, "the request has invalid query parameters", fieldErrors(verrs)...)
		}
		return newError(http.StatusBadRequest, CodeValidationFailed, err.Error())
	}
	return nil
}
