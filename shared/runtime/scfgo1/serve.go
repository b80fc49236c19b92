package scfgo1

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/rpc"
	"time"

	"github.com/idverify/idverify/shared/gateway"
)

// Listen opens the port the host dials. It binds 0.0.0.0 as scf-go-lib does
// since 2023 (before, localhost); the host connects from outside the
// function's network namespace.
func Listen(port string) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("0.0.0.0", port))
}

// Serve answers RPC connections on lis until ctx is done, then closes lis
// and returns nil. Calls already running finish on their own connection.
func Serve(ctx context.Context, lis net.Listener, h gateway.Handler, log *slog.Logger) error {
	srv := rpc.NewServer()
	// RegisterName, not Register: the service name is protocol, the Go type
	// name is not.
	if err := srv.RegisterName("Function", &Function{base: context.WithoutCancel(ctx), h: h, log: log}); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { lis.Close() })
	defer stop()
	var backoff time.Duration
	for {
		conn, err := lis.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: wait and retry, as
			// net/http does, rather than end the function.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			log.Warn("scf go1 accept failed; retrying", "err", err, "backoff", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go srv.ServeConn(conn)
	}
}
