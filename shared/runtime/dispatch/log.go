package dispatch

import (
	"context"
	"fmt"
	"log/slog"
)

type loggerKey struct{}

// WithLogger makes the runtime log through l for calls under ctx. Runtime
// logs carry only ids, kinds and classes, never bodies or header values.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
