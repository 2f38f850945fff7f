package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hookflow/hookflow/service"
)

// Error codes of the contract's error shape.
const (
	CodeValidationFailed = "validation_failed"
	CodeInvalidJSON      = "invalid_json"
	CodeUnauthorized     = "unauthorized"
	CodeNotFound         = "not_found"
	// CodeApplicationNotFound is an unknown application in a path, told
	// apart from an unknown resource within a known one.
	CodeApplicationNotFound  = "application_not_found"
	CodeConflict             = "conflict"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeUnavailable          = "unavailable"
	CodeInternal             = "internal"
)

// FieldError names one bad field, by its JSON name, the rule it breaks and,
// in words, why.
type FieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// Error is the body of every error answer:
// {"error":{"code":"...","message":"...","details":[...]}}.
type Error struct {
	Status  int          `json:"-"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Details []FieldError `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Message }

func newError(status int, code, message string, details ...FieldError) *Error {
	return &Error{Status: status, Code: code, Message: message, Details: details}
}

// writeError renders err in the contract's shape. Errors the service
// classified get their status; anything else is the server's fault, 500,
// and its text stays in the log.
func writeError(c *gin.Context, err error) {
	var (
		apiErr  *Error
		invalid *service.InvalidError
	)
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &invalid):
		apiErr = newError(http.StatusBadRequest, CodeValidationFailed, invalid.Message)
		for _, f := range invalid.Fields {
			apiErr.Details = append(apiErr.Details, FieldError{Field: f.Field, Rule: f.Rule, Message: f.Message})
		}
	case errors.Is(err, service.ErrApplicationNotFound):
		apiErr = newError(http.StatusNotFound, CodeApplicationNotFound, err.Error())
	case errors.Is(err, service.ErrNotFound):
		apiErr = newError(http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, service.ErrConflict):
		apiErr = newError(http.StatusConflict, CodeConflict, err.Error())
	case errors.Is(err, service.ErrInvalid):
		apiErr = newError(http.StatusBadRequest, CodeValidationFailed, err.Error())
	case errors.Is(err, service.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		apiErr = newError(http.StatusServiceUnavailable, CodeUnavailable, err.Error())
		var later *service.RetryLaterError
		if errors.As(err, &later) {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(later.RetryAfter.Seconds()))))
		}
	default:
		_ = c.Error(err)
		apiErr = newError(http.StatusInternalServerError, CodeInternal, "internal error")
	}
	c.AbortWithStatusJSON(apiErr.Status, gin.H{"error": apiErr})
}
