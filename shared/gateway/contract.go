package gateway

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/idverify/idverify/shared/errs"
)

// Contract is what a provider contributes to the pipeline: its routes, how
// to decode, validate and call one operation, and how its answers and
// errors look on the wire. It knows nothing of keys, limits, stores or
// logs; the pipeline around it does all of that, the same way for every
// provider (FaceID, the seed-002 faceAdv pair, Baidu faceprint, and the
// next one).
type Contract interface {
	// Name keys the contract in logs, health and the merged sandbox table
	// ("faceid", "faceAdv", "faceprint").
	Name() string
	// Mode is "live" or "sandbox": what its answers are marked with.
	Mode() string
	// Route finds the operation an HTTP request asks for from its method,
	// path and headers; the body is not read yet. ok is false when the
	// path is not this contract's.
	Route(req *Request) (op Op, ok bool)
	// RouteInvoke finds the operation of a direct invocation whose
	// "Action" member is action ("" when the payload has none, which only
	// the function's first contract is asked about). ok is false when the
	// action is not this contract's.
	RouteInvoke(action string, members map[string]json.RawMessage) (op Op, ok bool)
	// Call decodes and validates the request for op, then calls the
	// provider (or the sandbox). A refusal made before any upstream call is
	// an *errs.Error of kind Invalid (or NotFound...), so the pipeline
	// knows nothing was billed.
	Call(ctx context.Context, c *Call) (*Answer, error)
	// Render is the HTTP answer for op: ans on success, else err.
	Render(op Op, ans *Answer, err *errs.Error, requestID string) *Response
	// Output is a direct invocation's answer. An answer the contract
	// treats as a failure for workflows (a seed-002 errcode) is an error.
	Output(op Op, ans *Answer) ([]byte, error)
}

// Describer is implemented by contracts with something to show at
// /healthz and in the sandbox tables.
type Describer interface {
	// Health is the contract's part of GET /healthz.
	Health() map[string]any
	// Routes lists the routes served, for error messages ("POST /v1/faceid/<Action>").
	Routes() []string
}

// SandboxTable is a contract's table of magic values: served at Path, and
// merged under Key into GET /v1/sandbox/scenarios.
type SandboxTable struct {
	Path string // the contract's own route, "" for none
	Key  string
	// Table builds the table (once per process).
	Table func() any
	// Doc is the document served at Path (and at /v1/sandbox/scenarios
	// by a one-provider function), made from the table.
	Doc func(table any) any
}

// Sandboxed is implemented by contracts that document sandbox magic values.
type Sandboxed interface {
	SandboxTable() SandboxTable
}

// JSONPolicy says which Content-Type a route accepts.
type JSONPolicy uint8

const (
	// JSONLenient accepts application/json, no Content-Type, and curl -d's
	// form type (the body is decoded strictly as JSON whatever the label).
	JSONLenient JSONPolicy = iota
	// JSONStrict requires application/json (the Tencent API 3.0 form).
	JSONStrict
	// NoBody routes read no body (control operations).
	NoBody
)

// Op is one routed operation.
type Op struct {
	// Action is the name caller permissions, limits, idempotency scopes and
	// logs use ("IdCardVerification", "faceAdv", "faceprint/result/detail").
	// It is set only to names the contract knows: it is logged.
	Action string
	// Surface names the wire form for logs and rendering ("faceid",
	// "tcapi", "invoke", "faceAdv", "faceprint").
	Surface string
	// MaxBody caps the body, in bytes; known before the body is read.
	MaxBody int64
	// JSON is the Content-Type rule of the route.
	JSON JSONPolicy
	// Err refuses the request before anything else (unknown action, wrong
	// method): it is answered without authentication.
	Err *errs.Error
	// Status overrides the HTTP status of Err (405 for a method).
	Status int
	// Header is added to the answer (Allow for a 405).
	Header http.Header
	// Control marks an operation that is not a paid call (resuming an
	// async job): no idempotency, no token binding.
	Control bool
	// Public marks a route a browser reaches with no credential (a flow's
	// return route, a sandbox page): no caller is authenticated and the
	// call runs as PublicCaller. Such a route must make no paid call on
	// its own and must prove what it serves by a value it issued (a flow
	// id), never by the caller.
	Public bool
	// Consumes names the request members that carry a flow token this
	// operation reads (the first one present counts); Produces names the
	// answer members (dotted paths) of the tokens it hands out. The
	// pipeline binds a produced token to the caller and refuses a consumed
	// token that another caller created.
	Consumes []TokenField
	Produces []TokenField
	// Data is the contract's own.
	Data any
}

// Interceptor wraps every contract call the pipeline makes, after the
// caller is authenticated, limited and owns its tokens, and inside
// idempotency (a replayed answer is not intercepted again): the place for
// policy that needs the decoded operation and the answer (flows, per-person
// limits, budgets, usage). It calls next to go on, and may refuse before
// next (nothing is sent) or look at the answer after it.
type Interceptor interface {
	Intercept(ctx context.Context, c Contract, call *Call, next CallFunc) (*Answer, error)
}

// CallFunc is the rest of the chain: the next interceptor, or the contract.
type CallFunc func(ctx context.Context, call *Call) (*Answer, error)

// PublicCaller is who a Public route runs as.
var PublicCaller = &Caller{ID: "public"}

// TokenField is where a flow token sits: a dotted member path in a request
// or an answer, and the token's kind (tokens of one kind share a
// namespace: GetFaceIdToken and GetFaceidRiskInfoToken both hand out a
// FaceIdToken).
type TokenField struct {
	Path string
	Kind string
}

// Call is one operation ready to run: routed, authenticated, within its
// limits, owned.
type Call struct {
	Op        Op
	Caller    *Caller
	Body      []byte
	RequestID string
	// Header is the HTTP request's headers (nil for an invocation); the
	// query string is RawQuery. Contracts route on them already; they are
	// here for routes that read a path id or a query (flows).
	Header   http.Header
	Path     string
	RawQuery string
}

// Answer is a contract's successful answer.
type Answer struct {
	// Body is what the contract renders: FaceID's inner Response object,
	// the seed-002 envelope, Baidu's answer.
	Body []byte
	// Header is added to the HTTP answer (X-Idv-Source...).
	Header map[string]string
	// Code is the business result code, for logs; never personal data.
	Code string
	// Sandbox says the sandbox answered (sandbox mode or a test caller).
	Sandbox bool
}

// PublicTokens is implemented by contracts whose sandbox documents magic
// flow tokens nobody created (sandbox-nfc-outcome-NN): those are served to
// any caller.
type PublicTokens interface {
	PublicToken(kind, value string) bool
}

// InvokeErrors is implemented by contracts whose direct-invocation errors
// read differently from their HTTP ones (Baidu's code in the message).
type InvokeErrors interface {
	InvokeError(op Op, err *errs.Error) error
}
