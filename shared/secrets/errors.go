package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Class says why a secret could not be resolved. The values are stable:
// they appear in logs, in `idvsecrets check` output and in alerts.
type Class string

const (
	NotFound      Class = "not_found"         // the key, secret, parameter or version does not exist
	AccessDenied  Class = "access_denied"     // IAM/CAM refused, bad or expired credentials, key disabled
	Timeout       Class = "timeout"           // no answer within the bound
	Malformed     Class = "malformed"         // bad reference syntax, ciphertext or encryption context, missing JSON key
	NotCompiled   Class = "not_compiled"      // the backend was left out of this binary by a build tag
	Plaintext     Class = "plaintext_refused" // a plain value where production requires a reference
	Misconfigured Class = "misconfigured"     // no region, no credentials, bad endpoint or duration setting
	Unavailable   Class = "unavailable"       // network error, throttling, 5xx
	Expired       Class = "expired"           // refresh kept failing past the maximum age
)

// Error is why one variable has no value. Its text names the variable, the
// reference kind and the class, never the value; Err (the cause) is kept
// for errors.Is/As but not printed, because SDK errors can quote response
// bodies, and a response body can hold the plaintext.
type Error struct {
	Var    string // environment variable name
	Scheme string // reference scheme, "" for a plain value
	Class  Class
	Code   string // the service's error code, e.g. AccessDeniedException
	// RequestID is the service's request id, for a support ticket.
	RequestID string
	Detail    string // a safe explanation
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("secret")
	if e.Var != "" {
		b.WriteString(" " + e.Var)
	}
	if e.Scheme != "" {
		b.WriteString(" (" + e.Scheme + ")")
	}
	b.WriteString(": " + string(e.Class))
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Code != "" || e.RequestID != "" {
		b.WriteString(" [")
		b.WriteString(e.Code)
		if e.RequestID != "" {
			if e.Code != "" {
				b.WriteString(" ")
			}
			b.WriteString("request " + e.RequestID)
		}
		b.WriteString("]")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Fail builds the error a backend returns. The detail must be safe to
// print: never a value, never a response body.
func Fail(class Class, code, format string, args ...any) *Error {
	return &Error{Class: class, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// WithCause sets the cause and returns e, for chaining.
func (e *Error) WithCause(err error) *Error { e.Err = err; return e }

// LoadError lists every variable that could not be resolved, so an
// operator fixes them all in one deployment instead of one per cold start.
type LoadError struct {
	Errors []*Error // sorted by variable name
}

func (e *LoadError) Error() string {
	if len(e.Errors) == 1 {
		return e.Errors[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d secrets could not be resolved:", len(e.Errors))
	for _, x := range e.Errors {
		b.WriteString("\n  " + x.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find each *Error.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, x := range e.Errors {
		out[i] = x
	}
	return out
}

// classify turns whatever a backend returned into an *Error for name. A
// context that ran out wins over the backend's own reading of the failure:
// a cancelled HTTP call looks like a network error to most SDKs.
func classify(ctx context.Context, name, scheme string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		e = &c
	} else {
		e = &Error{Class: Unavailable, Detail: "the backend failed", Err: err}
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) || (ctx.Err() != nil && e.Class == Unavailable)
	if timedOut {
		if e.Class != Timeout {
			e = &Error{Class: Timeout, Detail: "no answer in time", Code: e.Code, RequestID: e.RequestID, Err: err}
		}
	}
	e.Var, e.Scheme = name, scheme
	return e
}
