package app

import (
	"context"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// UnknownHandler fails the start of a binary that serves several functions
// (functions/all) when the platform's handler names none of them: a typo
// in a deploy file must not silently serve every action.
func UnknownHandler(handler string) {
	serve(func(context.Context, *Env) (*gateway.Pipeline, string, error) {
		return nil, "", errs.Configf("_HANDLER",
			"the function's handler %q names no function of this binary: set it to the function's folder name under functions/ (for example id-card-verification), or to bootstrap to serve every action", handler)
	})
}
