package gateway

// Tests of the request pipeline itself, with a small fake Contract (its own
// routes and envelope, a counting Call, declared flow tokens) and fake
// stores, so every assertion is about what the pipeline does around a
// contract, whichever provider it is.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// ---------------------------------------------------------------------------
// A fake contract.

const (
	kindToken = "fake/token"
	kindOther = "fake/other"
)

// fakeContract serves POST /v1/<name>/<Action> for the actions in ops and
// answers in its own envelope {"contract","requestId","data"|"error"}.
type fakeContract struct {
	name   string
	mode   string
	prefix string
	ops    map[string]Op
	// call replaces the default behaviour of Call (it is counted either way).
	call   func(ctx context.Context, c *Call) (*Answer, error)
	public func(kind, value string) bool
	table  *SandboxTable

	mu    sync.Mutex
	calls int
	last  *Call
	seen  [][]byte // bodies handed to Call
}

func newFake(name string) *fakeContract {
	return &fakeContract{name: name, mode: "live", prefix: "/v1/" + name + "/", ops: map[string]Op{
		"Echo":   {MaxBody: 64},
		"Strict": {JSON: JSONStrict},
		"Ping":   {JSON: NoBody, Control: true},
		"Start":  {Produces: []TokenField{{Path: "data.token", Kind: kindToken}, {Path: "data.other", Kind: kindOther}}},
		"Result": {Consumes: []TokenField{{Path: "token", Kind: kindToken}, {Path: "other", Kind: kindOther}}},
	}}
}

func (f *fakeContract) Name() string { return f.name }
func (f *fakeContract) Mode() string { return f.mode }

func (f *fakeContract) Route(req *Request) (Op, bool) {
	if !strings.HasPrefix(req.Path, f.prefix) {
		return Op{}, false
	}
	action := strings.TrimPrefix(req.Path, f.prefix)
	op, ok := f.ops[action]
	if !ok {
		return Op{Surface: f.name, Err: errs.E(errs.NotFound, "InvalidAction", "%s has no such action", f.name)}, true
	}
	op.Action, op.Surface = action, f.name
	if req.Method != http.MethodPost {
		return Op{Action: action, Surface: f.name, Err: errs.E(errs.Invalid, "UnsupportedMethod", "use POST"),
			Status: http.StatusMethodNotAllowed, Header: http.Header{"Allow": {"POST"}}}, true
	}
	return op, true
}

func (f *fakeContract) RouteInvoke(action string, _ map[string]json.RawMessage) (Op, bool) {
	if action == "" {
		action = "Echo"
	}
	op, ok := f.ops[action]
	if !ok {
		return Op{}, false
	}
	op.Action, op.Surface = action, "invoke"
	return op, true
}

func (f *fakeContract) Call(ctx context.Context, c *Call) (*Answer, error) {
	f.mu.Lock()
	f.calls++
	f.last = c
	f.seen = append(f.seen, append([]byte(nil), c.Body...))
	f.mu.Unlock()
	if f.call != nil {
		return f.call(ctx, c)
	}
	if c.Op.Action == "Start" {
		// {"want":"tok"} hands out the token tok.
		var in struct{ Want, Other string }
		_ = json.Unmarshal(c.Body, &in)
		b, _ := json.Marshal(map[string]any{"data": map[string]string{"token": in.Want, "other": in.Other}})
		return &Answer{Body: b, Code: "OK"}, nil
	}
	return &Answer{Body: []byte(`{"ok":true}`), Code: "OK", Header: map[string]string{"X-Fake-Source": f.name}}, nil
}

func (f *fakeContract) Render(op Op, ans *Answer, e *errs.Error, requestID string) *Response {
	env := map[string]any{"contract": f.name, "requestId": requestID}
	status := http.StatusOK
	if e != nil {
		env["error"] = map[string]string{"code": e.Code, "message": e.PublicMessage()}
		status = e.Kind.HTTPStatus()
	} else if ans != nil && json.Valid(ans.Body) {
		env["data"] = json.RawMessage(ans.Body)
	}
	b, err := json.Marshal(env)
	if err != nil {
		b = []byte(`{"contract":"broken"}`)
	}
	return &Response{Status: status, Body: b}
}

func (f *fakeContract) Output(_ Op, ans *Answer) ([]byte, error) {
	return append([]byte(`{"out":`), append(ans.Body, '}')...), nil
}

func (f *fakeContract) Health() map[string]any { return map[string]any{"fake": f.name} }

func (f *fakeContract) Routes() []string {
	var r []string
	for a := range f.ops {
		r = append(r, "POST "+f.prefix+a)
	}
	sort.Strings(r)
	return r
}

func (f *fakeContract) SandboxTable() SandboxTable {
	if f.table == nil {
		return SandboxTable{}
	}
	return *f.table
}

func (f *fakeContract) PublicToken(kind, value string) bool {
	return f.public != nil && f.public(kind, value)
}

func (f *fakeContract) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeContract) lastCall() *Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// hookContract is a fakeContract whose direct-invocation errors read
// differently (InvokeErrors).
type hookContract struct {
	*fakeContract
	hooked atomic.Int32
}

func (h *hookContract) InvokeError(_ Op, e *errs.Error) error {
	h.hooked.Add(1)
	return errs.E(e.Kind, "Hooked."+e.Code, "%s", e.Message)
}

// ---------------------------------------------------------------------------
// Fake authentication, stores and limiter.

// fakeAuth knows three bearer keys; it counts its calls and keeps the body
// each saw.
type fakeAuth struct {
	mu      sync.Mutex
	calls   int
	actions []string
	bodies  [][]byte
	unread  bool // a BodyReader was still pending at Authenticate
	err     error
}

var fakeCallers = map[string]Caller{
	"Bearer key-alice": {ID: "alice"},
	"Bearer key-bob":   {ID: "bob"},
	"Bearer key-test":  {ID: "tester", Test: true},
}

func (a *fakeAuth) Authenticate(_ context.Context, req *Request, action string) (*Caller, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.actions = append(a.actions, action)
	a.bodies = append(a.bodies, append([]byte(nil), req.Body...))
	if req.BodyReader != nil {
		a.unread = true
	}
	if a.err != nil {
		return nil, a.err
	}
	c, ok := fakeCallers[req.Header.Get("Authorization")]
	if !ok {
		return nil, errs.E(errs.Unauthorized, "AuthFailure.SecretIdNotFound", "unknown key")
	}
	return &c, nil
}

func (a *fakeAuth) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// headerAuth also refuses from headers alone (HeaderChecker).
type headerAuth struct {
	*fakeAuth
	checks atomic.Int32
	refuse bool
}

func (h *headerAuth) CheckHeaders(_ context.Context, req *Request, _ string) error {
	h.checks.Add(1)
	if h.refuse {
		return errs.E(errs.Unauthorized, "AuthFailure.SignatureExpire", "refused from headers")
	}
	return nil
}

// memIdem is an IdempotencyStore in memory that records the order of what
// the pipeline asks of it.
type memIdem struct {
	mu          sync.Mutex
	recs        map[string][]byte
	fps         map[string]string
	held        map[string]bool
	events      []string
	scopes      []string
	beginErr    error
	sendingErr  error
	completeErr error
}

func newMemIdem() *memIdem {
	return &memIdem{recs: map[string][]byte{}, fps: map[string]string{}, held: map[string]bool{}}
}

func (s *memIdem) note(ev string) {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
}

func (s *memIdem) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.events, ",")
}

func (s *memIdem) Begin(_ context.Context, scope, key, fp string) (IdempotencyClaim, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, "begin")
	s.scopes = append(s.scopes, scope)
	if s.beginErr != nil {
		return nil, nil, s.beginErr
	}
	k := scope + "\x00" + key
	if b, ok := s.recs[k]; ok {
		if s.fps[k] != fp {
			return nil, nil, errs.E(errs.Conflict, "IdempotencyKeyReused", "key reused for another request")
		}
		return nil, b, nil
	}
	if s.held[k] {
		return nil, nil, errs.E(errs.Conflict, "IdempotencyInProgress", "in progress")
	}
	s.held[k], s.fps[k] = true, fp
	return &memClaim{s: s, k: k}, nil, nil
}

type memClaim struct {
	s *memIdem
	k string
}

func (c *memClaim) Sending(context.Context) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.events = append(c.s.events, "sending")
	if c.s.sendingErr != nil {
		delete(c.s.held, c.k) // the claim frees itself
	}
	return c.s.sendingErr
}

func (c *memClaim) Complete(_ context.Context, answer []byte) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.events = append(c.s.events, "complete")
	delete(c.s.held, c.k)
	if c.s.completeErr != nil {
		return c.s.completeErr
	}
	c.s.recs[c.k] = answer
	return nil
}

func (c *memClaim) Release(context.Context) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.events = append(c.s.events, "release")
	delete(c.s.held, c.k)
	return nil
}

// fakeLimiter answers every Allow the same way and records the asks.
type fakeLimiter struct {
	mu     sync.Mutex
	deny   bool
	after  time.Duration
	err    error
	keys   []string
	rates  []float64
	bursts []int
}

func (l *fakeLimiter) Allow(_ context.Context, key string, perSecond float64, burst int) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys, l.rates, l.bursts = append(l.keys, key), append(l.rates, perSecond), append(l.bursts, burst)
	if l.err != nil {
		return false, 0, l.err
	}
	if l.deny {
		return false, l.after, nil
	}
	return true, 0, nil
}

// countingOwners is a MemoryOwners that counts binds and can fail.
type countingOwners struct {
	*MemoryOwners
	binds    atomic.Int32
	lookups  atomic.Int32
	ownerErr error
	bindErr  error
}

func (o *countingOwners) Bind(ctx context.Context, kind, token, caller string, ttl time.Duration) error {
	o.binds.Add(1)
	if o.bindErr != nil {
		return o.bindErr
	}
	return o.MemoryOwners.Bind(ctx, kind, token, caller, ttl)
}

func (o *countingOwners) Owner(ctx context.Context, kind, token string) (string, error) {
	o.lookups.Add(1)
	if o.ownerErr != nil {
		return "", o.ownerErr
	}
	return o.MemoryOwners.Owner(ctx, kind, token)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ---------------------------------------------------------------------------
// Helpers.

type env struct {
	Contract  string          `json:"contract"`
	RequestID string          `json:"requestId"`
	Data      json.RawMessage `json:"data"`
	Error     *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeEnv(t testing.TB, resp *Response) env {
	t.Helper()
	var e env
	if err := json.Unmarshal(resp.Body, &e); err != nil {
		t.Fatalf("answer is not the fake envelope: %v: %s", err, resp.Body)
	}
	return e
}

func errCode(t testing.TB, resp *Response) string {
	t.Helper()
	e := decodeEnv(t, resp)
	if e.Error == nil {
		return ""
	}
	return e.Error.Code
}

type fixture struct {
	p     *Pipeline
	c     *fakeContract
	auth  *fakeAuth
	logs  *syncBuffer
	idem  *memIdem
	own   *countingOwners
	limit *fakeLimiter
}

// newFixture builds a pipeline over one fake contract with fake auth,
// idempotency, owners and a JSON log; opt edits the options before New.
func newFixture(t testing.TB, opt func(*Options)) *fixture {
	t.Helper()
	fx := &fixture{c: newFake("fake"), auth: &fakeAuth{}, logs: &syncBuffer{}, idem: newMemIdem(),
		own: &countingOwners{MemoryOwners: NewMemoryOwners()}, limit: &fakeLimiter{}}
	o := Options{Contracts: []Contract{fx.c}, Auth: fx.auth, Idempotency: fx.idem, Owners: fx.own, Limiter: fx.limit,
		Logger: slog.New(slog.NewJSONHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if opt != nil {
		opt(&o)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	fx.p = p
	return fx
}

// post is a JSON POST from key ("" for no Authorization).
func post(path, body, key string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	return &Request{Method: http.MethodPost, Path: path, Header: h, Body: []byte(body), ContentLength: -1, SourceIP: "203.0.113.7"}
}

func (fx *fixture) serve(r *Request) *Response {
	return fx.p.ServeRequest(context.Background(), r)
}

func wantStatus(t testing.TB, resp *Response, status int, code string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
	if got := errCode(t, resp); got != code {
		t.Fatalf("error code %q, want %q: %s", got, code, resp.Body)
	}
}

// ---------------------------------------------------------------------------
// Routing.

func TestRouteErrAnsweredWithoutAuth(t *testing.T) {
	ha := &headerAuth{fakeAuth: &fakeAuth{}}
	fx := newFixture(t, func(o *Options) { o.Auth = ha })
	body := &countingReader{r: strings.NewReader(`{"a":1}`)}
	r := &Request{Method: http.MethodGet, Path: "/v1/fake/Echo", Header: http.Header{}, BodyReader: body, ContentLength: -1}
	resp := fx.serve(r)
	wantStatus(t, resp, http.StatusMethodNotAllowed, "UnsupportedMethod")
	if got := resp.Header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST (op.Header)", got)
	}
	if ha.count() != 0 || ha.checks.Load() != 0 || body.n != 0 || fx.c.count() != 0 {
		t.Errorf("op.Err must be answered before auth, body and call: auth=%d checks=%d read=%d calls=%d",
			ha.count(), ha.checks.Load(), body.n, fx.c.count())
	}
	// A route error without a Status keeps its kind's status.
	resp = fx.serve(post("/v1/fake/NoSuchAction", `{}`, ""))
	wantStatus(t, resp, http.StatusNotFound, "InvalidAction")
	if ha.count() != 0 {
		t.Error("unknown action authenticated")
	}
}

func TestUnknownRouteIsDefaultContractsNotFound(t *testing.T) {
	one, two := newFake("one"), newFake("two")
	auth := &fakeAuth{}
	p, err := New(Options{Contracts: []Contract{one, two}, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	resp := p.ServeRequest(context.Background(), post("/nowhere", `{}`, "key-alice"))
	wantStatus(t, resp, http.StatusNotFound, "InvalidAction")
	e := decodeEnv(t, resp)
	if e.Contract != "one" {
		t.Errorf("rendered by %q, want the default contract one", e.Contract)
	}
	for _, want := range []string{"POST /nowhere", "POST /v1/one/Echo", "POST /v1/two/Result"} {
		if !strings.Contains(e.Error.Message, want) {
			t.Errorf("message %q does not list %q", e.Error.Message, want)
		}
	}
	if auth.count() != 0 || one.count()+two.count() != 0 {
		t.Error("an unrouted request was authenticated or called")
	}
	// The second contract's own routes reach it.
	resp = p.ServeRequest(context.Background(), &Request{Method: "POST", Path: "/v1/two/Echo", SourceIP: "127.0.0.1",
		Header: http.Header{"Authorization": {"Bearer key-bob"}}, Body: []byte(`{}`)})
	if resp.Status != 200 || two.count() != 1 || one.count() != 0 || decodeEnv(t, resp).Contract != "two" {
		t.Fatalf("route to second contract: %d %s (one=%d two=%d)", resp.Status, resp.Body, one.count(), two.count())
	}
	// A long path is truncated in the message.
	resp = p.ServeRequest(context.Background(), post("/"+strings.Repeat("x", 1000), `{}`, ""))
	if m := decodeEnv(t, resp).Error.Message; strings.Contains(m, strings.Repeat("x", 200)) {
		t.Errorf("path not truncated: %d bytes", len(m))
	}
}

// ---------------------------------------------------------------------------
// Body cap and header auth.

func TestBodyCap(t *testing.T) {
	big := strings.Repeat("a", 10_000)

	t.Run("reader over cap", func(t *testing.T) {
		fx := newFixture(t, nil)
		r := post("/v1/fake/Echo", "", "key-alice")
		cr := &countingReader{r: strings.NewReader(`{"x":"` + big + `"}`)}
		r.Body, r.BodyReader = nil, cr
		resp := fx.serve(r)
		wantStatus(t, resp, http.StatusBadRequest, RequestSizeLimitExceeded)
		if cr.n > 64+1 {
			t.Errorf("read %d bytes of a body capped at 64", cr.n)
		}
		if fx.auth.count() != 0 || fx.c.count() != 0 {
			t.Error("an oversized body was authenticated or called")
		}
	})

	t.Run("content length over cap", func(t *testing.T) {
		fx := newFixture(t, nil)
		r := post("/v1/fake/Echo", "", "key-alice")
		cr := &countingReader{r: strings.NewReader(big)}
		r.Body, r.BodyReader, r.ContentLength = nil, cr, int64(len(big))
		resp := fx.serve(r)
		wantStatus(t, resp, http.StatusBadRequest, RequestSizeLimitExceeded)
		if cr.n != 0 {
			t.Errorf("read %d bytes of a body whose Content-Length is over the cap", cr.n)
		}
		if !strings.Contains(decodeEnv(t, resp).Error.Message, "10000 bytes") {
			t.Errorf("message does not name the size: %s", resp.Body)
		}
	})

	t.Run("lying content length", func(t *testing.T) {
		fx := newFixture(t, nil)
		r := post("/v1/fake/Echo", "", "key-alice")
		cr := &countingReader{r: strings.NewReader(big)}
		r.Body, r.BodyReader, r.ContentLength = nil, cr, 10
		resp := fx.serve(r)
		wantStatus(t, resp, http.StatusBadRequest, RequestSizeLimitExceeded)
		if cr.n > 65 {
			t.Errorf("read %d bytes", cr.n)
		}
	})

	t.Run("in-memory body over cap", func(t *testing.T) {
		fx := newFixture(t, nil)
		resp := fx.serve(post("/v1/fake/Echo", big, "key-alice"))
		wantStatus(t, resp, http.StatusBadRequest, RequestSizeLimitExceeded)
		if fx.auth.count() != 0 {
			t.Error("authenticated")
		}
	})

	t.Run("exactly the cap", func(t *testing.T) {
		fx := newFixture(t, nil)
		body := `{"x":"` + strings.Repeat("a", 64-8) + `"}`
		r := post("/v1/fake/Echo", "", "key-alice")
		r.Body, r.BodyReader = nil, &countingReader{r: strings.NewReader(body)}
		resp := fx.serve(r)
		if resp.Status != 200 || len(body) != 64 {
			t.Fatalf("%d-byte body at a 64-byte cap: %d %s", len(body), resp.Status, resp.Body)
		}
	})

	t.Run("default cap", func(t *testing.T) {
		fx := newFixture(t, nil) // Start names no cap
		resp := fx.serve(post("/v1/fake/Start", `{"x":"`+strings.Repeat("a", DefaultMaxBody)+`"}`, "key-alice"))
		wantStatus(t, resp, http.StatusBadRequest, RequestSizeLimitExceeded)
		resp = fx.serve(post("/v1/fake/Start", `{"x":"`+strings.Repeat("a", DefaultMaxBody-100)+`"}`, "key-alice"))
		wantStatus(t, resp, http.StatusOK, "")
	})

	t.Run("MaxBytesError from the reader", func(t *testing.T) {
		fx := newFixture(t, nil)
		r := post("/v1/fake/Echo", "", "key-alice")
		r.Body, r.BodyReader = nil, http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(big)), 10)
		wantStatus(t, fx.serve(r), http.StatusBadRequest, RequestSizeLimitExceeded)
	})

	t.Run("reader error", func(t *testing.T) {
		fx := newFixture(t, nil)
		r := post("/v1/fake/Echo", "", "key-alice")
		r.Body, r.BodyReader = nil, io.MultiReader(strings.NewReader(`{"a"`), failingReader{})
		wantStatus(t, fx.serve(r), http.StatusBadRequest, "InvalidParameter")
		if fx.auth.count() != 0 {
			t.Error("authenticated a body that could not be read")
		}
	})

	t.Run("header check refuses before the body", func(t *testing.T) {
		ha := &headerAuth{fakeAuth: &fakeAuth{}, refuse: true}
		fx := newFixture(t, func(o *Options) { o.Auth = ha })
		r := post("/v1/fake/Echo", "", "key-alice")
		cr := &countingReader{r: strings.NewReader(`{"a":1}`)}
		r.Body, r.BodyReader = nil, cr
		resp := fx.serve(r)
		wantStatus(t, resp, http.StatusUnauthorized, "AuthFailure.SignatureExpire")
		if cr.n != 0 || ha.count() != 0 || ha.checks.Load() != 1 || fx.c.count() != 0 {
			t.Errorf("read=%d authenticate=%d checks=%d calls=%d", cr.n, ha.count(), ha.checks.Load(), fx.c.count())
		}
	})

	t.Run("authenticate sees the body", func(t *testing.T) {
		ha := &headerAuth{fakeAuth: &fakeAuth{}}
		fx := newFixture(t, func(o *Options) { o.Auth = ha })
		r := post("/v1/fake/Echo", "", "key-alice")
		r.Body, r.BodyReader, r.ContentLength = nil, strings.NewReader(`{"a":1}`), 7
		resp := fx.serve(r)
		wantStatus(t, resp, http.StatusOK, "")
		if ha.checks.Load() != 1 || ha.count() != 1 || string(ha.bodies[0]) != `{"a":1}` || ha.unread {
			t.Errorf("checks=%d auth=%d body=%q unread=%v", ha.checks.Load(), ha.count(), ha.bodies, ha.unread)
		}
		if got := fx.c.lastCall(); got == nil || string(got.Body) != `{"a":1}` || got.Caller.ID != "alice" {
			t.Errorf("Call got %+v", got)
		}
	})

	t.Run("loopback default", func(t *testing.T) {
		c := newFake("fake")
		p, _ := New(Options{Contracts: []Contract{c}})
		r := post("/v1/fake/Echo", "", "")
		cr := &countingReader{r: strings.NewReader(`{}`)}
		r.Body, r.BodyReader = nil, cr
		wantStatus(t, p.ServeRequest(context.Background(), r), http.StatusUnauthorized, "AuthFailure.UnauthorizedOperation")
		if cr.n != 0 {
			t.Errorf("LoopbackOnly read %d bytes of a refused request", cr.n)
		}
		r = post("/v1/fake/Echo", `{}`, "")
		r.SourceIP = "::ffff:127.0.0.1"
		wantStatus(t, p.ServeRequest(context.Background(), r), http.StatusOK, "")
	})
}

// failingReader is a reader that fails.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// ---------------------------------------------------------------------------
// Content type.

func TestContentTypePolicies(t *testing.T) {
	cases := []struct {
		path, ct string
		ok       bool
	}{
		// lenient
		{"/v1/fake/Echo", "", true},
		{"/v1/fake/Echo", "   ", true},
		{"/v1/fake/Echo", "application/json", true},
		{"/v1/fake/Echo", "Application/JSON", true},
		{"/v1/fake/Echo", "application/json; charset=utf-8", true},
		{"/v1/fake/Echo", "application/json; charset=UTF-8", true},
		{"/v1/fake/Echo", "application/json; charset=utf8", true},
		{"/v1/fake/Echo", `application/json; charset="utf-8"`, true},
		{"/v1/fake/Echo", "application/x-www-form-urlencoded", true},
		{"/v1/fake/Echo", "application/json; charset=iso-8859-1", false},
		{"/v1/fake/Echo", "application/json; charset=utf-16", false},
		{"/v1/fake/Echo", "text/plain", false},
		{"/v1/fake/Echo", "multipart/form-data; boundary=x", false},
		{"/v1/fake/Echo", "application/xml", false},
		{"/v1/fake/Echo", "application/", false},
		{"/v1/fake/Echo", "application/json; charset", false},
		{"/v1/fake/Echo", "application/jsonx", false},
		// strict
		{"/v1/fake/Strict", "", false},
		{"/v1/fake/Strict", "application/x-www-form-urlencoded", false},
		{"/v1/fake/Strict", "text/plain", false},
		{"/v1/fake/Strict", "application/json", true},
		{"/v1/fake/Strict", "application/json; charset=utf-8", true},
		{"/v1/fake/Strict", "application/json; charset=latin1", false},
		// no body: anything goes
		{"/v1/fake/Ping", "", true},
		{"/v1/fake/Ping", "text/plain", true},
		{"/v1/fake/Ping", "application/json; charset=latin1", true},
		{"/v1/fake/Ping", "\x00garbage", true},
	}
	for _, tc := range cases {
		fx := newFixture(t, nil)
		r := post(tc.path, `{}`, "key-alice")
		r.Header.Del("Content-Type")
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		resp := fx.serve(r)
		if tc.ok {
			if resp.Status != 200 || fx.c.count() != 1 {
				t.Errorf("%s %q refused: %d %s", tc.path, tc.ct, resp.Status, resp.Body)
			}
			continue
		}
		if resp.Status != 400 || errCode(t, resp) != "UnsupportedMediaType" || fx.c.count() != 0 || fx.auth.count() != 0 {
			t.Errorf("%s %q: %d %s (calls %d, auth %d)", tc.path, tc.ct, resp.Status, resp.Body, fx.c.count(), fx.auth.count())
		}
		if strings.Contains(tc.ct, "charset=") && !strings.Contains(decodeEnv(t, resp).Error.Message, "UTF-8") {
			t.Errorf("%q: message does not state the UTF-8 rule: %s", tc.ct, resp.Body)
		}
	}
}

// ---------------------------------------------------------------------------
// Duplicate headers.

func TestDuplicateHeadersRefused(t *testing.T) {
	// Authorization is not here: the caller policy refuses two credentials
	// itself, as an auth failure (401), which is what clients handle.
	for _, h := range []string{"Idempotency-Key", "Content-Type", "X-TC-Action", "X-Tc-Version", "X-TC-Timestamp"} {
		fx := newFixture(t, nil)
		r := post("/v1/fake/Echo", `{}`, "key-alice")
		switch http.CanonicalHeaderKey(h) {
		case "Authorization":
			r.Header.Add(h, "Bearer key-alice")
		case "Content-Type":
			r.Header.Add(h, "application/json")
		default:
			r.Header.Add(h, "a")
			r.Header.Add(h, "b")
		}
		resp := fx.serve(r)
		wantStatus(t, resp, http.StatusBadRequest, "InvalidParameter")
		if m := decodeEnv(t, resp).Error.Message; !strings.Contains(m, http.CanonicalHeaderKey(h)) {
			t.Errorf("%s: message %q does not name the header", h, m)
		}
		if fx.auth.count() != 0 || fx.c.count() != 0 || fx.idem.log() != "" {
			t.Errorf("%s: a request with a duplicate header went on", h)
		}
	}
	// Once each is fine.
	fx := newFixture(t, nil)
	r := post("/v1/fake/Echo", `{}`, "key-alice")
	r.Header.Set("Idempotency-Key", "k")
	wantStatus(t, fx.serve(r), http.StatusOK, "")
}

// ---------------------------------------------------------------------------
// Per-caller rate limit and Retry-After.

func rateAuth(rate float64, burst int) *fakeAuthWith {
	return &fakeAuthWith{fakeAuth: &fakeAuth{}, edit: func(c *Caller) { c.Rate, c.Burst = rate, burst }}
}

// fakeAuthWith edits the callers fakeAuth finds.
type fakeAuthWith struct {
	*fakeAuth
	edit func(*Caller)
}

func (a *fakeAuthWith) Authenticate(ctx context.Context, req *Request, action string) (*Caller, error) {
	c, err := a.fakeAuth.Authenticate(ctx, req, action)
	if c != nil {
		a.edit(c)
	}
	return c, err
}

func TestCallerRateLimit(t *testing.T) {
	t.Run("throttled", func(t *testing.T) {
		fx := newFixture(t, func(o *Options) { o.Auth = rateAuth(2.5, 0) })
		fx.limit.deny, fx.limit.after = true, 1500*time.Millisecond
		resp := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
		wantStatus(t, resp, http.StatusTooManyRequests, "RequestLimitExceeded")
		if got := resp.Header.Get("Retry-After"); got != "2" {
			t.Errorf("Retry-After %q, want 2 (ceil of 1.5 s)", got)
		}
		if fx.c.count() != 0 {
			t.Error("a throttled request was called")
		}
		if len(fx.limit.keys) != 1 || fx.limit.keys[0] != "caller:alice" || fx.limit.rates[0] != 2.5 || fx.limit.bursts[0] != 3 {
			t.Errorf("limiter asked %v %v %v; want caller:alice at 2.5/s, default burst ceil(rate)=3", fx.limit.keys, fx.limit.rates, fx.limit.bursts)
		}
		if fx.idem.log() != "" {
			t.Error("idempotency reached before the rate limit")
		}
	})

	t.Run("retry-after rounding", func(t *testing.T) {
		for _, tc := range []struct {
			after time.Duration
			want  string
		}{{0, "1"}, {time.Nanosecond, "1"}, {300 * time.Millisecond, "1"}, {2200 * time.Millisecond, "3"}, {59*time.Second + 500*time.Millisecond, "60"}} {
			fx := newFixture(t, func(o *Options) { o.Auth = rateAuth(1, 1) })
			fx.limit.deny, fx.limit.after = true, tc.after
			resp := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
			if got := resp.Header.Get("Retry-After"); got != tc.want {
				t.Errorf("retryAfter %v: Retry-After %q, want %q", tc.after, got, tc.want)
			}
		}
	})

	t.Run("whole seconds", func(t *testing.T) {
		fx := newFixture(t, func(o *Options) { o.Auth = rateAuth(1, 1) })
		fx.limit.deny, fx.limit.after = true, time.Second
		resp := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
		if got := resp.Header.Get("Retry-After"); got != "1" {
			t.Fatalf("policy.go roundUp adds 1 ms to an already whole-millisecond delay, so a limiter retryAfter of exactly 1 s is sent as Retry-After %q (ceil(1.001 s)); want 1", got)
		}
	})

	t.Run("explicit burst", func(t *testing.T) {
		fx := newFixture(t, func(o *Options) { o.Auth = rateAuth(0.2, 7) })
		fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
		if fx.limit.bursts[0] != 7 {
			t.Errorf("burst %v, want 7", fx.limit.bursts)
		}
		fx = newFixture(t, func(o *Options) { o.Auth = rateAuth(0.2, 0) })
		fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
		if fx.limit.bursts[0] != 1 {
			t.Errorf("burst %v, want at least 1", fx.limit.bursts)
		}
	})

	t.Run("limiter error lets the request through", func(t *testing.T) {
		fx := newFixture(t, func(o *Options) { o.Auth = rateAuth(1, 1) })
		fx.limit.err = errs.E(errs.Unavailable, "", "redis down")
		resp := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
		wantStatus(t, resp, http.StatusOK, "")
		if fx.c.count() != 1 || resp.Header.Get("Retry-After") != "" {
			t.Errorf("calls %d, Retry-After %q", fx.c.count(), resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(fx.logs.String(), "rate limiter unavailable") {
			t.Errorf("limiter failure not logged: %s", fx.logs.String())
		}
	})

	t.Run("no rate no ask", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.limit.deny = true
		wantStatus(t, fx.serve(post("/v1/fake/Echo", `{}`, "key-alice")), http.StatusOK, "")
		if len(fx.limit.keys) != 0 {
			t.Errorf("limiter asked for a caller without a rate: %v", fx.limit.keys)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"cause carries it", errs.Wrap(After(2500*time.Millisecond), errs.Unavailable, "", "busy"), "3"},
		{"deep cause", errs.Wrap(fmt.Errorf("upstream: %w", After(4*time.Second)), errs.Provider, "FailedOperation.Busy", "busy"), "4"},
		{"throttled default", errs.E(errs.Throttled, "", "slow down"), "1"},
		{"throttled cause wins", errs.Wrap(After(10*time.Second), errs.Throttled, "", "slow down"), "10"},
		{"in progress default", errs.E(errs.Conflict, "IdempotencyInProgress", "in progress"), "1"},
		{"zero cause falls back", errs.Wrap(After(0), errs.Throttled, "", "x"), "1"},
		{"none for invalid", errs.E(errs.Invalid, "", "bad"), ""},
		{"none for other conflicts", errs.E(errs.Conflict, "IdempotencyKeyReused", "x"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, nil)
			fx.c.call = func(context.Context, *Call) (*Answer, error) { return nil, tc.err }
			resp := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
			if got := resp.Header.Get("Retry-After"); got != tc.want {
				t.Errorf("Retry-After %q, want %q", got, tc.want)
			}
		})
	}
	// From the idempotency store: a key in progress.
	fx := newFixture(t, nil)
	fx.idem.beginErr = errs.E(errs.Conflict, "IdempotencyInProgress", "in progress")
	r := post("/v1/fake/Echo", `{}`, "key-alice")
	r.Header.Set(IdempotencyHeader, "k1")
	resp := fx.serve(r)
	wantStatus(t, resp, http.StatusConflict, "IdempotencyInProgress")
	if resp.Header.Get("Retry-After") != "1" || fx.c.count() != 0 {
		t.Errorf("in progress: Retry-After %q calls %d", resp.Header.Get("Retry-After"), fx.c.count())
	}
	if retryAfter(nil) != 0 {
		t.Error("retryAfter(nil)")
	}
}

// ---------------------------------------------------------------------------
// Idempotency.

func keyed(path, body, key, idem string) *Request {
	r := post(path, body, key)
	r.Header.Set(IdempotencyHeader, idem)
	return r
}

func TestIdempotency(t *testing.T) {
	t.Run("replay without a second call", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.call = func(_ context.Context, c *Call) (*Answer, error) {
			fx.idem.note("call")
			return &Answer{Body: []byte(fmt.Sprintf(`{"n":%d}`, fx.c.count())), Header: map[string]string{"X-Fake-Source": "up"}, Code: "C1"}, nil
		}
		first := fx.serve(keyed("/v1/fake/Echo", `{"a":1}`, "key-alice", "k1"))
		second := fx.serve(keyed("/v1/fake/Echo", `{"a":1}`, "key-alice", "k1"))
		wantStatus(t, first, 200, "")
		wantStatus(t, second, 200, "")
		if fx.c.count() != 1 {
			t.Fatalf("Call ran %d times", fx.c.count())
		}
		if first.Header.Get("Idempotent-Replayed") != "" || second.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("Idempotent-Replayed: first %q second %q", first.Header.Get("Idempotent-Replayed"), second.Header.Get("Idempotent-Replayed"))
		}
		if string(decodeEnv(t, first).Data) != `{"n":1}` || string(decodeEnv(t, second).Data) != `{"n":1}` {
			t.Errorf("replayed data differs: %s / %s", first.Body, second.Body)
		}
		if second.Header.Get("X-Fake-Source") != "up" {
			t.Error("answer headers not replayed")
		}
		if decodeEnv(t, second).RequestID == decodeEnv(t, first).RequestID {
			t.Error("a replay must carry its own request id")
		}
		if got := fx.idem.log(); got != "begin,sending,call,complete,begin" {
			t.Errorf("store sequence %q", got)
		}
		if fx.idem.scopes[0] != "alice/Echo" {
			t.Errorf("scope %q, want caller/action", fx.idem.scopes[0])
		}
		// Another caller's same key is its own.
		wantStatus(t, fx.serve(keyed("/v1/fake/Echo", `{"a":1}`, "key-bob", "k1")), 200, "")
		if fx.c.count() != 2 {
			t.Error("bob got alice's answer")
		}
		// The same key for another body is refused by the store's fingerprint.
		wantStatus(t, fx.serve(keyed("/v1/fake/Echo", `{"a":2}`, "key-alice", "k1")), http.StatusConflict, "IdempotencyKeyReused")
		// The log marks the replay.
		lines := fx.logs.lines(t)
		if lines[1]["replayed"] != true || lines[0]["replayed"] != nil {
			t.Errorf("log lines %v", lines[:2])
		}
	})

	t.Run("sending error stops the call", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.idem.sendingErr = errs.E(errs.Unavailable, "InternalError.IdempotencyStore", "store lost the claim")
		resp := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		wantStatus(t, resp, http.StatusBadGateway, "InternalError.IdempotencyStore")
		if fx.c.count() != 0 {
			t.Error("Call ran after Sending failed")
		}
		if got := fx.idem.log(); got != "begin,sending" {
			t.Errorf("store sequence %q", got)
		}
	})

	t.Run("failure before the provider releases", func(t *testing.T) {
		fx := newFixture(t, nil)
		fail := true
		fx.c.call = func(context.Context, *Call) (*Answer, error) {
			fx.idem.note("call")
			if fail {
				return nil, errs.E(errs.Invalid, "InvalidParameterValue", "bad")
			}
			return &Answer{Body: []byte(`{}`)}, nil
		}
		wantStatus(t, fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1")), 400, "InvalidParameterValue")
		fail = false
		resp := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		wantStatus(t, resp, 200, "")
		if fx.c.count() != 2 || resp.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("after a release the retry must call again: calls %d", fx.c.count())
		}
		if got := fx.idem.log(); got != "begin,sending,call,release,begin,sending,call,complete" {
			t.Errorf("store sequence %q", got)
		}
	})

	t.Run("not-sent unavailable releases", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.call = func(context.Context, *Call) (*Answer, error) {
			return nil, errs.E(errs.Unavailable, "InternalError.UpstreamConnection", "dial failed")
		}
		fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		if got := fx.idem.log(); got != "begin,sending,release" {
			t.Errorf("store sequence %q", got)
		}
	})

	t.Run("unavailable is stored and replayed", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.call = func(context.Context, *Call) (*Answer, error) {
			e := errs.E(errs.Unavailable, "InternalError.UpstreamTimeout", "the provider did not answer in time")
			e.RequestID = "up-123"
			return nil, e
		}
		first := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		second := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		wantStatus(t, first, http.StatusBadGateway, "InternalError.UpstreamTimeout")
		wantStatus(t, second, http.StatusBadGateway, "InternalError.UpstreamTimeout")
		if fx.c.count() != 1 || second.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("calls %d, replayed %q", fx.c.count(), second.Header.Get("Idempotent-Replayed"))
		}
		if decodeEnv(t, second).Error.Message != decodeEnv(t, first).Error.Message {
			t.Errorf("replayed message differs: %s / %s", first.Body, second.Body)
		}
		if got := fx.idem.log(); got != "begin,sending,complete,begin" {
			t.Errorf("store sequence %q", got)
		}
	})

	t.Run("internal error is stored without its detail", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.call = func(context.Context, *Call) (*Answer, error) { return nil, errors.New("secret detail") }
		fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		fx.idem.mu.Lock()
		defer fx.idem.mu.Unlock()
		for _, b := range fx.idem.recs {
			if bytes.Contains(b, []byte("secret detail")) {
				t.Errorf("stored answer holds the internal cause: %s", b)
			}
		}
	})

	t.Run("complete failing says not-stored", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.idem.completeErr = errs.E(errs.Unavailable, "", "store down")
		resp := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		wantStatus(t, resp, 200, "")
		if resp.Header.Get(NotStoredHeader) != "not-stored" {
			t.Errorf("%s %q", NotStoredHeader, resp.Header.Get(NotStoredHeader))
		}
		var req map[string]any
		for _, l := range fx.logs.lines(t) {
			if l["msg"] == "request" {
				req = l
			}
		}
		if req == nil || req["idempotency_not_stored"] != true {
			t.Errorf("request log line lacks idempotency_not_stored: %s", fx.logs.String())
		}
		// A provider error whose record is lost says so too.
		fx.c.call = func(context.Context, *Call) (*Answer, error) {
			return nil, errs.E(errs.Provider, "FailedOperation.X", "no")
		}
		resp = fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k2"))
		wantStatus(t, resp, http.StatusUnprocessableEntity, "FailedOperation.X")
		if resp.Header.Get(NotStoredHeader) != "not-stored" {
			t.Errorf("error answer: %s %q", NotStoredHeader, resp.Header.Get(NotStoredHeader))
		}
	})

	t.Run("control and keyless requests skip the store", func(t *testing.T) {
		fx := newFixture(t, nil)
		wantStatus(t, fx.serve(keyed("/v1/fake/Ping", `{}`, "key-alice", "k1")), 200, "")
		wantStatus(t, fx.serve(keyed("/v1/fake/Ping", `{}`, "key-alice", "k1")), 200, "")
		wantStatus(t, fx.serve(post("/v1/fake/Echo", `{}`, "key-alice")), 200, "")
		wantStatus(t, fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "")), 200, "")
		if fx.idem.log() != "" || fx.c.count() != 4 {
			t.Errorf("store %q calls %d", fx.idem.log(), fx.c.count())
		}
		// Without a store the key is ignored.
		fx = newFixture(t, func(o *Options) { o.Idempotency = nil })
		fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		if fx.c.count() != 2 {
			t.Errorf("calls %d", fx.c.count())
		}
	})

	t.Run("sandbox answers replay as sandbox", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.call = func(context.Context, *Call) (*Answer, error) { return &Answer{Body: []byte(`{}`), Sandbox: true}, nil }
		fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		resp := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
		if resp.Header.Get("Idempotent-Replayed") != "true" || resp.Header.Get("X-Idv-Mode") != "sandbox" {
			t.Errorf("replayed sandbox answer: %v", resp.Header)
		}
	})
}

// ---------------------------------------------------------------------------
// Flow-token ownership.

func TestTokenOwnership(t *testing.T) {
	t.Run("bound to its creator", func(t *testing.T) {
		fx := newFixture(t, nil)
		wantStatus(t, fx.serve(post("/v1/fake/Start", `{"want":"tok-1","other":"oth-1"}`, "key-alice")), 200, "")
		if fx.own.binds.Load() != 2 {
			t.Fatalf("binds %d, want 2 (both produced tokens)", fx.own.binds.Load())
		}
		calls := fx.c.count()
		for _, body := range []string{`{"token":"tok-1"}`, `{"other":"oth-1"}`} {
			resp := fx.serve(post("/v1/fake/Result", body, "key-bob"))
			wantStatus(t, resp, http.StatusNotFound, "ResourceNotFound.Token")
			if fx.c.count() != calls {
				t.Fatal("Call ran for another caller's token")
			}
			if m := decodeEnv(t, resp).Error.Message; strings.Contains(m, "tok-1") || strings.Contains(m, "alice") {
				t.Errorf("message names the token or its owner: %q", m)
			}
		}
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"tok-1"}`, "key-alice")), 200, "")
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"other":"oth-1"}`, "key-alice")), 200, "")
		// The kinds are separate namespaces.
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"oth-1"}`, "key-alice")), http.StatusNotFound, "ResourceNotFound.Token")
		// A test caller is a caller like another.
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"tok-1"}`, "key-test")), http.StatusNotFound, "ResourceNotFound.Token")
		// A consumed token absent (or not a string) is the contract's to refuse.
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":7}`, "key-bob")), 200, "")
		// B cannot take A's token by binding it afterwards.
		wantStatus(t, fx.serve(post("/v1/fake/Start", `{"want":"tok-1"}`, "key-bob")), 200, "")
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"tok-1"}`, "key-bob")), http.StatusNotFound, "ResourceNotFound.Token")
	})

	t.Run("unknown token", func(t *testing.T) {
		fx := newFixture(t, nil)
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"never-made"}`, "key-alice")), http.StatusNotFound, "ResourceNotFound.Token")
		if fx.c.count() != 0 {
			t.Error("Call ran for an unknown token")
		}
		fx = newFixture(t, func(o *Options) { o.OwnersPartial = true })
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"never-made"}`, "key-alice")), 200, "")
		// Partial knowledge still checks the tokens it knows.
		fx.serve(post("/v1/fake/Start", `{"want":"tok-2"}`, "key-alice"))
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"tok-2"}`, "key-bob")), http.StatusNotFound, "ResourceNotFound.Token")
	})

	t.Run("public tokens", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.public = func(kind, v string) bool { return kind == kindToken && strings.HasPrefix(v, "public-") }
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"public-7"}`, "key-bob")), 200, "")
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"other":"public-7"}`, "key-bob")), http.StatusNotFound, "ResourceNotFound.Token")
		// A produced public token is never bound: every caller keeps it.
		wantStatus(t, fx.serve(post("/v1/fake/Start", `{"want":"public-8"}`, "key-alice")), 200, "")
		if fx.own.binds.Load() != 0 {
			t.Errorf("a public token was bound (%d binds)", fx.own.binds.Load())
		}
		wantStatus(t, fx.serve(post("/v1/fake/Result", `{"token":"public-8"}`, "key-bob")), 200, "")
	})

	t.Run("owner store error fails closed", func(t *testing.T) {
		fx := newFixture(t, func(o *Options) { o.OwnersPartial = true })
		fx.own.ownerErr = errors.New("redis: connection refused")
		resp := fx.serve(post("/v1/fake/Result", `{"token":"tok-1"}`, "key-alice"))
		wantStatus(t, resp, http.StatusBadGateway, "InternalError.OwnerStoreUnavailable")
		if fx.c.count() != 0 {
			t.Error("Call ran without the owner check")
		}
		if strings.Contains(string(resp.Body), "redis") {
			t.Errorf("the cause leaked: %s", resp.Body)
		}
	})

	t.Run("bind error still answers", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.own.bindErr = errors.New("redis down")
		wantStatus(t, fx.serve(post("/v1/fake/Start", `{"want":"tok-9"}`, "key-alice")), 200, "")
		if !strings.Contains(fx.logs.String(), "flow token could not be bound") || strings.Contains(fx.logs.String(), "tok-9") {
			t.Errorf("bind failure log: %s", fx.logs.String())
		}
	})

	t.Run("failed calls bind nothing", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.call = func(context.Context, *Call) (*Answer, error) { return nil, errs.E(errs.Provider, "", "no") }
		fx.serve(post("/v1/fake/Start", `{"want":"tok-1"}`, "key-alice"))
		if fx.own.binds.Load() != 0 {
			t.Error("a failed call bound a token")
		}
	})

	t.Run("replays do not re-bind", func(t *testing.T) {
		fx := newFixture(t, nil)
		wantStatus(t, fx.serve(keyed("/v1/fake/Start", `{"want":"tok-r"}`, "key-alice", "k1")), 200, "")
		resp := fx.serve(keyed("/v1/fake/Start", `{"want":"tok-r"}`, "key-alice", "k1"))
		if resp.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("not replayed")
		}
		if fx.own.binds.Load() != 1 {
			t.Errorf("binds %d after a replay, want 1", fx.own.binds.Load())
		}
	})

	t.Run("owner checked before idempotency", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.serve(post("/v1/fake/Start", `{"want":"tok-1"}`, "key-alice"))
		wantStatus(t, fx.serve(keyed("/v1/fake/Result", `{"token":"tok-1"}`, "key-bob", "k1")), http.StatusNotFound, "ResourceNotFound.Token")
		if fx.idem.log() != "" {
			t.Errorf("store reached for a refused token: %q", fx.idem.log())
		}
	})

	t.Run("control ops are not checked", func(t *testing.T) {
		fx := newFixture(t, nil)
		fx.c.ops["Ping"] = Op{JSON: NoBody, Control: true, Consumes: []TokenField{{Path: "token", Kind: kindToken}}}
		wantStatus(t, fx.serve(post("/v1/fake/Ping", `{"token":"nobody"}`, "key-alice")), 200, "")
	})
}

// ---------------------------------------------------------------------------
// Direct invocation.

func TestInvoke(t *testing.T) {
	ctx := context.Background()
	newInv := func(t *testing.T) (*Pipeline, *fakeContract, *hookContract, *memIdem, *syncBuffer) {
		one := newFake("one")
		two := &hookContract{fakeContract: newFake("two")}
		two.ops = map[string]Op{"Other": {}, "Broken": {Err: errs.E(errs.Invalid, "Refused", "not today")}, "Tiny": {MaxBody: 8}}
		idem, logs := newMemIdem(), &syncBuffer{}
		p, err := New(Options{Contracts: []Contract{one, two}, Idempotency: idem, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return p, one, two, idem, logs
	}

	t.Run("action routing", func(t *testing.T) {
		p, one, two, _, _ := newInv(t)
		out, err := p.Invoke(ctx, []byte(`{"Action":"Other","x":1}`))
		if err != nil || string(out) != `{"out":{"ok":true}}` {
			t.Fatalf("%s %v", out, err)
		}
		if one.count() != 0 || two.count() != 1 {
			t.Fatalf("one %d two %d", one.count(), two.count())
		}
		c := two.lastCall()
		if string(c.Body) != `{"x":1}` || c.Caller.ID != "invoke" || c.Op.Surface != "invoke" || c.RequestID == "" {
			t.Errorf("call %+v body %s", c, c.Body)
		}
		// No Action: the default contract's default op, body as sent.
		if _, err := p.Invoke(ctx, []byte(`{"y": 2}`)); err != nil {
			t.Fatal(err)
		}
		if c := one.lastCall(); c == nil || c.Op.Action != "Echo" || string(c.Body) != `{"y": 2}` {
			t.Errorf("default route: %+v", c)
		}
		// An action nobody serves.
		_, err = p.Invoke(ctx, []byte(`{"Action":"Nope"}`))
		if e := errs.As(err); e.Kind != errs.NotFound || e.Code != "InvalidAction" {
			t.Errorf("unknown action: %v", err)
		}
		_, err = p.Invoke(ctx, []byte(`{"Action":7}`))
		if e := errs.As(err); e.Kind != errs.Invalid || e.Code != "InvalidParameterValue" {
			t.Errorf("non-string action: %v", err)
		}
	})

	t.Run("idempotency member", func(t *testing.T) {
		p, one, _, idem, _ := newInv(t)
		for i := 0; i < 2; i++ {
			if _, err := p.Invoke(ctx, []byte(`{"Action":"Echo","IdempotencyKey":"k1","a":1}`)); err != nil {
				t.Fatal(err)
			}
		}
		if one.count() != 1 {
			t.Errorf("calls %d, want 1 (replayed)", one.count())
		}
		if c := one.lastCall(); string(c.Body) != `{"a":1}` {
			t.Errorf("key left in the call: %s", c.Body)
		}
		if idem.scopes[0] != "invoke/Echo" {
			t.Errorf("scope %q", idem.scopes[0])
		}
		if _, err := p.Invoke(ctx, []byte(`{"IdempotencyKey":["k"]}`)); errs.As(err).Code != "InvalidParameterValue" {
			t.Errorf("non-string key: %v", err)
		}
	})

	t.Run("payload shape", func(t *testing.T) {
		p, one, _, _, _ := newInv(t)
		for _, payload := range []string{
			`{"a":1,"a":2}`,
			`{"Action":"Echo","Action":"Other"}`,
			`{"Action":"Other","IdempotencyKey":"a","IdempotencyKey":"b"}`,
			`[1]`, `"x"`, `null`, ``, `{"a":1} {"b":2}`, "{\"a\":\"\xff\"}",
		} {
			_, err := p.Invoke(ctx, []byte(payload))
			if e := errs.As(err); err == nil || e.Kind != errs.Invalid || e.Code != "InvalidParameter" {
				t.Errorf("%q: %v", payload, err)
			}
		}
		_, err := p.Invoke(ctx, []byte(`{"a":1,"a":2}`))
		if !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("duplicate not named: %v", err)
		}
		if one.count() != 0 {
			t.Error("a refused payload was called")
		}
	})

	t.Run("payload caps", func(t *testing.T) {
		p, one, two, _, _ := newInv(t)
		huge := make([]byte, MaxInvokePayload+1)
		copy(huge, `{"a":"`)
		_, err := p.Invoke(ctx, huge)
		if e := errs.As(err); e.Code != RequestSizeLimitExceeded {
			t.Errorf("over MaxInvokePayload: %v", err)
		}
		_, err = p.Invoke(ctx, []byte(`{"Action":"Tiny","x":"0123456789"}`))
		if e := errs.As(err); e.Code != "Hooked."+RequestSizeLimitExceeded && e.Code != RequestSizeLimitExceeded {
			t.Errorf("over op.MaxBody: %v", err)
		}
		_, err = p.Invoke(ctx, []byte(`{"x":"`+strings.Repeat("a", 100)+`"}`)) // Echo: 64
		if e := errs.As(err); e.Code != RequestSizeLimitExceeded {
			t.Errorf("over the default op's cap: %v", err)
		}
		if one.count()+two.count() != 0 {
			t.Error("an oversized payload was called")
		}
	})

	t.Run("InvokeErrors hook", func(t *testing.T) {
		p, _, two, _, _ := newInv(t)
		_, err := p.Invoke(ctx, []byte(`{"Action":"Broken"}`))
		if e := errs.As(err); e.Code != "Hooked.Refused" {
			t.Errorf("op.Err through the hook: %v", err)
		}
		two.call = func(context.Context, *Call) (*Answer, error) {
			return nil, errs.E(errs.Provider, "FailedOperation.Y", "no")
		}
		_, err = p.Invoke(ctx, []byte(`{"Action":"Other"}`))
		if e := errs.As(err); e.Code != "Hooked.FailedOperation.Y" || e.Kind != errs.Provider {
			t.Errorf("call error through the hook: %v", err)
		}
		if two.hooked.Load() != 2 {
			t.Errorf("hook used %d times", two.hooked.Load())
		}
		// Without a hook the error is the pipeline's own.
		p2, one, _, _, _ := newInv(t)
		one.call = func(context.Context, *Call) (*Answer, error) {
			return nil, errs.E(errs.Provider, "FailedOperation.Y", "no")
		}
		_, err = p2.Invoke(ctx, []byte(`{"Action":"Echo"}`))
		if e := errs.As(err); e.Code != "FailedOperation.Y" {
			t.Errorf("no hook: %v", err)
		}
	})

	t.Run("log line", func(t *testing.T) {
		p, _, _, _, logs := newInv(t)
		if _, err := p.Invoke(ctx, []byte(`{"Action":"Other","secret":"MARKER-INVOKE"}`)); err != nil {
			t.Fatal(err)
		}
		_, _ = p.Invoke(ctx, []byte(`{"Action":"Broken","secret":"MARKER-INVOKE"}`))
		lines := logs.lines(t)
		if len(lines) != 2 || lines[0]["surface"] != "invoke" || lines[0]["provider"] != "two" || lines[0]["action"] != "Other" ||
			lines[0]["caller"] != "invoke" || lines[1]["error_class"] != "InvalidInput" {
			t.Errorf("invoke log %v", lines)
		}
		if strings.Contains(logs.String(), "MARKER") {
			t.Errorf("payload in the log: %s", logs.String())
		}
	})

	t.Run("empty routing members", func(t *testing.T) {
		p, one, _, _, _ := newInv(t)
		if _, err := p.Invoke(ctx, []byte(`{"Action":"","IdempotencyKey":"","a":1}`)); err != nil {
			t.Fatal(err)
		}
		c := one.lastCall()
		if string(c.Body) != `{"a":1}` {
			t.Fatalf("empty routing members must be stripped from the body too: %s", c.Body)
		}
	})
}

// ---------------------------------------------------------------------------
// Scenarios and health.

func tableFor(c *fakeContract, path string, builds *atomic.Int32) {
	c.table = &SandboxTable{Path: path, Key: c.name, Table: func() any {
		builds.Add(1)
		return map[string]any{"magic": c.name + "-value"}
	}, Doc: func(tbl any) any { return map[string]any{"doc": c.name, "scenarios": tbl} }}
}

func get(path, key string) *Request {
	r := &Request{Method: http.MethodGet, Path: path, Header: http.Header{}, SourceIP: "203.0.113.7"}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	return r
}

func TestScenarios(t *testing.T) {
	ctx := context.Background()

	t.Run("merged, built once", func(t *testing.T) {
		one, two, three := newFake("one"), newFake("two"), newFake("three") // three has no table
		var builds atomic.Int32
		tableFor(one, "/v1/sandbox/one", &builds)
		tableFor(two, "", &builds)
		auth := &fakeAuth{}
		p, _ := New(Options{Contracts: []Contract{one, two, three}, Auth: auth})
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.ServeRequest(ctx, get(ScenariosPath, "key-alice"))
			}()
		}
		wg.Wait()
		resp := p.ServeRequest(ctx, get(ScenariosPath, "key-alice"))
		if resp.Status != 200 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		var merged map[string]map[string]string
		if err := json.Unmarshal(resp.Body, &merged); err != nil || merged["one"]["magic"] != "one-value" || merged["two"]["magic"] != "two-value" || len(merged) != 2 {
			t.Errorf("merged table %s (%v)", resp.Body, err)
		}
		own := p.ServeRequest(ctx, get("/v1/sandbox/one", "key-alice"))
		var doc map[string]any
		if err := json.Unmarshal(own.Body, &doc); err != nil || doc["doc"] != "one" || own.Status != 200 {
			t.Errorf("own path: %d %s", own.Status, own.Body)
		}
		if n := builds.Load(); n != 2 {
			t.Errorf("tables built %d times, want once per contract", n)
		}
		if one.count()+two.count()+three.count() != 0 {
			t.Error("a contract was called for a scenario table")
		}
		// Authenticated with no action.
		if auth.count() == 0 || auth.actions[0] != "" {
			t.Errorf("auth calls %d actions %q", auth.count(), auth.actions)
		}
		// A sandbox path nobody serves, and a POST, are routed like others.
		wantStatus(t, p.ServeRequest(ctx, get("/v1/sandbox/nope", "key-alice")), 404, "InvalidAction")
		wantStatus(t, p.ServeRequest(ctx, post(ScenariosPath, `{}`, "key-alice")), 404, "InvalidAction")
	})

	t.Run("one contract serves its doc at the common path", func(t *testing.T) {
		one := newFake("one")
		var builds atomic.Int32
		tableFor(one, "/v1/sandbox/one", &builds)
		p, _ := New(Options{Contracts: []Contract{one}, Auth: &fakeAuth{}})
		common := p.ServeRequest(ctx, get(ScenariosPath, "key-alice"))
		own := p.ServeRequest(ctx, get("/v1/sandbox/one", "key-alice"))
		if common.Status != 200 || string(common.Body) != string(own.Body) || !strings.Contains(string(common.Body), `"doc": "one"`) {
			t.Errorf("common %s / own %s", common.Body, own.Body)
		}
		if common.Header.Get("Content-Type") != "application/json; charset=utf-8" || common.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", common.Header)
		}
	})

	t.Run("no tables", func(t *testing.T) {
		p, _ := New(Options{Contracts: []Contract{newFake("one")}, Auth: &fakeAuth{}})
		wantStatus(t, p.ServeRequest(ctx, get(ScenariosPath, "key-alice")), 404, "InvalidAction")
	})

	t.Run("needs auth", func(t *testing.T) {
		one := newFake("one")
		var builds atomic.Int32
		tableFor(one, "", &builds)
		auth := &fakeAuth{}
		p, _ := New(Options{Contracts: []Contract{one}, Auth: auth})
		wantStatus(t, p.ServeRequest(ctx, get(ScenariosPath, "")), http.StatusUnauthorized, "AuthFailure.SecretIdNotFound")
		auth.err = errs.E(errs.Forbidden, "", "no action allowed")
		if resp := p.ServeRequest(ctx, get(ScenariosPath, "key-alice")); resp.Status != 200 {
			t.Errorf("a Forbidden caller is still a caller: %d %s", resp.Status, resp.Body)
		}
		auth.err = errs.E(errs.Unauthorized, "AuthFailure.SignatureFailure", "bad")
		wantStatus(t, p.ServeRequest(ctx, get(ScenariosPath, "key-alice")), http.StatusUnauthorized, "AuthFailure.SignatureFailure")
		// The default policy is loopback.
		p, _ = New(Options{Contracts: []Contract{one}})
		wantStatus(t, p.ServeRequest(ctx, get(ScenariosPath, "")), http.StatusUnauthorized, "AuthFailure.UnauthorizedOperation")
		r := get(ScenariosPath, "")
		r.SourceIP = "127.0.0.1"
		if resp := p.ServeRequest(ctx, r); resp.Status != 200 {
			t.Errorf("loopback: %d", resp.Status)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		one, two := newFake("one"), newFake("two")
		two.mode = "sandbox"
		auth := &fakeAuth{}
		p, _ := New(Options{Contracts: []Contract{one, two}, Auth: auth})
		for _, path := range []string{"/healthz", "/v1/actions"} {
			for _, m := range []string{http.MethodGet, http.MethodHead} {
				resp := p.ServeRequest(ctx, &Request{Method: m, Path: path})
				var h struct {
					Status, Mode, Fake string
					Providers          map[string]map[string]string
				}
				if err := json.Unmarshal(resp.Body, &h); err != nil || resp.Status != 200 {
					t.Fatalf("%s %s: %d %s", m, path, resp.Status, resp.Body)
				}
				if h.Status != "ok" || h.Mode != "live" || h.Fake != "one" || len(h.Providers) != 2 ||
					h.Providers["two"]["mode"] != "sandbox" || h.Providers["two"]["fake"] != "two" {
					t.Errorf("health %s", resp.Body)
				}
			}
		}
		if auth.count() != 0 {
			t.Error("healthz authenticated")
		}
		p, _ = New(Options{Contracts: []Contract{one}})
		resp := p.ServeRequest(ctx, &Request{Method: http.MethodGet, Path: "/healthz"})
		if strings.Contains(string(resp.Body), "providers") || resp.Status != 200 {
			t.Errorf("one provider: %s", resp.Body)
		}
	})
}

// ---------------------------------------------------------------------------
// The headers every answer carries.

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestEveryAnswerHeaders(t *testing.T) {
	fx := newFixture(t, nil)
	var builds atomic.Int32
	tableFor(fx.c, "", &builds)
	cases := []struct {
		name string
		req  *Request
		mode string
	}{
		{"success", post("/v1/fake/Echo", `{}`, "key-alice"), "live"},
		{"unknown route", post("/x", `{}`, ""), "live"},
		{"route error", get("/v1/fake/Echo", ""), "live"},
		{"bad content type", func() *Request {
			r := post("/v1/fake/Strict", `{}`, "key-alice")
			r.Header.Del("Content-Type")
			return r
		}(), "live"},
		{"too large", post("/v1/fake/Echo", strings.Repeat("a", 100), "key-alice"), "live"},
		{"unauthorized", post("/v1/fake/Echo", `{}`, "nobody"), "live"},
		{"healthz", get("/healthz", ""), "live"},
		{"scenarios", get(ScenariosPath, "key-alice"), "live"},
		{"test caller success", post("/v1/fake/Echo", `{}`, "key-test"), "sandbox"},
		{"test caller refused token", post("/v1/fake/Result", `{"token":"x"}`, "key-test"), "sandbox"},
		{"no token", post("/v1/fake/Result", `{}`, "key-alice"), "live"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := fx.serve(tc.req)
			if id := resp.Header.Get("X-Request-Id"); !uuidForm.MatchString(id) || tc.req.RequestID != id {
				t.Errorf("X-Request-Id %q (request %q)", id, tc.req.RequestID)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
			if got := resp.Header.Get("X-Idv-Mode"); got != tc.mode {
				t.Errorf("X-Idv-Mode %q, want %q", got, tc.mode)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !json.Valid(resp.Body) {
				t.Errorf("not JSON: %v %s", resp.Header, resp.Body)
			}
		})
	}

	// The platform's request id is kept.
	r := post("/v1/fake/Echo", `{}`, "key-alice")
	r.RequestID = "platform-id-1"
	resp := fx.serve(r)
	if resp.Header.Get("X-Request-Id") != "platform-id-1" || decodeEnv(t, resp).RequestID != "platform-id-1" {
		t.Errorf("platform id lost: %v %s", resp.Header, resp.Body)
	}
	// A sandbox answer marks a live contract's answer sandbox.
	fx.c.call = func(context.Context, *Call) (*Answer, error) { return &Answer{Body: []byte(`{}`), Sandbox: true}, nil }
	if got := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice")).Header.Get("X-Idv-Mode"); got != "sandbox" {
		t.Errorf("sandbox answer marked %q", got)
	}
	// A sandbox contract is sandbox throughout.
	sb := newFixture(t, nil)
	sb.c.mode = "sandbox"
	for _, r := range []*Request{post("/v1/fake/Echo", `{}`, "key-alice"), post("/nope", ``, ""), get("/healthz", "")} {
		if got := sb.serve(r).Header.Get("X-Idv-Mode"); got != "sandbox" {
			t.Errorf("%s: %q", r.Path, got)
		}
	}
	// A nil header map is fine.
	if resp := fx.serve(&Request{Method: "POST", Path: "/v1/fake/Echo"}); resp.Header.Get("X-Request-Id") == "" {
		t.Error("no request id for a request without headers")
	}
}

// ---------------------------------------------------------------------------
// MemoryOwners.

func TestMemoryOwners(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewMemoryOwners()
	s.now = func() time.Time { return now }

	if err := s.Bind(ctx, "k", "t1", "alice", time.Hour); err != nil {
		t.Fatal(err)
	}
	_ = s.Bind(ctx, "k", "t1", "bob", time.Hour)
	if o, _ := s.Owner(ctx, "k", "t1"); o != "alice" {
		t.Errorf("owner %q, want the first writer", o)
	}
	if o, _ := s.Owner(ctx, "other", "t1"); o != "" {
		t.Errorf("kinds are separate: %q", o)
	}
	if o, _ := s.Owner(ctx, "k", "t2"); o != "" {
		t.Errorf("unknown token owner %q", o)
	}
	now = now.Add(time.Hour)
	if o, _ := s.Owner(ctx, "k", "t1"); o != "" {
		t.Errorf("expired binding still owned by %q", o)
	}
	_ = s.Bind(ctx, "k", "t1", "bob", time.Hour)
	if o, _ := s.Owner(ctx, "k", "t1"); o != "bob" {
		t.Errorf("an expired binding can be taken: %q", o)
	}
	// No token in the store's keys.
	for k := range s.m {
		if strings.Contains(k, "t1") || len(k) != 64 {
			t.Errorf("store key %q", k)
		}
	}
}

// fill puts n entries in s expiring at exp(i).
func fill(s *MemoryOwners, n int, exp func(i int) time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.m[fmt.Sprintf("seed-%d", i)] = memOwner{caller: "c", expires: exp(i)}
	}
}

func TestMemoryOwnersBounded(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("expired swept first", func(t *testing.T) {
		s := NewMemoryOwners()
		s.now = func() time.Time { return now }
		fill(s, maxMemoryOwners, func(i int) time.Time {
			if i%2 == 0 {
				return now.Add(-time.Second)
			}
			return now.Add(TokenTTL)
		})
		_ = s.Bind(ctx, "k", "new", "alice", TokenTTL)
		if len(s.m) != maxMemoryOwners/2+1 {
			t.Errorf("%d entries after the sweep, want the live half and the new one", len(s.m))
		}
		if o, _ := s.Owner(ctx, "k", "new"); o != "alice" {
			t.Error("new binding lost")
		}
	})

	t.Run("oldest go when none expired", func(t *testing.T) {
		s := NewMemoryOwners()
		s.now = func() time.Time { return now }
		// Bound steadily over the last TTL: expiries spread over (now, now+TTL].
		fill(s, maxMemoryOwners, func(i int) time.Time {
			return now.Add(TokenTTL / maxMemoryOwners * time.Duration(i+1))
		})
		_ = s.Bind(ctx, "k", "new", "alice", TokenTTL)
		if n := len(s.m); n >= maxMemoryOwners || n < maxMemoryOwners/3 {
			t.Errorf("%d entries after the sweep", n)
		}
		// The newest survive.
		s.mu.Lock()
		_, newest := s.m[fmt.Sprintf("seed-%d", maxMemoryOwners-1)]
		_, oldest := s.m["seed-0"]
		s.mu.Unlock()
		if !newest || oldest {
			t.Errorf("newest kept %v, oldest kept %v", newest, oldest)
		}
	})

	t.Run("burst keeps half", func(t *testing.T) {
		s := NewMemoryOwners()
		s.now = func() time.Time { return now }
		// All bound within the same minute (a burst): none expired.
		fill(s, maxMemoryOwners, func(i int) time.Time {
			return now.Add(TokenTTL - time.Minute + time.Minute*time.Duration(i)/maxMemoryOwners)
		})
		_ = s.Bind(ctx, "k", "new", "alice", TokenTTL)
		if len(s.m) >= maxMemoryOwners {
			t.Fatalf("not bounded: %d", len(s.m))
		}
		if n := len(s.m); n < maxMemoryOwners/4 {
			t.Fatalf("owners.go MemoryOwners.sweep (line 192) drops every entry expiring before oldest+TokenTTL/2 rather than the oldest half its comment promises: after a burst of %d bindings made within a minute, %d remain (every live binding, including tokens bound a second ago, was forgotten)", maxMemoryOwners, n)
		}
	})
}

// ---------------------------------------------------------------------------
// The log line.

func TestLogLine(t *testing.T) {
	const marker = "SECRET-MARKER-7f3a"
	fx := newFixture(t, nil)

	r := post("/v1/fake/Echo", `{"p":"`+marker+`"}`, "key-alice")
	r.Header.Set("X-Extra", marker)
	r.Header.Set("User-Agent", marker)
	r.RawQuery = "q=" + marker
	resp := fx.serve(r)
	wantStatus(t, resp, 200, "")

	lines := fx.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d log lines for one request: %s", len(lines), fx.logs.String())
	}
	l := lines[0]
	want := map[string]any{"msg": "request", "request_id": resp.Header.Get("X-Request-Id"), "surface": "fake", "provider": "fake",
		"action": "Echo", "caller": "alice", "status": float64(200), "result_code": "OK", "level": "INFO"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v", k, l[k], v)
		}
	}
	if _, ok := l["latency_ms"]; !ok {
		t.Error("no latency_ms")
	}
	if _, ok := l["error_class"]; ok {
		t.Error("error_class on a success")
	}

	// Failures at every stage, each carrying the marker somewhere in the
	// request, and an Authorization whose value is the marker.
	fx.c.call = func(context.Context, *Call) (*Answer, error) {
		return nil, errs.E(errs.Unavailable, "InternalError.UpstreamTimeout", "timeout")
	}
	reqs := []*Request{
		post("/v1/fake/"+marker, `{"p":"`+marker+`"}`, marker),
		post("/nowhere/"+marker, `{"p":"`+marker+`"}`, marker),
		post("/v1/fake/Echo", `{"p":"`+marker+`"}`, marker),
		post("/v1/fake/Echo", `{"p":"`+marker+strings.Repeat("x", 100)+`"}`, "key-alice"),
		post("/v1/fake/Echo", `{"p":"`+marker+`"}`, "key-alice"),
		post("/v1/fake/Result", `{"token":"`+marker+`"}`, "key-bob"),
		func() *Request {
			r := post("/v1/fake/Echo", `{"p":"`+marker+`"}`, "key-alice")
			r.Header.Set("Content-Type", "text/"+marker)
			return r
		}(),
		func() *Request {
			r := post("/v1/fake/Echo", `{"p":"`+marker+`"}`, "key-alice")
			r.Header.Add("Idempotency-Key", marker)
			r.Header.Add("Idempotency-Key", marker)
			return r
		}(),
		keyed("/v1/fake/Echo", `{"p":"`+marker+`"}`, "key-alice", marker),
	}
	fx.logs.b.Reset()
	for _, r := range reqs {
		r.Header.Set("X-Extra", marker)
		fx.serve(r)
	}
	lines = fx.logs.lines(t)
	if len(lines) != len(reqs) {
		t.Fatalf("%d lines for %d requests: %s", len(lines), len(reqs), fx.logs.String())
	}
	classes := []string{"NotFound", "NotFound", "Unauthorized", "InvalidInput", "UpstreamUnavailable", "NotFound", "InvalidInput", "InvalidInput", "UpstreamUnavailable"}
	for i, l := range lines {
		if l["error_class"] != classes[i] || l["request_id"] == "" || l["status"] == nil || l["error_code"] == "" {
			t.Errorf("line %d: %v (want error_class %s)", i, l, classes[i])
		}
	}
	if lines[4]["level"] != "ERROR" || lines[2]["level"] != "INFO" {
		t.Errorf("levels: %v %v", lines[4]["level"], lines[2]["level"])
	}
	if lines[0]["action"] != nil {
		t.Errorf("an unknown action reached the log: %v", lines[0]["action"])
	}
	if strings.Contains(fx.logs.String(), marker) || strings.Contains(fx.logs.String(), "key-alice") {
		t.Errorf("request content in the log: %s", fx.logs.String())
	}
}

// ---------------------------------------------------------------------------
// Options and small helpers.

func TestNewNeedsAContract(t *testing.T) {
	if _, err := New(Options{}); errs.KindOf(err) != errs.Internal || err == nil {
		t.Errorf("New without contracts: %v", err)
	}
	one, two := newFake("one"), newFake("two")
	p, _ := New(Options{Contracts: []Contract{one, two}})
	cs := p.Contracts()
	cs[0] = two
	if p.Contracts()[0] != Contract(one) {
		t.Error("Contracts exposes the pipeline's slice")
	}
}

func TestLookupString(t *testing.T) {
	doc := []byte(`{"a":{"b":"x","n":1},"s":"\u0041"}`)
	for path, want := range map[string]string{"a.b": "x", "s": "A", "a.n": "", "a": "", "a.b.c": "", "z": "", "": ""} {
		if got := LookupString(doc, path); got != want {
			t.Errorf("%q: %q, want %q", path, got, want)
		}
	}
	if LookupString([]byte(`not json`), "a") != "" || lastSegment("faceAdv/traceNo") != "traceNo" || lastSegment("x") != "x" {
		t.Error("helpers")
	}
}

// A contract that reports success with no answer breaks the pipeline.
func TestNilAnswer(t *testing.T) {
	fx := newFixture(t, nil)
	fx.c.call = func(context.Context, *Call) (*Answer, error) { return nil, nil }
	var resp *Response
	panicked := func() (p any) {
		defer func() { p = recover() }()
		resp = fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
		return nil
	}()
	if panicked != nil {
		t.Fatalf("pipeline.go serve (line 188, `range o.ans.Header`) and policy.go idempotent (line 201, `ans.Body`) dereference a nil *Answer when Contract.Call returns (nil, nil): ServeRequest panics instead of answering an Internal error: %v", panicked)
	}
	if resp == nil || resp.Status != 500 {
		t.Errorf("nil answer: %+v", resp)
	}
}

// ---------------------------------------------------------------------------
// Fuzz.

// FuzzPipelineServeRequest drives the pipeline with arbitrary method, path,
// header values and body: it never panics and always answers JSON with a
// request id and a sane status.
func FuzzPipelineServeRequest(f *testing.F) {
	f.Add("POST", "/v1/fake/Echo", "application/json", "Bearer key-alice", "", []byte(`{"a":1}`))
	f.Add("POST", "/v1/fake/Start", "", "Bearer key-alice", "k1", []byte(`{"want":"tok"}`))
	f.Add("POST", "/v1/fake/Result", "application/json; charset=utf-8", "Bearer key-bob", "", []byte(`{"token":"tok"}`))
	f.Add("POST", "/v1/fake/Strict", "text/plain", "Bearer key-test", "", []byte(`{`))
	f.Add("GET", "/v1/fake/Echo", "", "", "", []byte(nil))
	f.Add("GET", "/healthz", "", "", "", []byte(nil))
	f.Add("GET", ScenariosPath, "", "Bearer key-alice", "", []byte(nil))
	f.Add("HEAD", "/v1/sandbox/x", "\x00", "\xff", "\xff", []byte("\xff"))
	f.Add("POST", "/v1/two/Ping", "multipart/form-data; boundary=", "Bearer key-alice", "k", []byte(strings.Repeat("a", 100)))
	one, two := newFake("fake"), newFake("two")
	var builds atomic.Int32
	tableFor(one, "/v1/sandbox/fake", &builds)
	p, err := New(Options{Contracts: []Contract{one, two}, Auth: &fakeAuth{}, Idempotency: newMemIdem(),
		Limiter: &fakeLimiter{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, ct, authz, idem string, body []byte) {
		h := http.Header{}
		for _, v := range strings.SplitN(ct, "\n", 3) {
			h.Add("Content-Type", v)
		}
		h.Set("Authorization", authz)
		if idem != "" {
			h.Set(IdempotencyHeader, idem)
		}
		req := &Request{Method: method, Path: path, Header: h, SourceIP: "203.0.113.7", ContentLength: -1}
		if len(body)%2 == 0 {
			req.Body = body
		} else {
			req.BodyReader, req.ContentLength = bytes.NewReader(body), int64(len(body))
		}
		resp := p.ServeRequest(context.Background(), req)
		if resp == nil {
			t.Fatal("nil response")
		}
		if resp.Status < 200 || resp.Status > 599 {
			t.Fatalf("status %d", resp.Status)
		}
		if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Idv-Mode") == "" {
			t.Fatalf("headers %v", resp.Header)
		}
		if !json.Valid(resp.Body) {
			t.Fatalf("answer is not JSON: %q", resp.Body)
		}
	})
}
