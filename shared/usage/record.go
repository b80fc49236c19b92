package usage

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Metrics receive every count as it happens.
type Metrics interface {
	Count(k Key)
}

// Recorder is the interceptor that counts every answer. It should be the
// outermost, so refusals by the limits inside it are counted (as free).
type Recorder struct {
	store   Store
	metrics Metrics
	log     *slog.Logger
	now     func() time.Time
}

// NewRecorder counts into store and metrics (nil: none).
func NewRecorder(store Store, metrics Metrics, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{store: store, metrics: metrics, log: log, now: time.Now}
}

// Intercept implements gateway.Interceptor. A replayed idempotent answer
// never gets here (the pipeline replays it outside the interceptors), so a
// retry is not counted twice; control operations (resuming a job, the
// report itself) are not calls and are not counted.
func (r *Recorder) Intercept(ctx context.Context, c gateway.Contract, call *gateway.Call, next gateway.CallFunc) (*gateway.Answer, error) {
	ans, err := next(ctx, call)
	if call.Op.Control || call.Op.Action == "" {
		return ans, err
	}
	class, code := billing.Classify(c.Name(), call.Op.Action, ans, err)
	mode := "live"
	if c.Mode() == "sandbox" || (ans != nil && ans.Sandbox) || (call.Caller != nil && call.Caller.Test) {
		mode = "sandbox"
	}
	caller := ""
	if call.Caller != nil {
		caller = call.Caller.ID
	}
	k := Key{Caller: caller, Action: call.Op.Action, Mode: mode, Class: class.String(), Code: clean(code)}
	// Counted even when the caller has gone: the provider may have billed.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if serr := r.store.Add(sctx, DayOf(r.now()), k, 1); serr != nil {
		r.log.Warn("usage store unavailable; this answer is not counted", slog.String("action", k.Action), slog.String("error_class", errs.KindOf(serr).String()))
	}
	if r.metrics != nil {
		r.metrics.Count(k)
	}
	return ans, err
}

// EMF writes one CloudWatch Embedded Metric Format line per count to w
// (a Lambda's stdout): CloudWatch turns it into the metrics calls,
// charged, free and uncertain in namespace, by caller, action and mode,
// with no agent and no API call.
func EMF(w io.Writer, namespace string) Metrics {
	return &emf{w: w, ns: namespace, now: time.Now}
}

type emf struct {
	mu  sync.Mutex
	w   io.Writer
	ns  string
	now func() time.Time
}

// Count writes {"_aws":{"Timestamp":...,"CloudWatchMetrics":[{"Namespace":
// ns,"Dimensions":[["caller","action","mode"]],"Metrics":[calls, charged,
// free, uncertain as Count]}]}, then the counts' fields}. The line is
// appended by hand: encoding/json would build reflection encoders for five
// types on the first answer of every cold start, for a fixed shape.
func (e *emf) Count(k Key) {
	c := countsOf(k)
	b := make([]byte, 0, 384)
	b = append(b, `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, e.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[{"Namespace":`...)
	b = appendJSONString(b, e.ns)
	b = append(b, `,"Dimensions":[["caller","action","mode"]],"Metrics":[`+
		`{"Name":"calls","Unit":"Count"},{"Name":"charged","Unit":"Count"},`+
		`{"Name":"free","Unit":"Count"},{"Name":"uncertain","Unit":"Count"}]}]}`...)
	for _, f := range [...]struct {
		name, value string
	}{{"caller", c.Caller}, {"action", c.Action}, {"mode", c.Mode}, {"code", c.Code}} {
		b = append(b, `,"`+f.name+`":`...)
		b = appendJSONString(b, f.value)
	}
	for _, f := range [...]struct {
		name string
		n    int
	}{{"calls", c.Calls}, {"charged", c.Charged}, {"free", c.Free}, {"uncertain", c.Uncertain}} {
		b = append(b, `,"`+f.name+`":`...)
		b = strconv.AppendInt(b, int64(f.n), 10)
	}
	b = append(b, "}\n"...)
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(b)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (as
// encoding/json does), everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// counts are one answer's counters as fields.
type counts struct {
	Caller    string `json:"caller"`
	Action    string `json:"action"`
	Mode      string `json:"mode"`
	Code      string `json:"code"`
	Calls     int    `json:"calls"`
	Charged   int    `json:"charged"`
	Free      int    `json:"free"`
	Uncertain int    `json:"uncertain"`
}

func countsOf(k Key) counts {
	c := counts{Caller: k.Caller, Action: k.Action, Mode: k.Mode, Code: k.Code, Calls: 1}
	switch k.Class {
	case billing.Charged.String():
		c.Charged = 1
	case billing.Uncertain.String():
		c.Uncertain = 1
	default:
		c.Free = 1
	}
	return c
}

// LogFields logs one "usage" line per count with the same fields as JSON
// log fields (SCF: CLS indexes and charts them).
func LogFields(log *slog.Logger) Metrics { return logFields{log} }

type logFields struct{ log *slog.Logger }

func (l logFields) Count(k Key) {
	c := countsOf(k)
	l.log.Info("usage", slog.String("caller", c.Caller), slog.String("action", c.Action), slog.String("mode", c.Mode),
		slog.String("code", c.Code), slog.Int("calls", c.Calls), slog.Int("charged", c.Charged), slog.Int("free", c.Free), slog.Int("uncertain", c.Uncertain))
}
