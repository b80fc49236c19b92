//go:build !idv_scf

package runtime

import (
	"context"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/awslambda"
)

// serveLambda serves h through the Lambda Runtime API (aws-lambda-go). It
// never returns: aws-lambda-go owns the process.
func serveLambda(ctx context.Context, h gateway.Handler) error {
	awslambda.Start(ctx, h)
	return nil // not reached
}

// reportLambdaInitError posts err to the Runtime API's init/error.
func reportLambdaInitError(ctx context.Context, api string, err error) error {
	return awslambda.ReportInitError(ctx, api, err)
}
