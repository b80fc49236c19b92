// Package scfgo1 runs a gateway.Handler under the Tencent SCF Go1 runtime:
// Go net/rpc with the gob codec on 0.0.0.0:$_LAMBDA_SERVER_PORT, service
// "Function", methods Ping and Invoke (scf-go-lib cloudfunction/entry.go,
// function.go; summarised in reference/scf-and-lambda-runtimes.md §1.1).
package scfgo1

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

// Function is the RPC service. Its exported method set is exactly Ping and
// Invoke: net/rpc registers every exported method it can and logs the rest.
type Function struct {
	base context.Context
	h    gateway.Handler
	log  *slog.Logger
}

// Ping answers the host's liveness probe.
func (f *Function) Ping(_ *PingRequest, _ *PingResponse) error { return nil }

// Invoke runs one invocation. It always returns nil: a failure is reported
// in resp.Error, as the host expects.
func (f *Function) Invoke(req *InvokeRequest, resp *InvokeResponse) error {
	defer func() {
		// dispatch already recovers handler panics; this catches the
		// adapter's own, and tells the host to replace the instance.
		if p := recover(); p != nil {
			f.log.Error("scf go1 adapter panic", "stack", string(debug.Stack()))
			*resp = InvokeResponse{Error: &InvokeResponse_Error{
				Type: "Internal", Message: "InternalError: internal error", ShouldExit: true,
			}}
		}
	}()
	if err := applyEnvironment(req.Environment); err != nil {
		resp.Error = &InvokeResponse_Error{Type: "Internal", Message: "InternalError: malformed invocation environment"}
		return nil
	}
	ctx, cancel := f.context(req)
	defer cancel()
	out, err := dispatch.Handle(ctx, f.h, req.Payload)
	if err != nil {
		fl := dispatch.FailureOf(err)
		f.log.Info("invocation failed", "request_id", req.RequestId, "error_type", fl.Type)
		resp.Error = &InvokeResponse_Error{Type: fl.Type, Message: fl.Message}
		return nil
	}
	resp.Payload = out
	return nil
}

// context carries the request's deadline; a zero Deadline means none.
func (f *Function) context(req *InvokeRequest) (context.Context, context.CancelFunc) {
	ctx := invocation.NewContext(f.base, invocation.Info{
		Platform: "scf-go1", RequestID: req.RequestId, MemoryLimitMB: int(req.MemoryLimitInMb),
	})
	if req.Deadline.Seconds != 0 || req.Deadline.Nanos != 0 {
		return context.WithDeadline(ctx, time.Unix(req.Deadline.Seconds, req.Deadline.Nanos))
	}
	return context.WithCancel(ctx)
}

// applyEnvironment sets the variables the host sends with every invoke, as
// scf-go-lib does. It matters: the role's temporary credentials
// (TENCENTCLOUD_SECRETID, _SECRETKEY, _SESSIONTOKEN) are refreshed this way
// on a long-lived instance. Values are never logged.
func applyEnvironment(raw string) error {
	if raw == "" {
		return nil
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		return err
	}
	for k, v := range env {
		if k == "" || os.Getenv(k) == v {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return nil
}
