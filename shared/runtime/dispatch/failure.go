package dispatch

import (
	"encoding/json"

	"github.com/idverify/idverify/shared/errs"
)

// Failure is the platform-neutral form of a failed direct invocation: Type is
// the stable kind name workflows match (Step Functions
// `ErrorEquals: ["Throttled"]`, ASW Retry/Catch), Message carries the
// provider-style code and the caller-safe message, e.g.
// "RequestLimitExceeded: too many requests". Internal details never appear.
type Failure struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

// FailureOf maps err (normally an *errs.Error) to its Failure.
func FailureOf(err error) Failure {
	e := errs.As(err)
	msg := e.Code
	if pm := e.PublicMessage(); pm != "" && pm != e.Code {
		msg += ": " + pm
	}
	return Failure{Type: e.Kind.String(), Message: msg}
}

// JSON is the Lambda-style error document {"errorType","errorMessage"},
// used where a platform takes a free-form error body (SCF Custom Runtime,
// local invoke) so every platform shows the same thing.
func (f Failure) JSON() []byte {
	b, _ := json.Marshal(f) // two strings: cannot fail
	return b
}
