// Package runtime starts a gateway.Handler on whatever platform the process
// finds itself on: AWS Lambda, Tencent SCF (Custom Runtime, Go1 RPC or Web
// function) or a local HTTP server. A function's main is one line:
// runtime.Main(handler, opts).
package runtime

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/awslambda"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/runtime/httpserver"
	"github.com/idverify/idverify/shared/runtime/scfcustom"
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
		awslambda.Start(ctx, h)
		return nil // not reached
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch mode {
	case ModeSCFCustom:
		return scfcustom.Run(ctx, os.Getenv("SCF_RUNTIME_API"), os.Getenv("SCF_RUNTIME_API_PORT"), h, log)
	case ModeSCFGo1:
		return serveGo1(ctx, h, log)
	case ModeSCFWeb:
		return httpserver.Serve(ctx, h, httpConfig(opts, ModeSCFWeb, webAddr(), nil))
	case ModeLocal:
		return httpserver.Serve(ctx, h, httpConfig(opts, ModeLocal, localAddr(opts), func(a net.Addr) {
			if opts.Banner != "" {
				fmt.Fprintln(os.Stderr, opts.Banner)
			}
			fmt.Fprintf(os.Stderr, "listening on http://%s\n", displayAddr(a))
		}))
	}
	return fmt.Errorf("unknown runtime mode %q", mode)
}

func httpConfig(opts Options, mode Mode, addr string, listening func(net.Addr)) httpserver.Config {
	return httpserver.Config{
		Addr:            addr,
		Platform:        string(mode),
		MaxBody:         opts.MaxBody,
		TrustProxy:      opts.TrustProxy,
		HandlerTimeout:  opts.HandlerTimeout,
		ShutdownTimeout: opts.ShutdownTimeout,
		Logger:          opts.logger(),
		Listening:       listening,
	}
}

// webAddr is where an SCF Web function must listen: 0.0.0.0:9000, fixed by
// the platform. IDV_WEB_PORT overrides the port for tests only.
func webAddr() string {
	port := os.Getenv("IDV_WEB_PORT")
	if port == "" {
		port = "9000"
	}
	return net.JoinHostPort("0.0.0.0", port)
}

func localAddr(opts Options) string {
	if opts.Addr != "" {
		return opts.Addr
	}
	if p := os.Getenv("PORT"); p != "" {
		return ":" + p
	}
	return ":8080"
}

// displayAddr makes a wildcard listen address clickable.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}
