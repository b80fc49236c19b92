// Package gateway serves FaceID actions on every surface: POST
// /v1/faceid/<Action> with the FaceID envelope, the Tencent Cloud API 3.0 wire
// form (POST / with X-TC-Action), and direct invocation from workflows. Runtime
// adapters turn platform events into a Request and drive a Gateway.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/service"
)

// Options configure a Gateway.
type Options struct {
	Service *service.Service
	// Actions are the actions this function serves; empty means every FaceID action.
	Actions []string
	// Mode is "sandbox" or "live"; sandbox answers carry a marking header.
	Mode string
	// Auth authenticates HTTP callers; nil means LoopbackOnly.
	Auth Authenticator
	// Scenarios returns the sandbox scenario table served at
	// GET /v1/sandbox/scenarios; nil answers 404 there.
	Scenarios func() any
	Logger    *slog.Logger
	// Sandbox serves test callers (Caller.Test) in a live deployment; nil
	// refuses them.
	Sandbox *service.Service
	// Limiter enforces callers' rates; nil means no per-caller limits.
	Limiter RateLimiter
	// Idempotency keeps answers by Idempotency-Key; nil ignores the key.
	Idempotency IdempotencyStore
}

// Gateway implements Handler.
type Gateway struct {
	opts    Options
	served  map[string]bool
	only    string // the single action of a one-action function
	sandbox bool
}

var _ Handler = (*Gateway)(nil)

// New checks the options and builds a Gateway.
func New(opts Options) (*Gateway, error) {
	if opts.Service == nil || opts.Service.Provider == nil {
		return nil, errs.E(errs.Internal, "", "gateway needs a service with a provider")
	}
	if opts.Auth == nil {
		opts.Auth = LoopbackOnly{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{opts: opts, served: map[string]bool{}, sandbox: opts.Mode == "sandbox"}
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
		g.served[n] = true
	}
	if len(names) == 1 {
		g.only = names[0]
	}
	return g, nil
}

// Actions lists the served actions, sorted.
func (g *Gateway) Actions() []string {
	out := make([]string, 0, len(g.served))
	for n := range g.served {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ServeRequest routes one HTTP-shaped request.
func (g *Gateway) ServeRequest(ctx context.Context, req *Request) *Response {
	start := time.Now()
	if req.RequestID == "" {
		req.RequestID = newRequestID()
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	var resp *Response
	var ev event
	switch {
	case req.Path == "/" && req.Header.Get("X-TC-Action") != "":
		resp, ev = g.serveTencentAPI(ctx, req)
	case strings.HasPrefix(req.Path, faceidPrefix):
		resp, ev = g.serveFaceID(ctx, req)
	case req.Path == "/v1/sandbox/scenarios":
		resp, ev = g.serveScenarios(req), event{surface: "sandbox"}
	case req.Path == "/healthz" || req.Path == "/v1/actions":
		resp, ev = g.serveInfo(req), event{surface: "info"}
	default:
		resp = g.faceIDError(req.RequestID, errs.E(errs.NotFound, "InvalidAction",
			"no route for %s %s: POST /v1/faceid/<Action> or the Tencent API form POST / with X-TC-Action", req.Method, truncate(req.Path, 128)))
		ev = event{surface: "none"}
	}
	g.finish(resp, req.RequestID, ev.sandbox)
	ev.requestID, ev.status, ev.latency = req.RequestID, resp.Status, time.Since(start)
	g.log(ctx, ev)
	return resp
}

// finish adds the headers every answer carries.
func (g *Gateway) finish(resp *Response, requestID string, sandboxed bool) {
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if resp.Header.Get("Content-Type") == "" {
		resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp.Header.Set("X-Request-Id", requestID)
	resp.Header.Set("Cache-Control", "no-store")
	if g.sandbox || sandboxed {
		// Nobody may mistake an emulated answer for a real verification.
		resp.Header.Set("X-Idv-Mode", "sandbox")
	} else {
		resp.Header.Set("X-Idv-Mode", "live")
	}
}

// resolve checks that the function serves action.
func (g *Gateway) resolve(action string) error {
	if action == "" {
		return errs.E(errs.Invalid, "MissingParameter", "missing action name")
	}
	if g.served[action] {
		return nil
	}
	if _, ok := faceid.Lookup(action); ok {
		return errs.E(errs.NotFound, "InvalidAction", "action %s is not served by this function", action)
	}
	return errs.E(errs.NotFound, "InvalidAction", "unknown action %q", truncate(action, 64))
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ProviderName names the provider answering calls ("tencent", "sandbox").
func (g *Gateway) ProviderName() string { return g.opts.Service.Provider.Name() }
