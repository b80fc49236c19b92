package httpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
)

// Serve listens on cfg.Addr and serves h until ctx is done. It then stops
// accepting, lets in-flight requests finish within cfg.ShutdownTimeout,
// closes whatever is left and returns nil. It returns an error only when
// the listener cannot be opened or fails.
func Serve(ctx context.Context, h gateway.Handler, cfg Config) error {
	cfg = cfg.withDefaults()
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           NewHandler(h, cfg),
		ReadHeaderTimeout: readHeaderTimeout,
		// A 16 MiB body over a slow link needs time, but not forever.
		ReadTimeout:    cfg.HandlerTimeout,
		WriteTimeout:   readHeaderTimeout + 2*cfg.HandlerTimeout,
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		// Handlers see a context that is not cancelled by shutdown: a
		// SIGTERM must let in-flight requests finish.
		BaseContext: func(net.Listener) context.Context {
			return dispatch.WithLogger(context.WithoutCancel(ctx), cfg.Logger)
		},
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	if cfg.Listening != nil {
		cfg.Listening(lis.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		cfg.Logger.Warn("shutdown timed out; closing remaining connections", "timeout", cfg.ShutdownTimeout.String())
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
