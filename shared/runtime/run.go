// Package runtime starts a gateway.Handler on whatever platform the process
// finds itself on: AWS Lambda, Tencent SCF (Custom Runtime, Go1 RPC or Web
// function) or a local HTTP server. A function's main is one line:
// runtime.Main(handler, opts).
package runtime

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
)

// Run detects the platform (see Detect for the precedence) and serves h on
// it. It returns nil after SIGINT/SIGTERM or ctx cancellation once in-flight
// work is done, and an error when the platform protocol fails. In Lambda mode
// it never returns: aws-lambda-go owns the process.
func Run(ctx context.Context, h gateway.Handler, opts Options) error {
	mode, err := Detect(os.Getenv)
	if err != nil {
		return err
	}
	return RunMode(ctx, mode, h, opts)
}

// RunMode serves h with the given protocol, skipping detection.
func RunMode(ctx context.Context, mode Mode, h gateway.Handler, opts Options) error {
	log := opts.logger()
	ctx = dispatch.WithLogger(ctx, log)
	log.Info("runtime starting", "mode", string(mode))
	if mode == ModeLambda {
		return serveLambda(ctx, h)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveOther(ctx, mode, h, opts)
}
