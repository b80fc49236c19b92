package sandbox

import (
	"strings"

	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"github.com/idverify/idverify/shared/provider"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// Options configures a Provider. The zero value is ready to use.
type Options struct {
	// Now is the clock that token lifetimes are measured against. Tests
	// pass a fake clock to move past the 10-minute and 3-day limits
	// without waiting. Default time.Now.
	Now func() time.Time
	// URLBase is the scheme and host of the Url values that DetectAuth and
	// GetEidToken return. The default is under the reserved .invalid TLD so
	// that a sandbox link can never be mistaken for, or open, a real
	// Tencent verification page. A gateway that serves its own demo page
	// may point it there.
	URLBase string
	// Flows is where the browser flows (DetectAuth, GetEidToken) record
	// their redirect at issue time and find the outcome a tester chose on
	// the sandbox H5 page (shared/sandboxh5). Nil: no page state, every
	// flow ends as its magic value says.
	Flows sandboxflow.Store
	// EidPublicKey is the merchant's eID key that GetEidResult encrypts
	// identities to (the public half of IDV_EID_SM2_PRIVATE_KEY); nil is
	// the sandbox's own (EidPrivateKey).
	EidPublicKey *ecdsa.PublicKey
}

// DefaultURLBase is the URLBase used when Options leaves it empty.
const DefaultURLBase = "https://sandbox.idverify.invalid"

// Provider is the sandbox FaceID provider. It is safe for concurrent use.
type Provider struct {
	now     func() time.Time
	urlBase string
	state   sandboxflow.Store // page choices (Options.Flows); nil for none
	eidKey  *ecdsa.PublicKey
	seq     atomic.Uint64 // numbers request ids, tokens and live codes

	handlers map[string]handler // the actions this provider serves

	mu    sync.Mutex
	flows map[string]*flowRecord // keyed by token; see token.go
	added int                    // records added since the last prune
}

// New returns a sandbox provider of every FaceID action. It does no I/O and
// allocates little, so a gateway may build one even when it talks to the
// live provider, only to serve the scenario table.
func New(opts Options) *Provider { return newProvider(opts, allHandlers()) }

// Action is one action's sandbox, for NewFor.
type Action struct {
	name string
	h    handler
}

// NewFor returns a sandbox provider of the given actions only (each from
// its function in actions.go, e.g. sandbox.IdCardVerification()). A
// function serving one action links that action's emulation and not the
// others: New references every handler, NewFor only those it is given.
func NewFor(opts Options, actions ...Action) *Provider {
	hs := make(map[string]handler, len(actions))
	for _, a := range actions {
		hs[a.name] = a.h
	}
	return newProvider(opts, hs)
}

func newProvider(opts Options, hs map[string]handler) *Provider {
	p := &Provider{now: opts.Now, urlBase: strings.TrimRight(opts.URLBase, "/"), state: opts.Flows, eidKey: opts.EidPublicKey, handlers: hs, flows: map[string]*flowRecord{}}
	if p.now == nil {
		p.now = time.Now
	}
	if p.urlBase == "" {
		p.urlBase = DefaultURLBase
	}
	return p
}

// Name is "sandbox".
func (p *Provider) Name() string { return "sandbox" }

// Scenarios returns the scenario table (see the package function) as of
// the provider's clock.
func (p *Provider) Scenarios() []Scenario { return scenariosAt(p.now()) }

// call carries what one Call knows to the action handler.
type call struct {
	ctx     context.Context
	action  string
	rid     string    // the RequestId of this call, always "sandbox-..."
	seq     uint64    // this call's number within the Provider
	now     time.Time // read once so a call sees one instant
	outcome outcome   // chosen from the request by the action's plan
	index   int       // outcome's number in the plan, -1 for invalid input
}

// handler serves one action. It returns the response model (RequestId is
// filled in by Call) or an error.
type handler func(p *Provider, c *call, params []byte) (any, error)

// handle adapts a handler written for one request model, so that each
// action's code works with typed fields and the decoding lives in one place.
func handle[Req any](f func(p *Provider, c *call, r *Req) (any, error)) handler {
	return func(p *Provider, c *call, params []byte) (any, error) {
		r := new(Req)
		if len(params) > 0 {
			// Lenient on purpose: unknown fields were already refused by
			// precheck, and the sandbox must answer whatever reaches it.
			if err := json.Unmarshal(params, r); err != nil {
				return nil, c.fail(errs.Invalid, "InvalidParameter", "request body is not a valid %s request", c.action)
			}
		}
		if pl := plans()[c.action]; pl != nil {
			c.index, c.outcome = pl.pick(r)
			if c.outcome.Local && c.outcome.Error {
				// Invalid input Tencent refuses with an API error (as our
				// precheck does), whatever the action's normal answer.
				return nil, c.failCode(c.outcome.Code, "")
			}
		}
		return f(p, c, r)
	}
}

// Call answers one FaceID action the way Tencent would, without any
// outbound call. The result is the inner Response object, RequestId
// included.
func (p *Provider) Call(ctx context.Context, action string, params json.RawMessage) (out json.RawMessage, err error) {
	c := p.newCall(action)
	c.ctx = ctx
	if id := provider.RequestID(ctx); strings.HasPrefix(id, "sandbox-") && len(id) <= 64 {
		// The gateway's id: answer, header and logs name the same request.
		c.rid = id
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "", "request cancelled before the sandbox answered")
	}
	h, ok := p.handlers[action]
	if !ok {
		return nil, c.fail(errs.NotFound, "InvalidAction", "the sandbox does not know the action")
	}
	defer func() {
		// The sandbox is the default provider of a fresh deployment: a bug
		// in it must become an error answer, never a crashed function.
		if r := recover(); r != nil {
			out, err = nil, &errs.Error{Kind: errs.Internal, Code: "InternalError", Message: "internal error", RequestID: c.rid, Err: fmt.Errorf("sandbox panic in %s: %v", action, r)}
		}
	}()
	params, answer, err := c.openRequest(params) // crypt.go
	if err != nil {
		return nil, err
	}
	resp, err := h(p, c, params)
	if err != nil {
		return nil, err
	}
	setString(resp, "RequestId", c.rid)
	if out, err = marshalAll(resp); err != nil || answer == nil {
		return out, err
	}
	return c.sealAnswer(answer, out)
}

func (p *Provider) newCall(action string) *call {
	n := p.seq.Add(1)
	return &call{action: action, rid: requestID(n), seq: n, now: p.now()}
}

// requestID looks like Tencent's UUID request ids but starts with
// "sandbox-", so nobody can mistake a sandbox answer for a real one in a
// log, a support ticket or a bill.
func requestID(n uint64) string {
	return fmt.Sprintf("sandbox-%08x-0000-4000-8000-%012x", uint32(n>>48), n&0xffffffffffff)
}

// fail builds an API error answer (Tencent's Response.Error).
func (c *call) fail(kind errs.Kind, code, format string, args ...any) *errs.Error {
	e := errs.E(kind, code, format, args...)
	e.RequestID = c.rid
	return e
}

// failCode builds the API error for a documented FaceID error code, with
// Tencent's own description as the message and the kind the code implies.
func (c *call) failCode(code, detail string) *errs.Error {
	msg, _ := faceid.ErrorDescription(code)
	if detail != "" {
		msg += " (sandbox: " + detail + ")"
	}
	return c.fail(kindOf(code), code, "%s", msg)
}

// kindOf maps a Tencent error code to our error kind, as the live provider
// does, so that workflows see the same type names in both.
func kindOf(code string) errs.Kind {
	switch {
	case hasPrefix(code, "InvalidParameter"), hasPrefix(code, "MissingParameter"), hasPrefix(code, "UnknownParameter"):
		return errs.Invalid
	case hasPrefix(code, "UnauthorizedOperation"), hasPrefix(code, "AuthFailure"):
		return errs.Forbidden
	case hasPrefix(code, "RequestLimitExceeded"):
		return errs.Throttled
	case hasPrefix(code, "InternalError"):
		return errs.Unavailable
	default:
		return errs.Provider
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// allHandlers serves every FaceID action; a test checks it against the
// registry. It is a function, not a table, so that a binary that calls only
// NewFor does not link it.
func allHandlers() map[string]handler {
	all := AllActions()
	hs := make(map[string]handler, len(all))
	for _, a := range all {
		hs[a.name] = a.h
	}
	return hs
}
