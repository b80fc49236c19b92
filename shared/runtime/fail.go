package runtime

import (
	"context"
	"os"

	"github.com/idverify/idverify/shared/errs"
)

// Fail reports an initialisation failure (for example a secret that cannot
// be resolved: fail closed) and exits 1. On Lambda it is posted to the
// Runtime API's init/error, so the invoker sees the kind and message instead
// of a bare "Runtime exited"; SCF documents no init-error endpoint, so there
// (and locally) it is logged and the non-zero exit reports it. Only the
// error's kind, code and caller-safe message are logged: a
// ConfigurationError's message (it names the variable and the rule, never a
// value) with the variable in "field", and "internal error" for an
// Internal one (app.Serve prints the whole error to stderr first).
func Fail(err error, opts Options) {
	opts.logger().Error("initialisation failed", failAttrs(err)...)
	mode, _ := Detect(os.Getenv)
	if mode == ModeLambda {
		if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
			if rerr := reportLambdaInitError(context.Background(), api, err); rerr != nil {
				opts.logger().Error("reporting init error to the runtime API failed", "err", rerr)
			}
		}
	}
	os.Exit(1)
}

// failAttrs are the attributes of the "initialisation failed" line: the
// same kind and message an invoker sees (dispatch.FailureOf; on Lambda
// awslambda.ReportInitError posts them), split into their parts.
func failAttrs(err error) []any {
	e := errs.As(err)
	attrs := []any{"error_type", e.Kind.String(), "error_code", e.Code, "error", e.PublicMessage()}
	if f := errs.FieldOf(err); f != "" {
		attrs = append(attrs, "field", f)
	}
	return attrs
}
