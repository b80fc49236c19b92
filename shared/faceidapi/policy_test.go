package faceidapi

import (
	"context"
	"encoding/json"
	"github.com/idverify/idverify/shared/gateway"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
)

// fixedAuth authenticates every request as one caller.
type fixedAuth struct{ c gateway.Caller }

func (a fixedAuth) Authenticate(context.Context, *gateway.Request, string) (*gateway.Caller, error) {
	c := a.c
	return &c, nil
}

// countLimiter allows n takes per key, then refuses.
type countLimiter struct {
	mu    sync.Mutex
	n     int
	taken map[string]int
	err   error
}

func (l *countLimiter) Allow(_ context.Context, key string, _ float64, _ int) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false, 0, l.err
	}
	if l.taken == nil {
		l.taken = map[string]int{}
	}
	l.taken[key]++
	return l.taken[key] <= l.n, 250 * time.Millisecond, nil
}

// mapStore is the IdempotencyStore contract in a map (the Redis one is
// tested in shared/idempotency and end to end in tests/).
type mapStore struct {
	mu      sync.Mutex
	answers map[string][]byte
	pending map[string]string
}

type mapClaim struct {
	s   *mapStore
	key string
}

func (s *mapStore) Begin(_ context.Context, scope, key, fp string) (gateway.IdempotencyClaim, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scope + "|" + key
	if a, ok := s.answers[k]; ok {
		if s.pending[k] != fp {
			return nil, nil, errs.E(errs.Conflict, "IdempotencyKeyReused", "reused")
		}
		return nil, a, nil
	}
	if _, ok := s.pending[k]; ok {
		return nil, nil, errs.E(errs.Conflict, "IdempotencyInProgress", "in progress")
	}
	s.pending[k] = fp
	return &mapClaim{s, k}, nil, nil
}

func (c *mapClaim) Complete(_ context.Context, a []byte) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.answers[c.key] = a
	return nil
}

func (c *mapClaim) Sending(context.Context) error { return nil }

func (c *mapClaim) Release(context.Context) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	delete(c.s.pending, c.key)
	return nil
}

func newPolicyGW(t *testing.T, p *recorder, sb *recorder, opts Options) *gateway.Pipeline {
	t.Helper()
	opts.Service = &service.Service{Provider: p}
	if sb != nil {
		opts.Sandbox = &service.Service{Provider: sb}
	}
	opts.Mode = "live"
	opts.Logger = slog.New(slog.DiscardHandler)
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestTestCallerIsServedBySandboxInLive(t *testing.T) {
	live, sb := &recorder{}, &recorder{}
	g := newPolicyGW(t, live, sb, Options{Auth: fixedAuth{gateway.Caller{ID: "partner", Test: true}}})
	resp := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy))
	if resp.Status != 200 || resp.Header.Get("X-Idv-Mode") != "sandbox" {
		t.Fatalf("status %d mode %q", resp.Status, resp.Header.Get("X-Idv-Mode"))
	}
	if live.count("IdCardVerification") != 0 || sb.count("IdCardVerification") != 1 {
		t.Fatalf("live %d sandbox %d", live.count("IdCardVerification"), sb.count("IdCardVerification"))
	}
	// Without a sandbox a test caller is refused, never sent to the paid provider.
	g = newPolicyGW(t, live, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "partner", Test: true}}})
	resp = g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy))
	if resp.Status != 500 || live.count("IdCardVerification") != 0 {
		t.Fatalf("status %d live calls %d", resp.Status, live.count("IdCardVerification"))
	}
}

func TestCallerRateLimit(t *testing.T) {
	p := &recorder{}
	lim := &countLimiter{n: 2}
	g := newPolicyGW(t, p, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "web", Rate: 1, Burst: 2}}, Limiter: lim})
	var codes []int
	for range 3 {
		codes = append(codes, g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy)).Status)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Fatalf("statuses %v", codes)
	}
	if p.count("IdCardVerification") != 2 || lim.taken["caller:web"] != 3 {
		t.Fatalf("provider calls %d, takes %v", p.count("IdCardVerification"), lim.taken)
	}
	// Tencent wire form: HTTP 200 with the Tencent code.
	resp := g.ServeRequest(context.Background(), post("/", happy, "X-TC-Action", "IdCardVerification", "X-TC-Version", "2018-03-01", "Content-Type", "application/json"))
	if r := decodeResp(t, resp.Body); resp.Status != 200 || !strings.Contains(string(resp.Body), "RequestLimitExceeded") || r["Error"] == nil {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	// A limiter that fails lets the request through (it falls back itself).
	lim.err = errs.E(errs.Unavailable, "", "down")
	if s := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy)).Status; s != 200 {
		t.Fatalf("status %d with the limiter down", s)
	}
	// A caller without a rate is not limited.
	g = newPolicyGW(t, p, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "batch"}}, Limiter: &countLimiter{n: 0}})
	if s := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy)).Status; s != 200 {
		t.Fatalf("status %d for an unlimited caller", s)
	}
}

func TestIdempotencyReplaysWithoutSecondCall(t *testing.T) {
	p := &recorder{}
	st := &mapStore{answers: map[string][]byte{}, pending: map[string]string{}}
	g := newPolicyGW(t, p, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "web"}}, Idempotency: st})
	req := func(body string) *gateway.Response {
		return g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", body, "Idempotency-Key", "order-42"))
	}
	first, second := req(happy), req(happy)
	if first.Status != 200 || second.Status != 200 || string(first.Body) != string(second.Body) {
		t.Fatalf("first %d %s second %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay headers: %v / %v", first.Header, second.Header)
	}
	if n := p.count("IdCardVerification"); n != 1 {
		t.Fatalf("provider called %d times", n)
	}
	if r := req(`{"IdCard":"110101199003074477","Name":"李四"}`); r.Status != 409 || !strings.Contains(string(r.Body), "IdempotencyKeyReused") {
		t.Fatalf("reused key: %d %s", r.Status, r.Body)
	}

	// A failure before the provider releases the key: a corrected retry runs.
	p2 := &recorder{}
	g = newPolicyGW(t, p2, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "web"}}, Idempotency: st})
	bad := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", `{"Name":"张三"}`, "Idempotency-Key", "order-43"))
	if bad.Status != 400 {
		t.Fatalf("bad request: %d %s", bad.Status, bad.Body)
	}
	if r := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", `{"Name":"张三"}`, "Idempotency-Key", "order-43")); r.Status != 400 || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry after a local failure was replayed: %d %v", r.Status, r.Header)
	}

	// An ambiguous upstream failure is kept: the retry gets the same error
	// instead of a second, possibly billed, call.
	p3 := &recorder{err: errs.E(errs.Unavailable, "InternalError.UpstreamTimeout", "may have been billed")}
	g = newPolicyGW(t, p3, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "web"}}, Idempotency: st})
	for range 2 {
		r := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy, "Idempotency-Key", "order-44"))
		if r.Status != 502 || !strings.Contains(string(r.Body), "InternalError.UpstreamTimeout") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	}
	if n := p3.count("IdCardVerification"); n != 1 {
		t.Fatalf("provider called %d times after an ambiguous failure", n)
	}

	// Direct invocation carries the key as a member.
	g = newPolicyGW(t, p, nil, Options{Idempotency: st})
	payload := `{"Action":"IdCardVerification","IdempotencyKey":"inv-1","IdCard":"110101199003074477","Name":"张三"}`
	a, err1 := g.Invoke(context.Background(), []byte(payload))
	b, err2 := g.Invoke(context.Background(), []byte(payload))
	if err1 != nil || err2 != nil || string(a) != string(b) {
		t.Fatalf("invoke: %v %v %s %s", err1, err2, a, b)
	}
	if n := p.count("IdCardVerification"); n != 2 {
		t.Fatalf("provider called %d times in all, want 2", n)
	}
	var m map[string]any
	if json.Unmarshal(a, &m) != nil || m["Result"] != "0" {
		t.Fatalf("invoke answer %s", a)
	}
}

func TestContentTypeChecked(t *testing.T) {
	p := &recorder{}
	g := newPolicyGW(t, p, nil, Options{Auth: fixedAuth{gateway.Caller{ID: "web"}}})
	for ct, want := range map[string]int{
		"":                                  200,
		"application/json":                  200,
		"application/json; charset=UTF-8":   200,
		"application/x-www-form-urlencoded": 200, // curl -d
		"multipart/form-data; boundary=x":   http.StatusUnsupportedMediaType,
		"text/plain":                        http.StatusUnsupportedMediaType,
		"application/json; charset=gbk":     http.StatusUnsupportedMediaType,
		"application/json; charset":         http.StatusUnsupportedMediaType,
	} {
		r := post("/v1/faceid/IdCardVerification", happy)
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		if got := g.ServeRequest(context.Background(), r); got.Status != want {
			t.Errorf("Content-Type %q: %d %s", ct, got.Status, got.Body)
		}
	}
	if n := p.count("IdCardVerification"); n != 4 {
		t.Fatalf("provider calls %d", n)
	}
}

// The sandbox answers with the gateway's request id, so the answer's
// RequestId, the X-Request-Id header and the log line name one request.
func TestSandboxAnswerCarriesTheRequestID(t *testing.T) {
	g, err := New(Options{Service: &service.Service{Provider: sandbox.New(sandbox.Options{})}, Mode: "sandbox", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for range 2 {
		resp := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy))
		r := decodeResp(t, resp.Body)
		if want := "sandbox-" + resp.Header.Get("X-Request-Id"); r["RequestId"] != want {
			t.Fatalf("RequestId %v, header %q", r["RequestId"], resp.Header.Get("X-Request-Id"))
		}
		ids[r["RequestId"].(string)] = true
	}
	if len(ids) != 2 {
		t.Fatal("two requests answered with one RequestId")
	}
}
