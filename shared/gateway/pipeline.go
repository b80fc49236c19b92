// Package gateway is the one request pipeline every provider goes through.
// Runtime adapters turn platform events into a Request; the pipeline finds
// the route (and with it the body cap), checks the content type and
// whatever the headers can prove about the caller, reads the body up to
// the cap, authenticates, applies the caller's rate limit, binds flow
// tokens to the caller that created them, keeps Idempotency-Key answers,
// and only then hands the request to the provider's Contract. It answers
// in the contract's envelope, with the headers every answer carries, and
// writes one log line. A provider contributes a Contract and nothing else:
//
//	event → adapter → Request → route (cap) → content type → header auth →
//	body (capped) → auth → caller limit → token owner → idempotency →
//	Contract.Call → token bound → Contract.Render → adapter → platform
//
// The documented exceptions, answered to GET and HEAD before routing and
// without a caller: GET /healthz (and /v1/actions), and the static pages
// of Options.Pages (functions/all's /openapi.json and /docs). The sandbox
// tables (/v1/sandbox/...) take any caller once callers are configured.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// Options configure a Pipeline.
type Options struct {
	// Contracts are the providers served; the first answers routes nobody
	// claims and invocations without an Action.
	Contracts []Contract
	// Auth authenticates HTTP callers; nil means LoopbackOnly.
	Auth Authenticator
	// Limiter enforces callers' rates; nil means no per-caller limits.
	Limiter RateLimiter
	// Idempotency keeps answers by Idempotency-Key; nil ignores the key.
	Idempotency IdempotencyStore
	// Owners binds flow tokens to the caller that created them; nil keeps
	// them in this process's memory.
	Owners OwnerStore
	// OwnersPartial says Owners cannot see tokens created by other
	// instances (memory on an event platform): a token it does not know is
	// then served rather than refused. One it knows is always checked.
	OwnersPartial bool
	Logger        *slog.Logger
	// Interceptors wrap every contract call, the first outermost.
	Interceptors []Interceptor
	// Pages are static documents served at their path to GET and HEAD
	// (functions/all: the OpenAPI document and the /docs page). Like
	// /healthz they are public and read no body: they are answered before
	// routing and caller auth, from bytes built once, with the headers
	// every answer carries.
	Pages map[string]Page
}

// Page is one static document of Options.Pages.
type Page struct {
	ContentType string
	Body        []byte
	// Header is added to the answer (Content-Security-Policy...).
	Header http.Header
}

// Pipeline implements Handler over a set of contracts.
type Pipeline struct {
	opts      Options
	contracts []Contract
	tables    sync.Once
	scenarios map[string][]byte // path -> document, built once
}

var _ Handler = (*Pipeline)(nil)

// New checks the options and builds a Pipeline.
func New(opts Options) (*Pipeline, error) {
	if len(opts.Contracts) == 0 {
		return nil, errs.E(errs.Internal, "", "gateway: no contract to serve")
	}
	if opts.Auth == nil {
		opts.Auth = LoopbackOnly{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Owners == nil {
		opts.Owners = NewMemoryOwners()
	}
	return &Pipeline{opts: opts, contracts: opts.Contracts}, nil
}

// Contracts lists the served contracts, the default first.
func (p *Pipeline) Contracts() []Contract { return append([]Contract(nil), p.contracts...) }

// IdempotencyHeader names the header that makes a retried request return
// the first answer.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyMember is the payload member that carries an idempotency key
// in a direct invocation.
const IdempotencyMember = "IdempotencyKey"

// NotStoredHeader says the provider answered but the answer could not be
// kept under the Idempotency-Key: a retry of that key cannot replay it.
const NotStoredHeader = "X-Idv-Idempotency"

// uniqueHeaders may appear once: two values would let two readers of the
// same request disagree about it. (Two Authorization headers are the
// caller policy's to refuse, as the auth failure clients expect.)
var uniqueHeaders = []string{IdempotencyHeader, "Content-Type", "X-Tc-Action", "X-Tc-Version", "X-Tc-Timestamp"}

// ScenariosPath serves every contract's sandbox table.
const ScenariosPath = "/v1/sandbox/scenarios"

// ServeRequest answers one HTTP-shaped request.
func (p *Pipeline) ServeRequest(ctx context.Context, req *Request) *Response {
	start := time.Now()
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	ev := event{requestID: req.RequestID}
	resp := p.serve(ctx, req, &ev)
	ev.status, ev.latency = resp.Status, time.Since(start)
	p.log(ctx, ev)
	return resp
}

func (p *Pipeline) serve(ctx context.Context, req *Request, ev *event) *Response {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		if req.Path == "/healthz" || req.Path == "/v1/actions" {
			ev.surface = "info"
			return p.finish(jsonResponse(http.StatusOK, p.health()), req.RequestID, "", 0)
		}
		if doc, ok := p.scenarioDoc(req.Path); ok {
			ev.surface = "sandbox"
			return p.serveScenarios(ctx, req, doc)
		}
		if pg, ok := p.opts.Pages[req.Path]; ok {
			ev.surface = "docs"
			h := pg.Header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("Content-Type", pg.ContentType)
			h.Set("X-Content-Type-Options", "nosniff")
			return p.finish(&Response{Status: http.StatusOK, Header: h, Body: pg.Body}, req.RequestID, "", 0)
		}
	}
	c, op := p.route(req)
	ev.contract, ev.surface, ev.action = c.Name(), op.Surface, op.Action
	mode := c.Mode()
	fail := func(err error) *Response {
		e := errs.As(err)
		ev.fail(e)
		return p.finish(c.Render(op, nil, e, req.RequestID), req.RequestID, mode, retryAfter(e))
	}
	if op.Err != nil {
		resp := fail(op.Err)
		if op.Status != 0 {
			resp.Status = op.Status
		}
		for k, v := range op.Header {
			resp.Header[k] = v
		}
		return resp
	}
	for _, h := range uniqueHeaders {
		if len(req.Header.Values(h)) > 1 {
			return fail(errs.E(errs.Invalid, "InvalidParameter", "header %s appears more than once: send it once", http.CanonicalHeaderKey(h)))
		}
	}
	if err := checkContentType(req.Header.Get("Content-Type"), op.JSON); err != nil {
		return fail(err)
	}
	if hc, ok := p.opts.Auth.(HeaderChecker); ok && !op.Public {
		if err := hc.CheckHeaders(ctx, req, op.Action); err != nil {
			return fail(err)
		}
	}
	if err := readBody(req, op.MaxBody); err != nil {
		return fail(err)
	}
	caller := PublicCaller
	if !op.Public {
		var err error
		if caller, err = p.opts.Auth.Authenticate(ctx, req, op.Action); err != nil {
			return fail(err)
		}
	}
	ev.caller = caller.ID
	if caller.Test {
		mode = "sandbox"
	}
	// A second Idempotency-Key was refused with the other unique headers.
	key := req.Header.Get(IdempotencyHeader)
	o, err := p.execute(ctx, c, &Call{Op: op, Caller: caller, Body: req.Body, RequestID: req.RequestID,
		Header: req.Header, Path: req.Path, RawQuery: req.RawQuery}, key)
	ev.done(o)
	if o.ans != nil && o.ans.Sandbox {
		mode = "sandbox"
	}
	var resp *Response
	if err != nil {
		resp = fail(err)
	} else {
		resp = p.finish(c.Render(op, o.ans, nil, req.RequestID), req.RequestID, mode, 0)
		for k, v := range o.ans.Header {
			resp.Header.Set(k, v)
		}
	}
	if o.replayed {
		resp.Header.Set("Idempotent-Replayed", "true")
	}
	if o.notStored {
		resp.Header.Set(NotStoredHeader, "not-stored")
	}
	return resp
}

// route finds the contract that owns req, or the default contract with a
// NotFound operation.
func (p *Pipeline) route(req *Request) (Contract, Op) {
	for _, c := range p.contracts {
		if op, ok := c.Route(req); ok {
			return c, op
		}
	}
	var routes []string
	for _, c := range p.contracts {
		if d, ok := c.(Describer); ok {
			routes = append(routes, d.Routes()...)
		}
	}
	hint := ""
	if len(routes) > 0 {
		hint = ": " + strings.Join(routes, ", ")
	}
	return p.contracts[0], Op{Surface: "none", Err: errs.E(errs.NotFound, "InvalidAction",
		"no route for %s %s%s", truncate(req.Method, 16), truncate(req.Path, 128), hint)}
}

// finish adds the headers every answer carries.
func (p *Pipeline) finish(resp *Response, requestID, mode string, after time.Duration) *Response {
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	if resp.Header.Get("Content-Type") == "" {
		resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp.Header.Set("X-Request-Id", requestID)
	resp.Header.Set("Cache-Control", "no-store")
	if mode == "" {
		mode = p.contracts[0].Mode()
	}
	// Nobody may mistake an emulated answer for a real verification.
	resp.Header.Set("X-Idv-Mode", mode)
	if after > 0 {
		resp.Header.Set("Retry-After", strconv.FormatInt(int64((after+time.Second-1)/time.Second), 10))
	}
	return resp
}

// ReadBody reads req's body into req.Body, refusing one over limit before
// reading more than limit+1 bytes of it. The pipeline does this for every
// contract; a Handler written without it (a runtime test function) calls
// it itself.
func ReadBody(req *Request, limit int64) error { return readBody(req, limit) }

func readBody(req *Request, limit int64) error {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if req.BodyReader != nil {
		if req.ContentLength > limit {
			return tooLarge(req.ContentLength, limit)
		}
		r := req.BodyReader
		req.BodyReader = nil
		body, err := readAtMost(r, limit+1, req.ContentLength)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooLarge(mbe.Limit+1, limit)
			}
			return errs.Wrap(err, errs.Invalid, "InvalidParameter", "could not read the request body")
		}
		if int64(len(body)) > limit {
			return tooLarge(-1, limit)
		}
		req.Body = body
		if len(req.Body) == 0 {
			req.Body = nil
		}
	}
	if int64(len(req.Body)) > limit {
		return tooLarge(int64(len(req.Body)), limit)
	}
	return nil
}

// readAtMost reads up to n bytes of r. With a declared length the buffer
// is allocated once at that size plus the byte that shows EOF, so a 6 MB
// body costs 6 MB, not the doublings io.ReadAll would go through.
func readAtMost(r io.Reader, n, declared int64) ([]byte, error) {
	size := int64(512)
	if declared >= 0 && declared < n {
		size = declared + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r, n)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// DefaultMaxBody caps a route that names no cap.
const DefaultMaxBody = 64 << 10

// RequestSizeLimitExceeded is the code of a body over its route's cap
// (Tencent's code; every contract renders it in its own envelope).
const RequestSizeLimitExceeded = "RequestSizeLimitExceeded"

func tooLarge(got, limit int64) error {
	if got < 0 {
		return errs.E(errs.Invalid, RequestSizeLimitExceeded, "request body is larger than this route accepts (at most %d bytes)", limit)
	}
	return errs.E(errs.Invalid, RequestSizeLimitExceeded, "request body is %d bytes; this route accepts at most %d bytes", got, limit)
}

// checkContentType applies a route's JSONPolicy. Anything but JSON
// (multipart, XML, text) is refused before the body is looked at.
func checkContentType(ct string, policy JSONPolicy) error {
	if policy == NoBody {
		return nil
	}
	lenient := policy == JSONLenient
	if strings.TrimSpace(ct) == "" {
		if lenient {
			return nil
		}
		return errs.E(errs.Invalid, "UnsupportedMediaType", "missing Content-Type: send application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && lenient && mt == "application/x-www-form-urlencoded" {
		return nil
	}
	if err != nil || mt != "application/json" {
		return errs.E(errs.Invalid, "UnsupportedMediaType", "Content-Type %q is not accepted: send application/json", truncate(HeaderSafe(ct), 64))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return errs.E(errs.Invalid, "UnsupportedMediaType", "charset %q is not accepted: the body must be UTF-8", truncate(HeaderSafe(cs), 32))
	}
	return nil
}

// serveScenarios serves a sandbox table from bytes built once. Where
// callers are configured it takes a caller (any caller: the table is not
// per action); without, the function's policy (loopback, open sandbox).
func (p *Pipeline) serveScenarios(ctx context.Context, req *Request, doc []byte) *Response {
	c := p.contracts[0]
	op := Op{Surface: "sandbox", JSON: NoBody}
	_, err := p.opts.Auth.Authenticate(ctx, req, "")
	if err != nil && errs.KindOf(err) != errs.Forbidden {
		e := errs.As(err)
		return p.finish(c.Render(op, nil, e, req.RequestID), req.RequestID, "", 0)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return p.finish(&Response{Status: http.StatusOK, Header: h, Body: doc}, req.RequestID, "", 0)
}

// scenarioDoc is the table served at path, built on first use.
func (p *Pipeline) scenarioDoc(path string) ([]byte, bool) {
	if path != ScenariosPath && !strings.HasPrefix(path, "/v1/sandbox/") {
		return nil, false
	}
	p.tables.Do(p.buildTables)
	doc, ok := p.scenarios[path]
	return doc, ok
}

func (p *Pipeline) buildTables() {
	p.scenarios = map[string][]byte{}
	merged := map[string]any{}
	var single []byte
	for _, c := range p.contracts {
		s, ok := c.(Sandboxed)
		if !ok {
			continue
		}
		t := s.SandboxTable()
		if t.Table == nil {
			continue
		}
		table := t.Table()
		merged[t.Key] = table
		doc := any(map[string]any{t.Key: table})
		if t.Doc != nil {
			doc = t.Doc(table)
		}
		b := marshalDoc(doc)
		if t.Path != "" {
			p.scenarios[t.Path] = b
		}
		single = b
	}
	switch {
	case len(merged) == 0:
	case len(p.providers()) == 1:
		// A one-provider function serves that provider's own document at
		// the common path too.
		p.scenarios[ScenariosPath] = single
	default:
		p.scenarios[ScenariosPath] = marshalDoc(merged)
	}
}

func marshalDoc(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []byte("{}\n")
	}
	return append(b, '\n')
}

// health is GET /healthz: the first contract's description, and every
// contract's under "providers" when there are several.
func (p *Pipeline) health() map[string]any {
	describe := func(c Contract) map[string]any {
		m := map[string]any{"status": "ok", "mode": c.Mode()}
		if d, ok := c.(Describer); ok {
			for k, v := range d.Health() {
				m[k] = v
			}
		}
		return m
	}
	providers := p.providers()
	out := describe(providers[0])
	if len(providers) > 1 {
		all := map[string]any{}
		for _, c := range providers {
			all[c.Name()] = describe(c)
		}
		out["providers"] = all
	}
	return out
}

// Auxiliary is implemented by contracts that serve the deployment rather
// than a provider (the usage report): routed and authenticated like any
// other, but left out of /healthz and the sandbox tables.
type Auxiliary interface{ Auxiliary() bool }

// providers are the contracts that are not Auxiliary, the default first.
func (p *Pipeline) providers() []Contract {
	out := make([]Contract, 0, len(p.contracts))
	for _, c := range p.contracts {
		if a, ok := c.(Auxiliary); !ok || !a.Auxiliary() {
			out = append(out, c)
		}
	}
	return out
}

func jsonResponse(status int, v any) *Response {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return &Response{Status: http.StatusInternalServerError, Body: []byte(`{"error":"internal error"}`)}
	}
	return &Response{Status: status, Body: append(b, '\n')}
}

// NewRequestID makes a random request id in UUID form.
func NewRequestID() string {
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

// HeaderSafe keeps a header value printable ASCII.
func HeaderSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
