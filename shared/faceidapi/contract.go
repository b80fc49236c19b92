// Package faceidapi is the FaceID contract of the request pipeline
// (shared/gateway): the routes of Tencent FaceID 2018-03-01 on three
// surfaces, how a request is validated and called (shared/service), and
// the FaceID envelopes.
//
//  1. POST /v1/faceid/<Action> with the FaceID request JSON; answers
//     {"Response":{...}} with an HTTP status from the error class.
//  2. The Tencent Cloud API 3.0 wire form: POST / with X-TC-Action; errors
//     are HTTP 200 with Response.Error, as Tencent answers, so SDKs parse
//     them. A one-action function also answers POST / without X-TC-Action
//     (its Function URL's root).
//  3. Direct invocation: the request object in, the inner response object
//     out.
package faceidapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/precheck"
	"github.com/idverify/idverify/shared/provider"
	"github.com/idverify/idverify/shared/service"
)

// Options configure the FaceID contract.
type Options struct {
	Service *service.Service
	// Sandbox serves test callers (Caller.Test) in a live deployment; nil
	// refuses them.
	Sandbox *service.Service
	// Actions are the actions this function serves; empty means every
	// FaceID action.
	Actions []string
	// Mode is "sandbox" or "live".
	Mode string
	// Scenarios is the sandbox's magic-value table; nil serves none.
	Scenarios func() any

	// The pipeline's options, used by New only (a function serving this
	// contract alone: tests and tools). app wires the pipeline itself.
	Auth        gateway.Authenticator
	Limiter     gateway.RateLimiter
	Idempotency gateway.IdempotencyStore
	Logger      *slog.Logger
}

// New builds a pipeline serving the FaceID contract alone.
func New(opts Options) (*gateway.Pipeline, error) {
	c, err := NewContract(opts)
	if err != nil {
		return nil, err
	}
	return gateway.New(gateway.Options{Contracts: []gateway.Contract{c}, Auth: opts.Auth, Limiter: opts.Limiter,
		Idempotency: opts.Idempotency, Logger: opts.Logger})
}

// Contract implements gateway.Contract for FaceID.
type Contract struct {
	opts   Options
	served map[string]bool
	only   string // the single action of a one-action function
}

var (
	_ gateway.Contract     = (*Contract)(nil)
	_ gateway.Describer    = (*Contract)(nil)
	_ gateway.Sandboxed    = (*Contract)(nil)
	_ gateway.PublicTokens = (*Contract)(nil)
)

// NewContract checks opts and builds the contract.
func NewContract(opts Options) (*Contract, error) {
	if opts.Service == nil || opts.Service.Provider == nil {
		return nil, errs.E(errs.Internal, "", "faceid contract needs a service with a provider")
	}
	c := &Contract{opts: opts, served: map[string]bool{}}
	names := opts.Actions
	if len(names) == 0 {
		for _, a := range faceid.All() {
			names = append(names, a.Name)
		}
	}
	for _, n := range names {
		if _, ok := faceid.Lookup(n); !ok {
			return nil, errs.E(errs.Internal, "", "unknown action %q in function configuration", n)
		}
		c.served[n] = true
	}
	if len(names) == 1 {
		c.only = names[0]
	}
	return c, nil
}

// Name implements gateway.Contract.
func (c *Contract) Name() string { return "faceid" }

// Mode implements gateway.Contract.
func (c *Contract) Mode() string { return c.opts.Mode }

// Actions lists the served actions, sorted.
func (c *Contract) Actions() []string {
	out := make([]string, 0, len(c.served))
	for n := range c.served {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ProviderName names the provider answering calls ("tencent", "sandbox").
func (c *Contract) ProviderName() string { return c.opts.Service.Provider.Name() }

// Surfaces.
const (
	SurfaceJSON   = "faceid" // POST /v1/faceid/<Action>
	SurfaceTCAPI  = "tcapi"  // POST / with X-TC-Action
	SurfaceInvoke = "invoke"
)

const prefix = "/v1/faceid/"

// Route implements gateway.Contract.
func (c *Contract) Route(req *gateway.Request) (gateway.Op, bool) {
	switch {
	case req.Path == "/" && req.Header.Get("X-TC-Action") != "":
		return c.routeTCAPI(req), true
	case strings.HasPrefix(req.Path, prefix):
		return c.routeJSON(req, strings.TrimPrefix(req.Path, prefix)), true
	case req.Path == "/" && c.only != "":
		// A one-action function behind its own Function URL: its root is
		// the action.
		return c.routeJSON(req, c.only), true
	}
	return gateway.Op{}, false
}

func (c *Contract) routeJSON(req *gateway.Request, action string) gateway.Op {
	op := c.op(action, SurfaceJSON)
	if req.Method != http.MethodPost {
		op.Err = errs.E(errs.Invalid, "UnsupportedProtocol", "use POST with a JSON body")
		op.Status = http.StatusMethodNotAllowed
		op.Header = http.Header{"Allow": {http.MethodPost}}
	}
	return op
}

func (c *Contract) routeTCAPI(req *gateway.Request) gateway.Op {
	op := c.op(req.Header.Get("X-TC-Action"), SurfaceTCAPI)
	op.JSON = gateway.JSONStrict
	if op.Err != nil {
		return op
	}
	if req.Method != http.MethodPost {
		op.Err = errs.E(errs.Invalid, "UnsupportedProtocol", "the API 3.0 form is served as POST with a JSON body")
		return op
	}
	if v := req.Header.Get("X-TC-Version"); v != faceid.Version {
		if v == "" {
			op.Err = errs.E(errs.Invalid, "MissingParameter", "missing header X-TC-Version (2018-03-01)")
		} else {
			op.Err = errs.E(errs.Invalid, "NoSuchVersion", "version %q is not served: use 2018-03-01", truncate(gateway.HeaderSafe(v), 32))
		}
	}
	return op
}

// op is the operation of action on surface, with an error when the action
// is not served here. Only names the registry knows become op.Action (it
// is logged: anything else came from the caller).
func (c *Contract) op(action, surface string) gateway.Op {
	op := gateway.Op{Surface: surface, MaxBody: precheck.MaxBody(action)}
	if err := c.resolve(action); err != nil {
		if _, known := faceid.Lookup(action); known {
			op.Action = action
		}
		op.Err = err
		return op
	}
	op.Action = action
	op.Consumes, op.Produces = consumes[action], produces[action]
	return op
}

// resolve checks that the function serves action.
func (c *Contract) resolve(action string) *errs.Error {
	if action == "" {
		return errs.E(errs.Invalid, "MissingParameter", "missing action name")
	}
	if c.served[action] {
		return nil
	}
	if _, ok := faceid.Lookup(action); ok {
		return errs.E(errs.NotFound, "InvalidAction", "action %s is not served by this function", action)
	}
	return errs.E(errs.NotFound, "InvalidAction", "unknown action %q", truncate(action, 64))
}

// RouteInvoke implements gateway.Contract.
func (c *Contract) RouteInvoke(action string, _ map[string]json.RawMessage) (gateway.Op, bool) {
	if action == "" {
		if c.only == "" {
			op := gateway.Op{Surface: SurfaceInvoke}
			op.Err = errs.E(errs.Invalid, "MissingParameter", "this function serves several actions: add an \"Action\" member to the payload")
			return op, true
		}
		action = c.only
	}
	if _, known := faceid.Lookup(action); !known {
		return gateway.Op{}, false
	}
	return c.op(action, SurfaceInvoke), true
}

// Call implements gateway.Contract: precheck, then the provider (or the
// sandbox for a test caller).
func (c *Contract) Call(ctx context.Context, call *gateway.Call) (*gateway.Answer, error) {
	svc, sandboxed := c.opts.Service, c.opts.Mode == "sandbox"
	if call.Caller != nil && call.Caller.Test && !sandboxed {
		// A test caller is like a test-mode key: never the paid provider.
		if c.opts.Sandbox == nil {
			return nil, errs.E(errs.Internal, "", "test caller %s but this function has no sandbox", call.Caller.ID)
		}
		svc, sandboxed = c.opts.Sandbox, true
	}
	localID := call.RequestID
	if sandboxed {
		localID = "sandbox-" + call.RequestID
	}
	if call.Caller != nil {
		ctx = provider.WithEncryption(ctx, call.Caller.Encrypt)
	}
	res, err := svc.Do(ctx, call.Op.Action, call.Body, localID)
	if err != nil {
		return &gateway.Answer{Sandbox: sandboxed}, err
	}
	h := map[string]string{"X-Idv-Source": string(res.Source)}
	if res.Rule != "" {
		h["X-Idv-Precheck"] = gateway.HeaderSafe(res.Rule)
	}
	return &gateway.Answer{Body: res.Body, Header: h, Code: res.Code, Sandbox: sandboxed}, nil
}

// Render implements gateway.Contract: {"Response":{...}} on success, the
// Tencent error envelope on failure, with an HTTP status from the error
// class on /v1 and 200 on the API 3.0 form (as Tencent answers).
func (c *Contract) Render(op gateway.Op, ans *gateway.Answer, e *errs.Error, requestID string) *gateway.Response {
	if e == nil {
		return &gateway.Response{Status: http.StatusOK, Header: http.Header{}, Body: successBody(ans.Body)}
	}
	status := e.Kind.HTTPStatus()
	code := e.Code
	switch {
	case op.Surface == SurfaceTCAPI:
		status = http.StatusOK
		if code == "UnsupportedMediaType" {
			code = "InvalidParameter" // Tencent's code for a bad request shape
		}
	case e.Code == gateway.RequestSizeLimitExceeded:
		status = http.StatusRequestEntityTooLarge
	case e.Code == "UnsupportedMediaType":
		status = http.StatusUnsupportedMediaType
	}
	x := *e
	x.Code = code
	return &gateway.Response{Status: status, Header: http.Header{}, Body: errorBody(requestID, &x)}
}

// Output implements gateway.Contract: the inner response object.
func (c *Contract) Output(_ gateway.Op, ans *gateway.Answer) ([]byte, error) { return ans.Body, nil }

// Health implements gateway.Describer.
func (c *Contract) Health() map[string]any {
	return map[string]any{"provider": c.ProviderName(), "actions": c.Actions()}
}

// Routes implements gateway.Describer.
func (c *Contract) Routes() []string {
	r := []string{"POST /v1/faceid/<Action>", "the Tencent API form POST / with X-TC-Action"}
	if c.only != "" {
		r = append(r, "POST / with the "+c.only+" request")
	}
	return r
}

// SandboxTable implements gateway.Sandboxed.
func (c *Contract) SandboxTable() gateway.SandboxTable {
	if c.opts.Scenarios == nil {
		return gateway.SandboxTable{}
	}
	return gateway.SandboxTable{
		Key:   "scenarios",
		Table: c.opts.Scenarios,
	}
}

// PublicToken implements gateway.PublicTokens: the sandbox's documented
// NFC outcome tokens (sandbox-nfc-outcome-NN) were created by nobody. In a
// live deployment they reach the sandbox for test callers and Tencent,
// which does not know them, for everyone else.
func (c *Contract) PublicToken(kind, value string) bool {
	return kind == kindNFC && strings.HasPrefix(value, "sandbox-nfc-outcome-")
}

// Flow tokens: who hands them out and who reads them.
const (
	kindBiz    = "faceid/BizToken"
	kindEid    = "faceid/EidToken"
	kindFaceID = "faceid/FaceIdToken"
	kindNFC    = "faceid/NFCToken"
)

var produces = map[string][]gateway.TokenField{
	"DetectAuth":             {{Path: "BizToken", Kind: kindBiz}},
	"GetEidToken":            {{Path: "EidToken", Kind: kindEid}},
	"GetFaceIdToken":         {{Path: "FaceIdToken", Kind: kindFaceID}},
	"GetFaceidRiskInfoToken": {{Path: "FaceIdToken", Kind: kindFaceID}},
	"GetNFCToken":            {{Path: "Token", Kind: kindNFC}},
}

var consumes = map[string][]gateway.TokenField{
	"GetDetectInfo":         {{Path: "BizToken", Kind: kindBiz}},
	"GetDetectInfoEnhanced": {{Path: "BizToken", Kind: kindBiz}},
	"GetEidResult":          {{Path: "EidToken", Kind: kindEid}},
	"CheckEidTokenStatus":   {{Path: "EidToken", Kind: kindEid}},
	"GetFaceIdResult":       {{Path: "FaceIdToken", Kind: kindFaceID}},
	"GetFaceIdRiskInfo":     {{Path: "FaceIdToken", Kind: kindFaceID}},
	"GetWxNFCResult":        {{Path: "NFCToken", Kind: kindNFC}},
}

// errorEnvelope is Tencent's error shape: {"Response":{"Error":{...},"RequestId":"..."}}.
type errorEnvelope struct {
	Response struct {
		Error struct {
			Code    string `json:"Code"`
			Message string `json:"Message"`
		} `json:"Error"`
		RequestId string `json:"RequestId"`
	} `json:"Response"`
}

func errorBody(requestID string, e *errs.Error) []byte {
	var env errorEnvelope
	env.Response.Error.Code = e.Code
	env.Response.Error.Message = e.PublicMessage()
	env.Response.RequestId = requestID
	if e.RequestID != "" {
		env.Response.RequestId = e.RequestID
	}
	b, _ := json.Marshal(env)
	return b
}

// successBody wraps the inner object without re-encoding it, so every field
// the provider returned reaches the caller byte for byte.
func successBody(inner json.RawMessage) []byte {
	b := make([]byte, 0, len(inner)+14)
	b = append(b, `{"Response":`...)
	b = append(b, inner...)
	return append(b, '}')
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
