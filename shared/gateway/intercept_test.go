package gateway

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// recorder is an interceptor that notes the order it runs in and can
// refuse or rewrite.
type recorder struct {
	name   string
	mu     *sync.Mutex
	trace  *[]string
	refuse bool
}

func (r recorder) Intercept(ctx context.Context, c Contract, call *Call, next CallFunc) (*Answer, error) {
	r.mu.Lock()
	*r.trace = append(*r.trace, r.name+">"+call.Op.Action+"@"+c.Name()+"/"+call.Caller.ID)
	r.mu.Unlock()
	if r.refuse {
		return nil, errs.E(errs.Throttled, "LimitExceeded", "refused by %s", r.name)
	}
	ans, err := next(ctx, call)
	r.mu.Lock()
	*r.trace = append(*r.trace, "<"+r.name)
	r.mu.Unlock()
	return ans, err
}

func TestInterceptorsWrapTheContractInOrder(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	fx := newFixture(t, func(o *Options) {
		o.Interceptors = []Interceptor{recorder{name: "a", mu: &mu, trace: &trace}, recorder{name: "b", mu: &mu, trace: &trace}}
	})
	resp := fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
	if resp.Status != 200 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	want := "a>Echo@fake/alice b>Echo@fake/alice <b <a"
	if got := strings.Join(trace, " "); got != want {
		t.Fatalf("trace %q, want %q", got, want)
	}
	// A replayed idempotent answer is not intercepted again.
	trace = nil
	resp = fx.serve(keyed("/v1/fake/Echo", `{}`, "key-alice", "k1"))
	if resp.Header.Get("Idempotent-Replayed") != "true" || len(trace) != 0 {
		t.Fatalf("replay: %v %q", resp.Header, trace)
	}
}

func TestInterceptorRefusalSendsNothing(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	fx := newFixture(t, func(o *Options) {
		o.Interceptors = []Interceptor{recorder{name: "limit", mu: &mu, trace: &trace, refuse: true}}
	})
	resp := fx.serve(post("/v1/fake/Echo", `{}`, "key-alice"))
	wantStatus(t, resp, 429, "LimitExceeded")
	if fx.c.count() != 0 {
		t.Fatalf("the contract was called %d times after a refusal", fx.c.count())
	}
}

func TestPublicRouteSkipsCallerAuth(t *testing.T) {
	fx := newFixture(t, nil)
	fx.c.ops["Page"] = Op{Public: true, JSON: NoBody}
	resp := fx.serve(get("/v1/fake/Page", ""))
	// The fake routes only POST; a GET is its 405, answered without auth.
	if resp.Status != 405 {
		t.Fatalf("GET: %d", resp.Status)
	}
	resp = fx.serve(post("/v1/fake/Page", `{}`, ""))
	if resp.Status != 200 {
		t.Fatalf("public POST without a key: %d %s", resp.Status, resp.Body)
	}
	if fx.auth.count() != 0 {
		t.Fatalf("a public route authenticated %d times", fx.auth.count())
	}
	if c := fx.c.lastCall(); c.Caller != PublicCaller {
		t.Fatalf("caller %+v, want PublicCaller", c.Caller)
	}
	// An Idempotency-Key means nothing there: no answer is kept under
	// the shared public caller for someone else's request to replay.
	before := fx.c.count()
	for range 2 {
		r := keyed("/v1/fake/Page", `{}`, "", "shared-key")
		if resp := fx.serve(r); resp.Status != 200 || resp.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("public route with a key: %d %v", resp.Status, resp.Header)
		}
	}
	if fx.c.count() != before+2 || fx.idem.log() != "" {
		t.Fatalf("public calls %d, idempotency store %q", fx.c.count()-before, fx.idem.log())
	}
	// Every other route still needs a caller.
	wantStatus(t, fx.serve(post("/v1/fake/Echo", `{}`, "")), 401, "AuthFailure.SecretIdNotFound")
}

func TestInternalRunsAsTheCallerThroughThePipeline(t *testing.T) {
	var mu sync.Mutex
	var trace []string
	fx := newFixture(t, func(o *Options) {
		o.Interceptors = []Interceptor{recorder{name: "a", mu: &mu, trace: &trace}}
	})
	wantStatus(t, fx.serve(post("/v1/fake/Start", `{"want":"tok-1"}`, "key-alice")), 200, "")
	alice, bob := &Caller{ID: "alice"}, &Caller{ID: "bob"}
	if _, err := fx.p.Internal(context.Background(), alice, "Result", []byte(`{"token":"tok-1"}`)); err != nil {
		t.Fatalf("owner: %v", err)
	}
	if _, err := fx.p.Internal(context.Background(), bob, "Result", []byte(`{"token":"tok-1"}`)); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("another caller's token: %v", err)
	}
	if _, err := fx.p.Internal(context.Background(), alice, "Nope", []byte(`{}`)); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := fx.p.Internal(context.Background(), alice, "Result", []byte(`[]`)); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("not an object: %v", err)
	}
	if got := strings.Join(trace, " "); !strings.Contains(got, "a>Result@fake/alice") {
		t.Fatalf("internal call not intercepted: %q", got)
	}
	var internal int
	for _, l := range fx.logs.lines(t) {
		if l["surface"] == "internal" {
			internal++
		}
	}
	if internal != 2 { // the two calls that were routed
		t.Fatalf("%d internal log lines, want 2", internal)
	}
}
