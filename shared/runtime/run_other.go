//go:build !idv_lambda

package runtime

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/httpserver"
	"github.com/idverify/idverify/shared/runtime/scfcustom"
)

// LambdaOnly says whether this binary serves the Lambda Runtime API and
// nothing else (-tags idv_lambda).
const LambdaOnly = false

// The local server's defaults are the invoke's (a compile-time check).
const (
	_ = uint64(httpserver.DefaultMaxBody-DefaultMaxBody) + uint64(DefaultMaxBody-httpserver.DefaultMaxBody)
	_ = uint64(httpserver.DefaultHandlerTimeout-DefaultHandlerTimeout) + uint64(DefaultHandlerTimeout-httpserver.DefaultHandlerTimeout)
)

// serveOther serves h on every protocol but Lambda's.
func serveOther(ctx context.Context, mode Mode, h gateway.Handler, opts Options) error {
	log := opts.logger()
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
