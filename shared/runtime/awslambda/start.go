// Package awslambda runs a gateway.Handler on AWS Lambda through
// aws-lambda-go's Runtime API client. Binaries are built with
// -tags lambda.norpc (provided.al2023 has no go1.x RPC host).
package awslambda

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

// Start serves invocations until the process ends; it does not return
// (aws-lambda-go exits the process when the Runtime API fails).
func Start(ctx context.Context, h gateway.Handler) {
	// Without -tags lambda.norpc, aws-lambda-go prefers its go1.x RPC mode
	// whenever _LAMBDA_SERVER_PORT is set. The caller chose the Runtime API.
	os.Unsetenv("_LAMBDA_SERVER_PORT")
	lambda.StartWithOptions(Handler(h), lambda.WithContext(ctx))
}

// Handler adapts h to aws-lambda-go's handler signature. It is exported so
// tests can drive it without a Runtime API.
func Handler(h gateway.Handler) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, payload json.RawMessage) (any, error) {
		info := invocation.Info{Platform: "lambda", MemoryLimitMB: lambdacontext.MemoryLimitInMB}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			info.RequestID = lc.AwsRequestID
		}
		out, err := dispatch.Handle(invocation.NewContext(ctx, info), h, payload)
		if err != nil {
			return nil, invokeError(err)
		}
		return json.RawMessage(out), nil
	}
}
