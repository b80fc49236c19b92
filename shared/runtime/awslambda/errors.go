package awslambda

import (
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/idverify/idverify/shared/runtime/dispatch"
)

// invokeError controls the errorType Lambda reports. aws-lambda-go names an
// error after its Go type (reflect: "*errs.Error" would become "Error"),
// except that a messages.InvokeResponse_Error *value* is sent as it is
// (lambda/errors.go, lambdaErrorResponse). A pointer would not match that
// type assertion and would be reported as "InvokeResponse_Error", so the
// value is returned. Step Functions then sees Error = kind name
// ("Throttled") and Cause = {"errorMessage": "<Code>: <message>", ...}.
func invokeError(err error) error {
	f := dispatch.FailureOf(err)
	return messages.InvokeResponse_Error{Type: f.Type, Message: f.Message}
}
