package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// event is what one request leaves in the log: identifiers, classes and
// codes only. Bodies, headers and field values never reach it.
type event struct {
	contract  string
	surface   string
	action    string // set only to names a contract knows
	caller    string
	requestID string
	status    int
	code      string
	errClass  string
	errCode   string
	latency   time.Duration
	sandbox   bool
	replayed  bool
	notStored bool
}

func (e *event) fail(x *errs.Error) { e.errClass, e.errCode = x.Kind.String(), x.Code }

func (e *event) done(o outcome) {
	e.replayed, e.notStored = o.replayed, o.notStored
	if o.ans != nil {
		e.code, e.sandbox = o.ans.Code, o.ans.Sandbox
	}
}

func (p *Pipeline) log(ctx context.Context, e event) {
	level := slog.LevelInfo
	if e.errClass == errs.Internal.String() || e.errClass == errs.Unavailable.String() {
		level = slog.LevelError
	}
	if !p.opts.Logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("request_id", e.requestID),
		slog.String("surface", e.surface),
		slog.Float64("latency_ms", float64(e.latency.Microseconds())/1000),
	)
	if e.contract != "" {
		attrs = append(attrs, slog.String("provider", e.contract))
	}
	if e.action != "" {
		attrs = append(attrs, slog.String("action", e.action))
	}
	if e.caller != "" {
		attrs = append(attrs, slog.String("caller", e.caller))
	}
	if e.status != 0 {
		attrs = append(attrs, slog.Int("status", e.status))
	}
	if e.sandbox {
		attrs = append(attrs, slog.Bool("sandbox", true))
	}
	if e.replayed {
		attrs = append(attrs, slog.Bool("replayed", true))
	}
	if e.notStored {
		attrs = append(attrs, slog.Bool("idempotency_not_stored", true))
	}
	if e.code != "" {
		attrs = append(attrs, slog.String("result_code", e.code))
	}
	if e.errClass != "" {
		attrs = append(attrs, slog.String("error_class", e.errClass), slog.String("error_code", e.errCode))
	}
	p.opts.Logger.LogAttrs(ctx, level, "request", attrs...)
}
