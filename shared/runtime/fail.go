package runtime

import (
	"context"
	"os"

	"github.com/idverify/idverify/shared/runtime/awslambda"
	"github.com/idverify/idverify/shared/runtime/dispatch"
)

// Fail reports an initialisation failure (for example a secret that cannot
// be resolved: fail closed) and exits 1. On Lambda it is posted to the
// Runtime API's init/error, so the invoker sees the kind and message instead
// of a bare "Runtime exited"; SCF documents no init-error endpoint, so there
// (and locally) it is logged and the non-zero exit reports it. Only the
// error's kind and caller-safe message are logged.
func Fail(err error, opts Options) {
	f := dispatch.FailureOf(err)
	opts.logger().Error("initialisation failed", "error_type", f.Type, "error", f.Message)
	mode, _ := Detect(os.Getenv)
	if mode == ModeLambda {
		if api := os.Getenv("AWS_LAMBDA_RUNTIME_API"); api != "" {
			if rerr := awslambda.ReportInitError(context.Background(), api, err); rerr != nil {
				opts.logger().Error("reporting init error to the runtime API failed", "err", rerr)
			}
		}
	}
	os.Exit(1)
}
