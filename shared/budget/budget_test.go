package budget

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/quota"
	"github.com/idverify/idverify/tests/redistest"
)

type contract struct {
	gateway.Contract
	name, mode string
}

func (c contract) Name() string { return c.name }
func (c contract) Mode() string { return c.mode }

var faceid = contract{name: "faceid", mode: "live"}

// provider answers code and counts the calls it got.
type provider struct {
	calls atomic.Int64
	code  string
}

func (p *provider) next(context.Context, *gateway.Call) (*gateway.Answer, error) {
	p.calls.Add(1)
	return &gateway.Answer{Code: p.code, Header: map[string]string{"X-Idv-Source": "provider"}}, nil
}

func call(caller, action string) *gateway.Call {
	return &gateway.Call{Op: gateway.Op{Action: action}, Caller: &gateway.Caller{ID: caller}}
}

func mustParse(t *testing.T, v string) Budgets {
	t.Helper()
	b, err := Parse(v, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDayCapRefusesBeforeSending(t *testing.T) {
	now := time.Date(2026, 12, 2, 23, 59, 0, 0, billing.ChinaTime)
	g := New(quota.NewMemory(nil), mustParse(t, `{"web":{"day":3,"month":100}}`), nil, func() time.Time { return now })
	p := &provider{code: "0"}
	for i := 0; i < 3; i++ {
		if _, err := g.Intercept(context.Background(), faceid, call("web", "IdCardVerification"), p.next); err != nil {
			t.Fatal(err)
		}
	}
	_, err := g.Intercept(context.Background(), faceid, call("web", "IdCardVerification"), p.next)
	var ra gateway.RetryAfterError
	if e := errs.As(err); e.Kind != errs.Throttled || e.Code != "LimitExceeded" || !errors.As(err, &ra) || ra.RetryAfter() != time.Minute {
		t.Fatalf("over budget: %v", err)
	}
	if p.calls.Load() != 3 {
		t.Fatalf("%d calls reached the provider, want 3", p.calls.Load())
	}
	// Another caller has its own budget; an action that is never billed
	// is never refused.
	if _, err := g.Intercept(context.Background(), faceid, call("web", "GetDetectInfo"), p.next); err != nil {
		t.Fatal(err)
	}
	// The next China day.
	now = now.Add(2 * time.Minute)
	if _, err := g.Intercept(context.Background(), faceid, call("web", "IdCardVerification"), p.next); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestFreeAnswersAreGivenBack(t *testing.T) {
	g := New(quota.NewMemory(nil), mustParse(t, `{"*":{"day":1}}`), nil, nil)
	free := &provider{code: "-2"}
	for i := 0; i < 5; i++ {
		if _, err := g.Intercept(context.Background(), faceid, call("any", "IdCardVerification"), free.next); err != nil {
			t.Fatalf("free answer %d: %v", i, err)
		}
	}
	timeout := func(context.Context, *gateway.Call) (*gateway.Answer, error) {
		return nil, errs.E(errs.Unavailable, "InternalError.UpstreamTimeout", "x")
	}
	_, _ = g.Intercept(context.Background(), faceid, call("any", "IdCardVerification"), timeout)
	// The timeout may have been billed: it keeps its unit.
	if _, err := g.Intercept(context.Background(), faceid, call("any", "IdCardVerification"), free.next); errs.KindOf(err) != errs.Throttled {
		t.Fatalf("after an uncertain answer: %v", err)
	}
}

func TestActionCapsAndSandboxApart(t *testing.T) {
	g := New(quota.NewMemory(nil), mustParse(t, `{"web":{"day":10,"actions":{"BankCard4EVerification":{"day":1}}}}`), nil, nil)
	p := &provider{code: "0"}
	if _, err := g.Intercept(context.Background(), faceid, call("web", "BankCard4EVerification"), p.next); err != nil {
		t.Fatal(err)
	}
	_, err := g.Intercept(context.Background(), faceid, call("web", "BankCard4EVerification"), p.next)
	if err == nil || !strings.Contains(errs.As(err).Message, "BankCard4EVerification") {
		t.Fatalf("action cap: %v", err)
	}
	if _, err := g.Intercept(context.Background(), faceid, call("web", "IdCardVerification"), p.next); err != nil {
		t.Fatalf("other action: %v", err)
	}
	sb := contract{name: "faceid", mode: "sandbox"}
	if _, err := g.Intercept(context.Background(), sb, call("web", "BankCard4EVerification"), p.next); err != nil {
		t.Fatalf("sandbox counted with live: %v", err)
	}
	baidu := contract{name: "faceprint", mode: "live"}
	for i := 0; i < 3; i++ {
		if _, err := g.Intercept(context.Background(), baidu, call("web", "faceprint/verifyToken/generate"), p.next); err != nil {
			t.Fatalf("baidu is not billed per call: %v", err)
		}
	}
}

func TestWarnsOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	g := New(quota.NewMemory(nil), mustParse(t, `{"web":{"day":10,"warn":0.5}}`), log, nil)
	p := &provider{code: "0"}
	for i := 0; i < 9; i++ {
		_, _ = g.Intercept(context.Background(), faceid, call("web", "IdCardVerification"), p.next)
	}
	if n := strings.Count(logs.String(), "budget nearly used"); n != 1 {
		t.Fatalf("warned %d times:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"used":5`) {
		t.Fatalf("warning not at 50%%:\n%s", logs.String())
	}
}

func TestExactUnderConcurrencyAcrossGuards(t *testing.T) {
	rs := redistest.Start(t)
	b := mustParse(t, `{"web":{"day":25}}`)
	// Two guards on one store: two instances.
	g1 := New(quota.NewRedis(rs.Client(t), "idv:q:"), b, nil, nil)
	g2 := New(quota.NewRedis(rs.Client(t), "idv:q:"), b, nil, nil)
	p := &provider{code: "0"}
	var refused atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			g := g1
			if i%2 == 1 {
				g = g2
			}
			if _, err := g.Intercept(context.Background(), faceid, call("web", "IdCardVerification"), p.next); errs.KindOf(err) == errs.Throttled {
				refused.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if p.calls.Load() != 25 || refused.Load() != 39 {
		t.Fatalf("sent %d, refused %d: want 25 and 39", p.calls.Load(), refused.Load())
	}
}

func TestParse(t *testing.T) {
	known := func(a string) bool { return a == "IdCardVerification" }
	b, err := Parse(`{"web":{"day":5,"actions":{"IdCardVerification":{"month":9}}},"*":{"month":100,"warn":0.9}}`, known, []string{"web"})
	if err != nil || b["web"].Warn != DefaultWarn || b["*"].Warn != 0.9 {
		t.Fatalf("%+v %v", b, err)
	}
	if x, ok := b.For("other"); !ok || x.Month != 100 {
		t.Fatalf("default: %+v", x)
	}
	for _, bad := range []string{`[]`, `{"web":{"day":-1}}`, `{"web":{"day":5,"month":4}}`, `{"web":{}}`, `{"web":{"dai":1}}`,
		`{"web":{"day":1,"warn":2}}`, `{"nobody":{"day":1}}`, `{"web":{"actions":{"Nope":{"day":1}}}}`, `{"web":{"day":1}} x`} {
		if _, err := Parse(bad, known, []string{"web"}); err == nil || !strings.Contains(err.Error(), Var) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
