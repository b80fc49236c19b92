package runtime

import (
	"log/slog"
	"time"
)

// Options configures Run, Main and Invoke. The zero value is usable.
type Options struct {
	// Banner is printed to stderr when the local server starts (only in
	// local mode: platforms' logs are not the place for it).
	Banner string
	// Addr is the local server's listen address. Default ":$PORT", or
	// ":8080" when PORT is unset.
	Addr string
	// MaxBody limits HTTP request bodies (local and web) and stdin for
	// invoke. Default 16 MiB; the platforms themselves stop at 6 MB.
	MaxBody int64
	// TrustProxy takes the client address of local and web requests from
	// the last X-Forwarded-For entry instead of the TCP peer. Set it only
	// behind a proxy that appends that header.
	TrustProxy bool
	// HandlerTimeout is the deadline of each local/web request and of a
	// local invoke (platform invocations use the platform's). Default 60s.
	HandlerTimeout time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests after SIGINT
	// or SIGTERM. Default 10s.
	ShutdownTimeout time.Duration
	// Logger receives the runtime's own logs (ids, kinds, classes; never
	// bodies or header values). Default slog.Default().
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}
