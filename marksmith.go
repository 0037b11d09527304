// Package marksmith holds the domain types and service interfaces shared by
// the API, the web pages and storage. Adapters live in packages named for
// what they adapt: storage (GORM), api (Fiber), bank, variants and grader
// (the pure grading core).
package marksmith

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to one HTTP status: HTTPStatus.
const (
	ECONFLICT      = "conflict"      // the request conflicts with stored state
	EFORBIDDEN     = "forbidden"     // authenticated, but not allowed
	EINTERNAL      = "internal"      // a fault of ours; details are logged, never shown
	EINVALID       = "invalid"       // malformed request: bad JSON, bad parameter
	ENOTFOUND      = "not_found"     // no such thing, or not visible to the caller
	ETOOLARGE      = "too_large"     // request body over the limit
	ERATELIMIT     = "rate_limited"  // too many attempts, try later
	EUNAUTHORIZED  = "unauthorized"  // no or bad credentials
	EUNPROCESSABLE = "unprocessable" // well-formed but fails validation (e.g. a template with problems)
	EUNAVAILABLE   = "unavailable"   // not ready (database down, schema stale)
	EGONE          = "gone"          // closed: an exam window that has passed
)

// HTTPStatus is the one table from error code to HTTP status, shared by
// every front end that speaks HTTP; an unknown code is 500.
func HTTPStatus(code string) int {
	switch code {
	case EINVALID:
		return 400
	case EUNAUTHORIZED:
		return 401
	case EFORBIDDEN:
		return 403
	case ENOTFOUND:
		return 404
	case ECONFLICT:
		return 409
	case EGONE:
		return 410
	case ETOOLARGE:
		return 413
	case EUNPROCESSABLE:
		return 422
	case ERATELIMIT:
		return 429
	case EUNAVAILABLE:
		return 503
	default:
		return 500
	}
}

// Error is the one error type that crosses the boundary to users. Message is
// safe to show; Details carries structured specifics (validation problems,
// per-row errors).
type Error struct {
	Code    string
	Message string
	Details any
	// RetryAfter, for ERATELIMIT and EUNAVAILABLE, says when to try again.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("marksmith error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err's *Error, or a generic message for
// any other error so that internals never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
