// Package httpserver serves a gateway.Handler over plain HTTP: the local
// development server and the SCF Web function (whose built-in proxy forwards
// requests to port 9000). Requests become gateway.Request, with a body limit
// and bounded server timeouts.
package httpserver

import (
	"log/slog"
	"net"
	"time"
)

// Config configures Serve. Zero values take the defaults below.
type Config struct {
	Addr       string // listen address, e.g. ":8080" or "0.0.0.0:9000"
	Platform   string // invocation.Info.Platform for requests: "local" or "scf-web"
	MaxBody    int64  // request body limit in bytes; larger bodies get 413
	TrustProxy bool   // take the client address from X-Forwarded-For (last entry)

	// HandlerTimeout is the context deadline of each request.
	HandlerTimeout time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish after ctx is done; after it, connections are closed.
	ShutdownTimeout time.Duration

	Logger *slog.Logger
	// Listening is called once the listener is open, with its address
	// (useful when Addr has port 0).
	Listening func(net.Addr)
}

// Defaults.
const (
	DefaultMaxBody         = 16 << 20
	DefaultHandlerTimeout  = 60 * time.Second
	DefaultShutdownTimeout = 10 * time.Second

	// readHeaderTimeout stops slow-header clients holding connections.
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 1 << 20
)

func (c Config) withDefaults() Config {
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = DefaultHandlerTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
