// Package faceprint serves Baidu's H5 face real-name solution (faceprint)
// endpoints with Baidu's own paths, request and response shapes, so a
// client that calls Baidu switches by changing its base URL, and adds the
// caller credential this deployment asks for instead of a Baidu token.
//
// An access_token query parameter (or body member) is ignored: it is never
// used to authenticate, never forwarded, never logged. Clients written for
// Baidu keep appending one; the Baidu token is this deployment's, held
// server-side (see package baidu).
//
// Errors come back as HTTP 200 with Baidu's shape, as Baidu answers them:
// Baidu's own error answers pass through unchanged; answers made here carry
// both of Baidu's field pairs, error_code/error_msg (its gateway errors)
// and success/code/message (the solution's), so either check works:
//
//	{"success":false,"result":null,"error_code":216100,"error_msg":"invalid param: id_no must be 18 characters",
//	 "code":216100,"message":"invalid param: id_no must be 18 characters","log_id":"..."}
package faceprint

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/baidu"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// ScenariosPath serves the sandbox table (GET).
const ScenariosPath = "/v1/sandbox/faceprint/scenarios"

// Options configure a Handler.
type Options struct {
	// Live is the Baidu client; nil serves every call from the sandbox.
	Live    Backend
	Sandbox *Sandbox
	// Mode is "live" or "sandbox", for health and logs.
	Mode string
	// Auth authenticates HTTP callers when the handler is served alone
	// (ServeRequest); nil is gateway.LoopbackOnly.
	Auth gateway.Authenticator
	// Endpoints served, by path, action or function name; empty is all.
	Endpoints []string
	Logger    *slog.Logger
}

// Handler is the faceprint contract of the request pipeline
// (shared/gateway): Baidu's paths, validation, the call and Baidu's
// answer shapes. Caller auth, rate limits, idempotency, verify_token
// ownership, request ids and logs are the pipeline's.
type Handler struct {
	opts   Options
	served []Endpoint

	// Pipeline serves the endpoints alone (ServeRequest, Invoke), with
	// Auth and Logger from Options: tests and tools. A deployed function
	// builds its pipeline in app, around every contract it serves.
	*gateway.Pipeline
}

var (
	_ gateway.Contract     = (*Handler)(nil)
	_ gateway.Describer    = (*Handler)(nil)
	_ gateway.Sandboxed    = (*Handler)(nil)
	_ gateway.PublicTokens = (*Handler)(nil)
	_ gateway.InvokeErrors = (*Handler)(nil)
)

// New checks opts and builds a Handler.
func New(opts Options) (*Handler, error) {
	if opts.Sandbox == nil {
		opts.Sandbox = NewSandbox(SandboxOptions{})
	}
	if opts.Auth == nil {
		opts.Auth = gateway.LoopbackOnly{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Mode == "" {
		opts.Mode = "sandbox"
		if opts.Live != nil {
			opts.Mode = "live"
		}
	}
	h := &Handler{opts: opts}
	if len(opts.Endpoints) == 0 {
		h.served = Endpoints()
	}
	for _, n := range opts.Endpoints {
		e, ok := Lookup(n)
		if !ok {
			return nil, errs.Configf("", "unknown faceprint endpoint %q", n)
		}
		h.served = append(h.served, e)
	}
	// Alone, the contract is exercised with documented tokens nobody
	// created here: a token this pipeline bound is still checked.
	var err error
	if h.Pipeline, err = gateway.New(gateway.Options{Contracts: []gateway.Contract{h}, Auth: opts.Auth,
		Logger: opts.Logger, OwnersPartial: true}); err != nil {
		return nil, err
	}
	return h, nil
}

// Served lists the endpoints this handler serves.
func (h *Handler) Served() []Endpoint { return append([]Endpoint(nil), h.served...) }

func (h *Handler) find(name string) (Endpoint, error) {
	for _, e := range h.served {
		if name == e.Path || name == e.Action() {
			return e, nil
		}
	}
	if _, ok := Lookup(name); ok {
		return Endpoint{}, errs.E(errs.NotFound, strconv.Itoa(baidu.CodeUnsupported), "faceprint/%s is not served by this function", strings.TrimPrefix(name, "faceprint/"))
	}
	return Endpoint{}, errs.E(errs.NotFound, strconv.Itoa(baidu.CodeUnsupported), "no faceprint endpoint %q", truncate(name, 64))
}

// Name implements gateway.Contract.
func (h *Handler) Name() string { return "faceprint" }

// Mode implements gateway.Contract.
func (h *Handler) Mode() string { return h.opts.Mode }

// kindVerifyToken is the flow token: a verify_token answers only the
// caller that generated it.
const kindVerifyToken = "faceprint/verify_token"

// Route implements gateway.Contract: POST /rpc/2.0/brain/solution/faceprint/<endpoint>.
func (h *Handler) Route(req *gateway.Request) (gateway.Op, bool) {
	if !strings.HasPrefix(req.Path, Prefix) {
		return gateway.Op{}, false
	}
	op := h.op(strings.TrimPrefix(req.Path, Prefix))
	op.Surface = "faceprint"
	if op.Err == nil && req.Method != http.MethodPost {
		op.Err = errs.E(errs.Invalid, strconv.Itoa(baidu.CodeUnsupported), "use POST with a JSON body")
		op.Status = http.StatusMethodNotAllowed
		op.Header = http.Header{"Allow": {http.MethodPost}}
	}
	return op, true
}

func (h *Handler) op(name string) gateway.Op {
	ep, err := h.find(name)
	if err != nil {
		return gateway.Op{Err: errs.As(err), MaxBody: 64 << 10}
	}
	op := gateway.Op{Action: ep.Action(), MaxBody: 64 << 10, Data: ep}
	switch ep.Path {
	case "verifyToken/generate":
		op.Produces = []gateway.TokenField{{Path: "result.verify_token", Kind: kindVerifyToken}}
	case "uploadMatchImage":
		op.MaxBody = MaxImageBase64 + MaxImageBase64/32 + 64<<10
		fallthrough
	default:
		op.Consumes = []gateway.TokenField{{Path: "verify_token", Kind: kindVerifyToken}}
	}
	return op
}

// RouteInvoke implements gateway.Contract: the endpoint from an "Action"
// member ("faceprint/result/detail"), or the function's only endpoint.
func (h *Handler) RouteInvoke(action string, _ map[string]json.RawMessage) (gateway.Op, bool) {
	if action == "" {
		if len(h.served) != 1 {
			return gateway.Op{Surface: "invoke", Err: errs.E(errs.Invalid, strconv.Itoa(baidu.CodeInvalidParam),
				"invalid param: Action is required: this function serves several endpoints (\"faceprint/verifyToken/generate\" ...)")}, true
		}
		action = h.served[0].Path
	} else if _, ok := Lookup(action); !ok && !strings.HasPrefix(action, "faceprint/") {
		return gateway.Op{}, false
	}
	op := h.op(action)
	op.Surface = "invoke"
	return op, true
}

// Call implements gateway.Contract: validate, then Baidu (or the sandbox
// for sandbox mode and test callers). access_token is dropped: the Baidu
// token is this deployment's and is added by the client.
func (h *Handler) Call(ctx context.Context, c *gateway.Call) (*gateway.Answer, error) {
	ep := c.Op.Data.(Endpoint)
	backend, sandboxed := h.opts.Live, false
	if backend == nil || (c.Caller != nil && c.Caller.Test) {
		backend, sandboxed = h.opts.Sandbox, true
	}
	logID := c.RequestID
	if sandboxed {
		logID = "sandbox-" + c.RequestID
	}
	m, err := decodeStrict(ep, c.Body)
	if err != nil {
		return &gateway.Answer{Sandbox: sandboxed}, err
	}
	out, err := h.call(ctx, ep, backend, m, logID)
	if err != nil {
		return &gateway.Answer{Sandbox: sandboxed}, err
	}
	ans := &gateway.Answer{Body: out, Sandbox: sandboxed}
	if sandboxed && ep.Path == "verifyToken/generate" {
		// Baidu answers no URL (its clients build the brain.baidu.com
		// H5 one); the sandbox says where its stand-in page is.
		if vt := VerifyTokenOf(out); vt != "" {
			ans.Header = map[string]string{PageURLHeader: h.opts.Sandbox.PageURL(ctx, vt)}
		}
	}
	return ans, nil
}

// Render implements gateway.Contract: Baidu's shapes, HTTP 200 for errors
// as Baidu answers them (405 for a method, 404 for no route).
func (h *Handler) Render(op gateway.Op, ans *gateway.Answer, e *errs.Error, requestID string) *gateway.Response {
	hd := http.Header{}
	hd.Set("Content-Type", "application/json;charset=utf-8")
	if e == nil {
		return &gateway.Response{Status: http.StatusOK, Header: hd, Body: ans.Body}
	}
	status := http.StatusOK
	if op.Surface == "none" {
		status = http.StatusNotFound
	}
	return &gateway.Response{Status: status, Header: hd, Body: errorBody(authError(baiduError(e)), requestID)}
}

// Output implements gateway.Contract: Baidu's answer.
func (h *Handler) Output(_ gateway.Op, ans *gateway.Answer) ([]byte, error) { return ans.Body, nil }

// baiduError gives the pipeline's own refusals Baidu's codes: another
// caller's (or an unknown) verify_token reads as an invalid parameter, a
// body over the cap or not JSON as Baidu's "请求参数错误".
func baiduError(e *errs.Error) *errs.Error {
	code := 0
	switch e.Code {
	case "ResourceNotFound.Token":
		code = baidu.CodeInvalidParam
	case gateway.RequestSizeLimitExceeded, "UnsupportedMediaType":
		code = baidu.CodeBadRequestBody
	default:
		return e
	}
	return &errs.Error{Kind: e.Kind, Code: strconv.Itoa(code), Message: baidu.Message(code) + ": " + e.PublicMessage(), Err: e}
}

// InvokeError implements gateway.InvokeErrors: workflows see the Baidu
// code in the message as well as in Code.
func (h *Handler) InvokeError(_ gateway.Op, err *errs.Error) error {
	e := authError(baiduError(err))
	if _, numeric := strconv.Atoi(e.Code); numeric != nil {
		return e
	}
	return &errs.Error{Kind: e.Kind, Code: e.Code, Message: "error_code " + e.Code + ": " + publicMessage(e), RequestID: e.RequestID, Err: e}
}

// PublicToken implements gateway.PublicTokens: the sandbox's documented
// magic verify_tokens were created by nobody.
func (h *Handler) PublicToken(kind, value string) bool {
	return kind == kindVerifyToken && strings.HasPrefix(value, "sandbox-lapsed")
}

// Health implements gateway.Describer.
func (h *Handler) Health() map[string]any {
	m := h.health()
	delete(m, "status")
	delete(m, "mode")
	return m
}

// Routes implements gateway.Describer.
func (h *Handler) Routes() []string { return []string{"POST " + Prefix + "<endpoint>"} }

// SandboxTable implements gateway.Sandboxed.
func (h *Handler) SandboxTable() gateway.SandboxTable {
	return gateway.SandboxTable{
		Path:  ScenariosPath,
		Key:   "faceprint",
		Table: func() any { return Scenarios() },
		Doc:   func(t any) any { return map[string]any{"scenarios": t} },
	}
}

// call validates m for ep and sends it to backend. access_token is
// dropped: the Baidu token is this deployment's and is added by the client.
func (h *Handler) call(ctx context.Context, ep Endpoint, backend Backend, m members, logID string) ([]byte, error) {
	delete(m, "access_token")
	if err := ep.check(m); err != nil {
		return nil, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, errs.Wrap(err, errs.Internal, "", "re-encode the request")
	}
	return backend.Faceprint(withLogID(ctx, logID), ep.Path, body)
}

// authError maps a caller-auth failure to Baidu's codes: bad or missing
// credentials are 110 (what Baidu answers for a bad access token), a
// caller without the action is 6, a rate limit 18.
func authError(err error) *errs.Error {
	e := errs.As(err)
	if _, numeric := strconv.Atoi(e.Code); numeric == nil {
		return e // Baidu's own code, or one already mapped
	}
	code := baidu.CodeTokenInvalid
	switch e.Kind {
	case errs.Forbidden:
		code = baidu.CodeNoPermission
	case errs.Throttled:
		code = baidu.CodeQPSLimit
	case errs.Unauthorized:
	default:
		return e
	}
	return &errs.Error{Kind: e.Kind, Code: strconv.Itoa(code), Message: baidu.Message(code) + ": " + e.PublicMessage(), Err: e}
}

// errorBody renders e in Baidu's shape. Baidu's own error answers pass
// through as Baidu sent them.
func errorBody(e *errs.Error, logID string) []byte {
	var a *baidu.APIError
	if errors.As(e, &a) && len(a.Body) > 0 && e.Code == strconv.Itoa(a.Code) {
		return a.Body
	}
	code := baiduCode(e)
	msg := publicMessage(e)
	b, _ := json.Marshal(struct {
		Success   bool   `json:"success"`
		Result    any    `json:"result"`
		ErrorCode int    `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Code      int    `json:"code"`
		Message   string `json:"message"`
		LogID     string `json:"log_id"`
	}{false, nil, code, msg, code, msg, logID})
	return b
}

// baiduCode is e's code when it is a Baidu code, else the closest Baidu
// code for its kind.
func baiduCode(e *errs.Error) int {
	if n, err := strconv.Atoi(e.Code); err == nil && n > 0 {
		return n
	}
	switch e.Kind {
	case errs.Invalid:
		return baidu.CodeInvalidParam
	case errs.Unauthorized:
		return baidu.CodeTokenInvalid
	case errs.Forbidden:
		return baidu.CodeNoPermission
	case errs.Throttled, errs.Conflict:
		return baidu.CodeQPSLimit
	case errs.Unavailable:
		return baidu.CodeUnavailable
	case errs.NotFound:
		return baidu.CodeUnsupported
	default:
		return baidu.CodeUnknown
	}
}

// publicMessage keeps internal details (this deployment's configuration)
// from callers: they see Baidu's text for the code.
func publicMessage(e *errs.Error) string {
	if e.Kind == errs.Internal {
		return baidu.Message(baiduCode(e))
	}
	return e.PublicMessage()
}

func (h *Handler) health() map[string]any {
	paths := make([]string, 0, len(h.served))
	for _, e := range h.served {
		paths = append(paths, e.Path)
	}
	provider := "sandbox"
	if h.opts.Live != nil {
		provider = "baidu"
	}
	return map[string]any{"status": "ok", "mode": h.opts.Mode, "provider": provider, "endpoints": paths}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
