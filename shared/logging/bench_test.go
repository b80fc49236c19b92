package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRequestLine is the pipeline's one line per request.
func BenchmarkRequestLine(b *testing.B) {
	l := New(io.Discard, slog.LevelInfo)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("request_id", "33010619-8509-1756-3aaa-bbbbbbbbbbbb"),
			slog.String("surface", "faceid"),
			slog.Float64("latency_ms", float64((1234*time.Microsecond).Microseconds())/1000),
			slog.String("provider", "faceid"),
			slog.String("action", "IdCardVerification"),
			slog.String("caller", "bench"),
			slog.Int("status", 200),
			slog.String("result_code", "0"),
		)
	}
}
