package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/service"
)

// event is what one request leaves in the log: identifiers, classes and
// codes only. Bodies, headers and field values never reach it.
type event struct {
	surface   string
	action    string
	caller    string
	requestID string
	status    int
	source    service.Source
	code      string
	errClass  string
	errCode   string
	latency   time.Duration
	sandbox   bool // answered by the sandbox for a test caller
	replayed  bool
}

func (e event) failed(err error) event {
	x := errs.As(err)
	e.errClass, e.errCode = x.Kind.String(), x.Code
	return e
}

func (e event) done(o outcome) event {
	e.sandbox, e.replayed = o.sandbox, o.replayed
	if o.res != nil {
		e.source, e.code = o.res.Source, o.res.Code
	}
	return e
}

func (g *Gateway) log(ctx context.Context, e event) {
	level := slog.LevelInfo
	if e.errClass == errs.Internal.String() || e.errClass == errs.Unavailable.String() {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", e.requestID),
		slog.String("surface", e.surface),
		slog.String("action", loggable(e.action)),
		slog.String("mode", g.opts.Mode),
		slog.Float64("latency_ms", float64(e.latency.Microseconds())/1000),
	}
	if e.caller != "" {
		attrs = append(attrs, slog.String("caller", e.caller))
	}
	if e.status != 0 {
		attrs = append(attrs, slog.Int("status", e.status))
	}
	if e.source != "" {
		attrs = append(attrs, slog.String("source", string(e.source)))
	}
	if e.replayed {
		attrs = append(attrs, slog.Bool("replayed", true))
	}
	if e.sandbox && g.opts.Mode != "sandbox" {
		attrs = append(attrs, slog.Bool("test_caller", true))
	}
	if e.code != "" {
		attrs = append(attrs, slog.String("result_code", e.code))
	}
	if e.errClass != "" {
		attrs = append(attrs, slog.String("error_class", e.errClass), slog.String("error_code", e.errCode))
	}
	g.opts.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// loggable is the action name as logged: only names the registry knows, as
// anything else came from the caller (a path, a header) and may hold
// personal data someone put in the wrong place.
func loggable(action string) string {
	if action == "" {
		return ""
	}
	if _, ok := faceid.Lookup(action); ok {
		return action
	}
	return "(unknown)"
}
