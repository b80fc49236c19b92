package dispatch

import (
	"context"
	"net/http"
	"runtime/debug"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Serve calls h.ServeRequest and turns a panic into a 500, so one bad
// request never takes down an instance that is serving others. A nil
// response (a Handler bug) is a 500 too.
func Serve(ctx context.Context, h gateway.Handler, req *gateway.Request) (resp *gateway.Response) {
	defer func() {
		if p := recover(); p != nil {
			logPanic(ctx, p)
			resp = ErrorResponse(http.StatusInternalServerError, "InternalError", "internal error", req.RequestID)
		}
	}()
	resp = h.ServeRequest(ctx, req)
	if resp == nil {
		resp = ErrorResponse(http.StatusInternalServerError, "InternalError", "internal error", req.RequestID)
	}
	return resp
}

// Invoke calls h.Invoke and normalises its error to *errs.Error; a panic
// becomes an Internal error, so a workflow sees "Internal" rather than a
// platform-specific crash report.
func Invoke(ctx context.Context, h gateway.Handler, payload []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			logPanic(ctx, p)
			out, err = nil, errs.E(errs.Internal, "InternalError", "internal error")
		}
	}()
	out, err = h.Invoke(ctx, payload)
	if err != nil {
		return nil, errs.As(err)
	}
	return out, nil
}

// logPanic records where the panic happened but not its value: the value
// may be built from request data, and logs must never carry PII.
func logPanic(ctx context.Context, p any) {
	logger(ctx).Error("handler panic", "panic_type", typeName(p), "stack", string(debug.Stack()))
}
