// Package scfcustom runs a gateway.Handler as a Tencent SCF Custom Runtime
// event function. The protocol (cloud.tencent.com/document/product/583/47274)
// is HTTP against http://$SCF_RUNTIME_API:$SCF_RUNTIME_API_PORT with no
// version prefix: POST /runtime/init/ready once, then loop GET
// /runtime/invocation/next and POST /runtime/invocation/response or
// /runtime/invocation/error. Unlike Lambda, the request id is not in any URL:
// the platform runs one invocation at a time per instance.
package scfcustom

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
)

// Run announces readiness and serves invocations until ctx is done (then it
// returns nil after finishing the invocation in flight) or the runtime API
// fails persistently (then it returns the error, and the process should exit
// non-zero so SCF replaces the instance).
func Run(ctx context.Context, host, port string, h gateway.Handler, log *slog.Logger) error {
	c := newClient("http://" + net.JoinHostPort(host, port))
	if err := c.ready(ctx); err != nil {
		return fmt.Errorf("scf custom runtime: init/ready: %w", err)
	}
	failures := 0
	for ctx.Err() == nil {
		inv, err := c.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			if failures >= maxNextFailures {
				return fmt.Errorf("scf custom runtime: invocation/next: %w", err)
			}
			log.Warn("scf runtime API next failed; retrying", "attempt", failures, "err", err)
			sleep(ctx, time.Duration(failures)*100*time.Millisecond)
			continue
		}
		failures = 0
		if err := serveOne(ctx, c, inv, h, log); err != nil {
			return err
		}
	}
	return nil
}

// maxNextFailures bounds retries of a failing next: a short blip is
// survivable, a runtime API that is gone is not.
const maxNextFailures = 5

// postTimeout bounds posting a result to the local runtime API.
const postTimeout = 30 * time.Second

// serveOne runs one invocation under the platform's time limit and posts
// its result. The invocation does not inherit ctx's cancellation: a SIGTERM
// stops the loop after this invocation, never in its middle.
func serveOne(ctx context.Context, c *client, inv *event, h gateway.Handler, log *slog.Logger) error {
	ictx, cancel := inv.context(context.WithoutCancel(ctx))
	defer cancel()
	out, err := dispatch.Handle(ictx, h, inv.payload)
	// Posting must finish even when ctx was cancelled meanwhile, or the
	// platform would wait for this invocation until its time limit.
	pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
	defer pcancel()
	if err != nil {
		f := dispatch.FailureOf(err)
		log.Info("invocation failed", "request_id", inv.requestID, "error_type", f.Type)
		err = c.post(pctx, "/runtime/invocation/error", f.JSON())
	} else {
		err = c.post(pctx, "/runtime/invocation/response", out)
	}
	if err != nil {
		return fmt.Errorf("scf custom runtime: posting result: %w", err)
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
