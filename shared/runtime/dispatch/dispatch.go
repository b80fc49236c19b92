// Package dispatch runs one platform payload through a gateway.Handler: an
// HTTP-shaped event goes to ServeRequest and comes back in the same
// platform's response shape; anything else is a direct invocation and goes to
// Invoke (an SCF timer event's argument, unwrapped, is one). Every runtime
// protocol (Lambda, SCF Custom Runtime, SCF Go1 RPC, local invoke) calls
// Handle, so they all decode events identically.
package dispatch

import (
	"context"
	"net/http"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/event"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

// Handle answers payload. The error is non-nil only for a failed direct
// invocation, and is then always an *errs.Error: an HTTP event always gets a
// platform-shaped response, with the error in its status and body.
func Handle(ctx context.Context, h gateway.Handler, payload []byte) ([]byte, error) {
	req, kind, ok, err := event.FromEvent(payload)
	if !ok {
		// An SCF timer stands for the direct invocation in its argument
		// (a schedule such as {"Action":"flows/sweep"}).
		direct, timer, err := event.TimerPayload(payload)
		if timer {
			if err != nil {
				logger(ctx).Warn("timer event refused", "error_class", errs.KindOf(err).String())
				return nil, errs.As(err)
			}
			payload = direct
		}
		return Invoke(ctx, h, payload)
	}
	var resp *gateway.Response
	if err != nil {
		// The platform produced a broken event; there is no request to
		// route, but the platform still expects its response shape.
		resp = ErrorResponse(http.StatusBadRequest, "InvalidParameter", "malformed platform event", requestID(ctx, ""))
		logger(ctx).Warn("malformed event", "kind", kind.String())
	} else {
		req.RequestID = requestID(ctx, req.RequestID)
		resp = Serve(ctx, h, req)
	}
	out, err := event.ToResponse(kind, resp)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "internal error")
	}
	return out, nil
}

// requestID prefers the id the event carried, then the invocation's, and
// generates one last, so the gateway always has an id to log and echo.
func requestID(ctx context.Context, fromEvent string) string {
	if fromEvent != "" {
		return fromEvent
	}
	if id := invocation.FromContext(ctx).RequestID; id != "" {
		return id
	}
	return NewRequestID()
}
