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
	"time"

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
	// Auth authenticates HTTP callers; nil is gateway.LoopbackOnly.
	Auth gateway.Authenticator
	// Endpoints served, by path, action or function name; empty is all.
	Endpoints []string
	Logger    *slog.Logger
}

// Handler serves faceprint endpoints; it implements gateway.Handler.
type Handler struct {
	opts   Options
	served []Endpoint
}

var _ gateway.Handler = (*Handler)(nil)

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
			return nil, errs.E(errs.Internal, "InvalidConfiguration", "unknown faceprint endpoint %q", n)
		}
		h.served = append(h.served, e)
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

// event is what one request leaves in the log: no body, header or value.
type event struct {
	surface, endpoint, caller, backend, code string
	status                                   int
}

// ServeRequest answers POST /rpc/2.0/brain/solution/faceprint/<endpoint>,
// GET /healthz and GET /v1/sandbox/faceprint/scenarios.
func (h *Handler) ServeRequest(ctx context.Context, req *gateway.Request) *gateway.Response {
	start := time.Now()
	if req.RequestID == "" {
		req.RequestID = newRequestID()
	}
	ev := event{surface: "faceprint"}
	var resp *gateway.Response
	switch {
	case strings.HasPrefix(req.Path, Prefix):
		resp = h.serveEndpoint(ctx, req, &ev)
	case req.Path == "/healthz":
		ev.surface = "info"
		resp = jsonResponse(http.StatusOK, h.health())
	case req.Path == ScenariosPath && req.Method == http.MethodGet:
		ev.surface = "sandbox"
		resp = jsonResponse(http.StatusOK, map[string]any{"scenarios": Scenarios()})
	default:
		ev.surface = "none"
		e := errs.E(errs.NotFound, strconv.Itoa(baidu.CodeUnsupported), "no route for %s %s: POST %s<endpoint>", req.Method, truncate(req.Path, 128), Prefix)
		resp = &gateway.Response{Status: http.StatusNotFound, Body: errorBody(e, req.RequestID)}
		ev.code = e.Code
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	resp.Header.Set("Content-Type", "application/json;charset=utf-8")
	resp.Header.Set("Cache-Control", "no-store")
	resp.Header.Set("X-Request-Id", req.RequestID)
	mode := h.opts.Mode
	if ev.backend != "" {
		mode = ev.backend
	}
	// Nobody may mistake an emulated answer for a real verification.
	resp.Header.Set("X-Idv-Mode", mode)
	ev.status = resp.Status
	h.log(ctx, ev, req.RequestID, time.Since(start))
	return resp
}

func (h *Handler) serveEndpoint(ctx context.Context, req *gateway.Request, ev *event) *gateway.Response {
	path := strings.TrimPrefix(req.Path, Prefix)
	ev.endpoint = truncate(path, 64)
	fail := func(err error, logID string) *gateway.Response {
		e := errs.As(err)
		ev.code = e.Code
		return &gateway.Response{Status: http.StatusOK, Body: errorBody(e, logID)}
	}
	if req.Method != http.MethodPost {
		resp := fail(errs.E(errs.Invalid, strconv.Itoa(baidu.CodeUnsupported), "use POST with a JSON body"), req.RequestID)
		resp.Status = http.StatusMethodNotAllowed
		resp.Header = http.Header{"Allow": {http.MethodPost}}
		return resp
	}
	ep, err := h.find(path)
	if err != nil {
		return fail(err, req.RequestID)
	}
	caller, err := h.opts.Auth.Authenticate(ctx, req, ep.Action())
	if err != nil {
		return fail(authError(err), req.RequestID)
	}
	ev.caller = caller.ID
	backend, name := h.opts.Live, "live"
	if backend == nil || caller.Test {
		backend, name = h.opts.Sandbox, "sandbox"
	}
	ev.backend = name
	logID := req.RequestID
	if name == "sandbox" {
		logID = "sandbox-" + req.RequestID
	}
	m, err := decode(req.Body)
	if err != nil {
		return fail(err, logID)
	}
	out, err := h.call(ctx, ep, backend, m, logID)
	if err != nil {
		return fail(err, logID)
	}
	return &gateway.Response{Status: http.StatusOK, Body: out}
}

// decode reads the body's top-level object. A body that is not one gets
// Baidu's "请求参数错误".
func decode(body []byte) (members, error) {
	var m members
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, errs.E(errs.Invalid, strconv.Itoa(baidu.CodeBadRequestBody), "%s: the body must be a JSON object", baidu.Message(baidu.CodeBadRequestBody))
	}
	return m, nil
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

// Invoke answers a direct invocation: the request body object in, Baidu's
// answer out. A handler serving several endpoints takes the endpoint from
// an "Action" member ("faceprint/result/detail"). The platform's IAM has
// authenticated the invoker, so the function's mode decides the backend.
// Refusals are *errs.Error (Kind for workflow Retry/Catch, Code the Baidu
// code); a failed verification on a result query is an answer.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	requestID := newRequestID()
	ev := event{surface: "invoke", backend: h.opts.Mode}
	out, err := h.invoke(ctx, payload, requestID, &ev)
	if err != nil {
		ev.code = errs.As(err).Code
	}
	h.log(ctx, ev, requestID, time.Since(start))
	return out, err
}

func (h *Handler) invoke(ctx context.Context, payload []byte, requestID string, ev *event) ([]byte, error) {
	m, err := decode(payload)
	if err != nil {
		return nil, err
	}
	name := ""
	if len(h.served) == 1 {
		name = h.served[0].Path
	}
	if raw, ok := m["Action"]; ok {
		if json.Unmarshal(raw, &name) != nil {
			return nil, errs.E(errs.Invalid, strconv.Itoa(baidu.CodeInvalidParam), "invalid param: Action must be a string")
		}
		delete(m, "Action")
	}
	if name == "" {
		return nil, errs.E(errs.Invalid, strconv.Itoa(baidu.CodeInvalidParam), "invalid param: Action is required: this function serves several endpoints (\"faceprint/verifyToken/generate\" ...)")
	}
	ep, err := h.find(name)
	if err != nil {
		return nil, err
	}
	ev.endpoint = ep.Path
	backend, logID := h.opts.Live, requestID
	if backend == nil {
		backend, logID = h.opts.Sandbox, "sandbox-"+requestID
	}
	out, err := h.call(ctx, ep, backend, m, logID)
	if err != nil {
		e := errs.As(err)
		// Workflows see the Baidu code in the message as well as in Code.
		x := &errs.Error{Kind: e.Kind, Code: e.Code, Message: "error_code " + e.Code + ": " + publicMessage(e), RequestID: e.RequestID, Err: e}
		return nil, x
	}
	return out, nil
}

// authError maps a caller-auth failure to Baidu's codes: bad or missing
// credentials are 110 (what Baidu answers for a bad access token), a
// caller without the action is 6, a rate limit 18.
func authError(err error) *errs.Error {
	e := errs.As(err)
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

func (h *Handler) log(ctx context.Context, ev event, requestID string, latency time.Duration) {
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("surface", ev.surface),
		slog.String("mode", h.opts.Mode),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
	}
	if ev.endpoint != "" {
		attrs = append(attrs, slog.String("action", "faceprint/"+ev.endpoint))
	}
	if ev.backend != "" {
		attrs = append(attrs, slog.String("backend", ev.backend))
	}
	if ev.caller != "" {
		attrs = append(attrs, slog.String("caller", ev.caller))
	}
	if ev.status != 0 {
		attrs = append(attrs, slog.Int("status", ev.status))
	}
	if ev.code != "" {
		attrs = append(attrs, slog.String("error_code", ev.code))
		if c, _ := strconv.Atoi(ev.code); c > 0 {
			if k := baidu.KindOf(c); k == errs.Internal || k == errs.Unavailable {
				level = slog.LevelError
			}
		}
	}
	h.opts.Logger.LogAttrs(ctx, level, "request", attrs...)
}

func jsonResponse(status int, v any) *gateway.Response {
	b, _ := json.Marshal(v)
	return &gateway.Response{Status: status, Header: http.Header{}, Body: b}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func newRequestID() string {
	h := randHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
