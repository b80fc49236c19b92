package faceadv

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// The seed-002 pair as a contract of the request pipeline (shared/gateway):
// its two routes, decoding, validation and the call (handler.go), and the
// envelope {"errcode","data","errmsg"}, answered with HTTP 200 whatever the
// errcode, as the service the seed documents does. Caller auth, rate limits,
// idempotency, traceNo/orderNo ownership, request ids and logs are the
// pipeline's.
var (
	_ gateway.Contract     = (*Handler)(nil)
	_ gateway.Describer    = (*Handler)(nil)
	_ gateway.Sandboxed    = (*Handler)(nil)
	_ gateway.PublicTokens = (*Handler)(nil)
)

// PublicToken implements gateway.PublicTokens: in a sandbox deployment the
// documented sandbox orderNos (SBX<userId><outcome>, see Scenarios) were
// created by nobody and read by anyone, like the magic values they are.
func (h *Handler) PublicToken(kind, value string) bool {
	return h.live == nil && kind == kindOrder && strings.HasPrefix(value, "SBX")
}

// Flow tokens: a traceNo (async job) and an orderNo answer only the caller
// whose faceAdv created them.
const (
	kindTrace = "faceAdv/traceNo"
	kindOrder = "faceAdv/orderNo"
)

// Name implements gateway.Contract.
func (h *Handler) Name() string { return "faceAdv" }

// Route implements gateway.Contract.
func (h *Handler) Route(req *gateway.Request) (gateway.Op, bool) {
	action, ok := routes[req.Path]
	if !ok {
		return gateway.Op{}, false
	}
	op := h.op(action)
	if op.Err == nil && req.Method != http.MethodPost {
		op.Err = errs.E(errs.NotFound, "FaceAdv.40400", "%s is not allowed: use POST", truncate(gateway.HeaderSafe(req.Method), 16))
	}
	return op, true
}

// RouteInvoke implements gateway.Contract. Besides the two endpoints it
// takes {"resumeJob": traceNo} and {"resumeOpen": true}, which drive async
// jobs (a Lambda self-invocation, a schedule).
func (h *Handler) RouteInvoke(action string, m map[string]json.RawMessage) (gateway.Op, bool) {
	if action != "" && action != ActionAdv && action != ActionResult {
		return gateway.Op{}, false
	}
	_, resume := m["resumeJob"]
	_, open := m["resumeOpen"]
	if resume || open {
		return gateway.Op{Action: ActionAdv, Surface: "invoke", Control: true, JSON: gateway.NoBody}, true
	}
	if action == "" {
		action = h.only
	}
	if action == "" {
		return gateway.Op{Surface: "invoke", Err: errs.E(errs.Invalid, "FaceAdv.40002",
			"this function serves faceAdv and faceAdvResult: add an \"Action\" member")}, true
	}
	op := h.op(action)
	op.Surface = "invoke"
	return op, true
}

func (h *Handler) op(action string) gateway.Op {
	op := gateway.Op{Action: action, Surface: action, MaxBody: maxBody}
	if !h.served[action] {
		op.Err = errs.E(errs.NotFound, "FaceAdv.40400", "%s is not served by this function", action)
		return op
	}
	if action == ActionAdv {
		op.Produces = []gateway.TokenField{{Path: "data.traceNo", Kind: kindTrace}, {Path: "data.result.orderNo", Kind: kindOrder}}
	} else {
		op.MaxBody = 64 << 10
		op.Consumes = []gateway.TokenField{{Path: "traceNo", Kind: kindTrace}, {Path: "orderNo", Kind: kindOrder}}
		// An async job's result names its orderNo: bind it too, so the
		// orderNo answers its caller the way the traceNo does.
		op.Produces = []gateway.TokenField{{Path: "data.result.orderNo", Kind: kindOrder}}
	}
	return op
}

// envelopeError carries a failure envelope through the pipeline, so the
// answer keeps its data.traceNo.
type envelopeError struct{ env *Envelope }

func (e *envelopeError) Error() string { return e.env.Errmsg }

// Call implements gateway.Contract.
func (h *Handler) Call(ctx context.Context, c *gateway.Call) (*gateway.Answer, error) {
	if c.Op.Control {
		out, err := h.control(ctx, c.Body)
		if err != nil {
			return nil, err
		}
		return &gateway.Answer{Body: out}, nil
	}
	env := h.serve(ctx, c.Op.Action, c.Caller, c.Body)
	sandboxed := h.live == nil || (c.Caller != nil && c.Caller.Test)
	if env.Errcode != CodeOK {
		e := errs.As(asError(env))
		e.Err = &envelopeError{env}
		return &gateway.Answer{Sandbox: sandboxed}, e
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "encode envelope")
	}
	code := ""
	if env.Data != nil {
		code = env.Data.Status
	}
	return &gateway.Answer{Body: b, Code: code, Sandbox: sandboxed}, nil
}

// control drives async jobs: resumeJob runs one, resumeOpen every one
// nobody is running.
func (h *Handler) control(ctx context.Context, body []byte) ([]byte, error) {
	var ctl struct {
		ResumeJob  string `json:"resumeJob"`
		ResumeOpen bool   `json:"resumeOpen"`
	}
	if err := json.Unmarshal(body, &ctl); err != nil {
		return nil, errs.E(errs.Invalid, "FaceAdv.40001", "resumeJob must be a string and resumeOpen a boolean")
	}
	if ctl.ResumeOpen {
		n, err := h.ResumeOpen(ctx)
		if err != nil {
			return nil, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached")
		}
		return json.Marshal(map[string]int{"looked": n})
	}
	env, err := h.ResumeJob(ctx, ctl.ResumeJob)
	if err == errNoJob {
		return nil, errs.E(errs.NotFound, "FaceAdv.40400", "resumeJob: unknown traceNo")
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(env)
}

// Render implements gateway.Contract: HTTP 200 and the envelope, whatever
// the errcode.
func (h *Handler) Render(_ gateway.Op, ans *gateway.Answer, e *errs.Error, _ string) *gateway.Response {
	hd := http.Header{}
	hd.Set("Content-Type", "application/json; charset=utf-8")
	if e == nil {
		return &gateway.Response{Status: http.StatusOK, Header: hd, Body: ans.Body}
	}
	var ee *envelopeError
	env := (*Envelope)(nil)
	if errors.As(e, &ee) {
		env = ee.env
	} else {
		env = failure("", e)
		if n, ok := strings.CutPrefix(e.Code, "FaceAdv."); ok {
			if code, err := strconv.Atoi(n); err == nil {
				env.Errcode = code // a replayed failure keeps its errcode
			}
		}
		switch e.Code {
		case gateway.RequestSizeLimitExceeded, "UnsupportedMediaType":
			env.Errcode = CodeBadJSON
		}
	}
	b, err := json.Marshal(env)
	if err != nil {
		b = []byte(`{"errcode":50000,"errmsg":"internal error"}`)
	}
	return &gateway.Response{Status: http.StatusOK, Header: hd, Body: b}
}

// Output implements gateway.Contract: the envelope.
func (h *Handler) Output(_ gateway.Op, ans *gateway.Answer) ([]byte, error) { return ans.Body, nil }

// Health implements gateway.Describer.
func (h *Handler) Health() map[string]any {
	return map[string]any{"provider": providerName(h), "endpoints": h.Endpoints()}
}

// Routes implements gateway.Describer.
func (h *Handler) Routes() []string {
	var r []string
	for _, e := range h.Endpoints() {
		if e == ActionAdv {
			r = append(r, "POST "+PathAdv)
		} else {
			r = append(r, "POST "+PathResult)
		}
	}
	return r
}

// SandboxTable implements gateway.Sandboxed.
func (h *Handler) SandboxTable() gateway.SandboxTable {
	return gateway.SandboxTable{
		Path:  "/v1/sandbox/faceadv/scenarios",
		Key:   "faceAdv",
		Table: func() any { return Scenarios() },
		Doc:   func(t any) any { return map[string]any{"faceAdv": t, "errcodes": Errcodes()} },
	}
}
