//go:build idv_scf

package runtime

import (
	"context"
	"errors"

	"github.com/idverify/idverify/shared/gateway"
)

// serveLambda: an SCF build (-tags idv_scf) does not link aws-lambda-go.
func serveLambda(context.Context, gateway.Handler) error {
	return errors.New("runtime lambda: this binary was built for Tencent SCF (-tags idv_scf) and does not serve the Lambda Runtime API; " +
		"deploy the Lambda build (scripts/build.sh --platform lambda) or build without idv_scf")
}

// reportLambdaInitError: nothing to report to without the Lambda runtime.
func reportLambdaInitError(context.Context, string, error) error { return nil }
