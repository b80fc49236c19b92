//go:build idv_lambda

package runtime

import (
	"context"
	"fmt"

	"github.com/idverify/idverify/shared/gateway"
)

// LambdaOnly says whether this binary serves the Lambda Runtime API and
// nothing else (-tags idv_lambda).
//
// A Lambda build links neither the HTTP server (SCF Web functions, the
// local server) nor the SCF Custom Runtime client: together about 0.45 MB
// of every function that could never use them there. API Gateway, ALB,
// Function URL events and direct invocations all come through the Runtime
// API; `<binary> invoke < event.json` still runs one event locally.
const LambdaOnly = true

func serveOther(_ context.Context, mode Mode, _ gateway.Handler, _ Options) error {
	return fmt.Errorf("runtime %s: this binary was built for AWS Lambda (-tags idv_lambda) and serves only the Lambda Runtime API "+
		"(AWS_LAMBDA_RUNTIME_API); run `go run ./functions/<name>` or `go run ./functions/all` for a local server, "+
		"or build without idv_lambda", mode)
}
