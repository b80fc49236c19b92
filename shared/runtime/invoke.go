package runtime

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

// DefaultMaxBody is the default of Options.MaxBody: HTTP request bodies
// (local and web) and stdin for invoke. It is httpserver's default, kept
// here so a Lambda build, which links no HTTP server, has it too.
const DefaultMaxBody = 16 << 20

// DefaultHandlerTimeout is the default of Options.HandlerTimeout, as
// httpserver's.
const DefaultHandlerTimeout = 60 * time.Second

// Exit statuses of Invoke.
const (
	ExitOK     = 0 // a response was printed (for an HTTP event, whatever its status)
	ExitFailed = 1 // a direct invocation failed; the error document was printed
	ExitUsage  = 2 // the event could not be read
)

// Invoke runs one event read from in through the same decoding the platforms
// use and writes the platform-shaped response to out: for an HTTP event the
// platform's response JSON, for a direct invocation the handler's output, or
// on failure the Lambda-style {"errorType","errorMessage"} document. It
// returns the process exit status. This is `<binary> invoke < events/x.json`.
func Invoke(ctx context.Context, h gateway.Handler, in io.Reader, out io.Writer, opts Options) int {
	log := opts.logger()
	limit := opts.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	payload, err := io.ReadAll(io.LimitReader(in, limit+1))
	if err != nil {
		log.Error("invoke: reading event", "err", err)
		return ExitUsage
	}
	if int64(len(payload)) > limit {
		log.Error("invoke: event too large", "limit", limit)
		return ExitUsage
	}
	timeout := opts.HandlerTimeout
	if timeout <= 0 {
		timeout = DefaultHandlerTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = dispatch.WithLogger(ctx, log)
	ctx = invocation.NewContext(ctx, invocation.Info{Platform: "invoke", RequestID: dispatch.NewRequestID()})

	resp, err := dispatch.Handle(ctx, h, payload)
	status := ExitOK
	if err != nil {
		resp, status = dispatch.FailureOf(err).JSON(), ExitFailed
	}
	if _, err := fmt.Fprintf(out, "%s\n", resp); err != nil {
		return ExitUsage
	}
	return status
}
