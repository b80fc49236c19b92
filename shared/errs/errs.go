// Package errs is the one error type of idverify. Its Kind decides the HTTP
// status, the workflow error type name and whether a retry is safe; its Code is
// the Tencent-style code callers already know (InvalidParameterValue,
// AuthFailure.SignatureFailure, FailedOperation.CompareLowSimilarity...).
package errs

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error. The zero value is Internal so that an
// unclassified error is never mistaken for a caller mistake.
type Kind uint8

const (
	Internal     Kind = iota // a bug or an unexpected state; details are never shown
	Invalid                  // the caller's input is wrong; retrying the same input cannot help
	Unauthorized             // missing or bad credentials
	Forbidden                // valid credentials, action not allowed
	NotFound                 // unknown action or route
	Throttled                // a rate limit; retry later with backoff
	Unavailable              // the provider could not be reached or answered 5xx/timeout
	Provider                 // the provider answered with a business error (Response.Error)
	Conflict                 // a concurrent duplicate (idempotency key in progress)
	// Config is a deployment whose configuration is wrong: met at start,
	// fixed only by changing a variable. Its message names the variable and
	// the rule, never a value, and is shown. Kinds are stored by number
	// (idempotency records), so a new kind goes last.
	Config
)

var kindNames = [...]string{
	Internal:     "Internal",
	Invalid:      "InvalidInput",
	Unauthorized: "Unauthorized",
	Forbidden:    "Forbidden",
	NotFound:     "NotFound",
	Throttled:    "Throttled",
	Unavailable:  "UpstreamUnavailable",
	Provider:     "ProviderError",
	Conflict:     "Conflict",
	Config:       "ConfigurationError",
}

// String is the stable type name that workflows (Step Functions, ASW) match
// in Retry and Catch clauses. Never rename one.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Internal"
}

// Kinds lists every kind, for documentation and tests.
func Kinds() []Kind {
	return []Kind{Internal, Invalid, Unauthorized, Forbidden, NotFound, Throttled, Unavailable, Provider, Conflict, Config}
}

// HTTPStatus is the status of the /v1 surface for this kind.
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Throttled:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusBadGateway
	case Provider:
		return http.StatusUnprocessableEntity
	case Conflict:
		return http.StatusConflict
	default:
		return http.StatusInternalServerError
	}
}

// Error is the error type every package returns across a package boundary.
type Error struct {
	Kind    Kind
	Code    string // Tencent-style code, e.g. "InvalidParameterValue"
	Message string // safe to show to the caller: never PII, never a key
	// RequestID is the upstream request id when the provider answered.
	RequestID string
	// Field names the configuration variable at fault (IDV_MODE,
	// IDV_CALLERS...), for the structured log: a name, never a value.
	Field string
	Err   error // the cause; logged by class only, never shown
}

// E builds an Error. A Code left empty is filled from the kind.
func E(kind Kind, code, format string, args ...any) *Error {
	if code == "" {
		code = defaultCode(kind)
	}
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error that keeps cause for errors.Is/As.
func Wrap(cause error, kind Kind, code, format string, args ...any) *Error {
	e := E(kind, code, format, args...)
	e.Err = cause
	return e
}

// Configf builds a configuration error about the variable field. The
// message must name variables and rules only, never a value: it is logged
// and shown as it is.
func Configf(field, format string, args ...any) *Error {
	e := E(Config, "", format, args...)
	e.Field = field
	return e
}

// Configure classifies err, met while reading the variable field, as a
// configuration error. An *Error of any kind but Internal found in err's
// chain (a Config error, or an unreachable store's Unavailable) is kept
// as it is, with Field set to field when it had none. Anything else
// becomes a Config error whose message is err's text (an Internal *Error's
// message), so use it only where that text is known to name no value.
// Configure(nil, ...) is nil.
func Configure(err error, field string) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		if e.Field != "" || field == "" {
			return e
		}
		c := *e
		c.Field = field
		return &c
	}
	c := &Error{Kind: Config, Code: defaultCode(Config), Message: err.Error(), Field: field, Err: err}
	if e != nil {
		c.Message = e.Message
		if e.Code != "" && e.Code != defaultCode(Internal) {
			c.Code = e.Code
		}
		if c.Field == "" {
			c.Field = e.Field
		}
	}
	return c
}

// FieldOf is the first Field set along err's chain ("" when none), so a
// wrapper such as "faceprint: ..." keeps the variable its cause named.
func FieldOf(err error) string {
	switch x := err.(type) {
	case nil:
		return ""
	case *Error:
		if x.Field != "" {
			return x.Field
		}
	case interface{ Unwrap() []error }:
		for _, c := range x.Unwrap() {
			if f := FieldOf(c); f != "" {
				return f
			}
		}
		return ""
	}
	return FieldOf(errors.Unwrap(err))
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// PublicMessage is what a caller sees: internal errors are shown only as
// "internal error" so nothing about the implementation leaks. Every other
// kind, Config included, shows its message.
func (e *Error) PublicMessage() string {
	if e.Kind == Internal {
		return "internal error"
	}
	return e.Message
}

// As returns err as an *Error, wrapping an unclassified error as Internal.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: Internal, Code: "InternalError", Message: "internal error", Err: err}
}

// KindOf is the kind of err, Internal when it is not an *Error.
func KindOf(err error) Kind {
	if err == nil {
		return Internal // no error has no kind; callers check err first
	}
	return As(err).Kind
}

func defaultCode(k Kind) string {
	switch k {
	case Invalid:
		return "InvalidParameter"
	case Unauthorized:
		return "AuthFailure"
	case Forbidden:
		return "AuthFailure.UnauthorizedOperation"
	case NotFound:
		return "InvalidAction"
	case Throttled:
		return "RequestLimitExceeded"
	case Unavailable:
		return "InternalError.UpstreamUnavailable"
	case Provider:
		return "FailedOperation"
	case Conflict:
		return "FailedOperation.RequestInProgress"
	case Config:
		return "InvalidConfiguration"
	default:
		return "InternalError"
	}
}
