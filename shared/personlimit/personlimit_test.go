package personlimit

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/quota"
)

// named is the part of a contract the limiter reads: its name.
type named struct {
	gateway.Contract
	name string
}

func (n named) Name() string { return n.name }

type upstream struct{ calls int }

func (u *upstream) next(source string) gateway.CallFunc {
	return func(context.Context, *gateway.Call) (*gateway.Answer, error) {
		u.calls++
		return &gateway.Answer{Code: "0", Header: map[string]string{"X-Idv-Source": source}}, nil
	}
}

func newLimiter(t *testing.T, limits string, now *time.Time) *Limiter {
	t.Helper()
	ls, err := Parse(limits)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(Options{Store: quota.NewMemory(func() time.Time { return *now }), Key: []byte("0123456789abcdef0123"), Limits: ls, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func call(action, body string) *gateway.Call {
	return &gateway.Call{Op: gateway.Op{Action: action}, Caller: &gateway.Caller{ID: "web"}, Body: []byte(body)}
}

func TestMinuteAndDayLimits(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 30, 0, billing.ChinaTime)
	l := newLimiter(t, "IdCardVerification=2/3", &now)
	u := &upstream{}
	c := named{name: "faceid"}
	body := `{"IdCard":"11010119900307447x","Name":"张三"}`
	for i := 0; i < 2; i++ {
		if _, err := l.Intercept(context.Background(), c, call("IdCardVerification", body), u.next("provider")); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// The same person with the check letter upper-cased is the same person.
	_, err := l.Intercept(context.Background(), c, call("IdCardVerification", strings.Replace(body, "x", "X", 1)), u.next("provider"))
	e := errs.As(err)
	if e.Kind != errs.Throttled || e.Code != "FailedOperation.IdentityAuthLimitExceeded" || u.calls != 2 {
		t.Fatalf("third call in a minute: %v (upstream calls %d)", err, u.calls)
	}
	var ra gateway.RetryAfterError
	if !errors.As(err, &ra) || ra.RetryAfter() != 30*time.Second {
		t.Fatalf("retry after: %v", ra)
	}
	if strings.Contains(e.Message, "110101") {
		t.Fatalf("the message repeats the ID number: %s", e.Message)
	}
	// Another person is not limited by the first.
	if _, err := l.Intercept(context.Background(), c, call("IdCardVerification", `{"IdCard":"110101199003074477"}`), u.next("provider")); err != nil {
		t.Fatal(err)
	}
	// Next minute: one more, then the day is full until midnight.
	now = now.Add(time.Minute)
	if _, err := l.Intercept(context.Background(), c, call("IdCardVerification", body), u.next("provider")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	_, err = l.Intercept(context.Background(), c, call("IdCardVerification", body), u.next("provider"))
	if !errors.As(err, &ra) || ra.RetryAfter() < 13*time.Hour || u.calls != 4 {
		t.Fatalf("day limit: %v %v calls %d", err, ra, u.calls)
	}
	now = time.Date(2026, 12, 3, 0, 0, 1, 0, billing.ChinaTime)
	if _, err := l.Intercept(context.Background(), c, call("IdCardVerification", body), u.next("provider")); err != nil {
		t.Fatalf("after midnight in China: %v", err)
	}
}

func TestLocalAnswersDoNotCount(t *testing.T) {
	now := time.Now()
	l := newLimiter(t, "IdCardVerification=1/0", &now)
	u := &upstream{}
	c := named{name: "faceid"}
	body := `{"IdCard":"110101199003074477"}`
	for i := 0; i < 3; i++ {
		if _, err := l.Intercept(context.Background(), c, call("IdCardVerification", body), u.next("precheck")); err != nil {
			t.Fatalf("precheck answer %d counted: %v", i, err)
		}
		refused := func(context.Context, *gateway.Call) (*gateway.Answer, error) {
			return nil, errs.E(errs.Throttled, "RequestLimitExceeded", "x")
		}
		if _, err := l.Intercept(context.Background(), c, call("IdCardVerification", body), refused); errs.As(err).Code != "RequestLimitExceeded" {
			t.Fatalf("refusal %d: %v", i, err)
		}
	}
}

func TestProviderCodes(t *testing.T) {
	now := time.Now()
	l := newLimiter(t, "faceprint/idcard/submit=1/1,faceAdv=0/1", &now)
	u := &upstream{}
	b := `{"verify_token":"t","id_no":"110101199003074477","id_name":"x"}`
	_, _ = l.Intercept(context.Background(), named{name: "faceprint"}, call("faceprint/idcard/submit", b), u.next("provider"))
	_, err := l.Intercept(context.Background(), named{name: "faceprint"}, call("faceprint/idcard/submit", b), u.next("provider"))
	if c := errs.As(err).Code; c != "18" {
		t.Fatalf("baidu minute code %q", c)
	}
	a := `{"idNo":"110101199003074477","type":"authmatch"}`
	_, _ = l.Intercept(context.Background(), named{name: "faceAdv"}, call("faceAdv", a), u.next("provider"))
	_, err = l.Intercept(context.Background(), named{name: "faceAdv"}, call("faceAdv", a), u.next("provider"))
	if errs.KindOf(err) != errs.Throttled {
		t.Fatalf("faceAdv: %v", err)
	}
}

func TestNoIdentityIsNotLimited(t *testing.T) {
	now := time.Now()
	l := newLimiter(t, "MobileStatus=1/1", &now)
	u := &upstream{}
	for _, b := range []string{`{}`, `not json`, `{"Mobile":""}`, `{"Mobile":13800138000}`} {
		for i := 0; i < 2; i++ {
			_, err := l.Intercept(context.Background(), named{name: "faceid"}, call("MobileStatus", b), u.next("provider"))
			if err != nil && b != `{"Mobile":13800138000}` {
				t.Fatalf("%s: %v", b, err)
			}
		}
	}
}

func TestParse(t *testing.T) {
	ls, err := Parse("")
	if err != nil || ls["DetectAuth"] != (Limit{15, 30}) || ls["IdCardVerification"] != (Limit{0, 1000}) {
		t.Fatalf("defaults: %v %v", ls, err)
	}
	ls, _ = Parse("off")
	if len(ls) != 0 {
		t.Fatal("off")
	}
	ls, err = Parse("IdCardVerification=5/20, DetectAuth=off, MobileStatus=0/0")
	if err != nil || ls["IdCardVerification"] != (Limit{5, 20}) || ls["DetectAuth"] != (Limit{}) || ls["MobileStatus"] != (Limit{}) {
		t.Fatalf("%v %v", ls, err)
	}
	for _, bad := range []string{"IdCardVerification", "Nope=1/1", "IdCardVerification=5", "IdCardVerification=-1/3", "IdCardVerification=30/10", "IdCardVerification=a/b"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), Var) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestHashHidesTheValue(t *testing.T) {
	now := time.Now()
	l := newLimiter(t, "", &now)
	cs, _ := l.counters("IdCardVerification", Identity{KindIDNumber, "110101199003074477"}, Limit{1, 1}, now)
	b, _ := json.Marshal(cs)
	if strings.Contains(string(b), "110101") || strings.Contains(string(b), "4477") {
		t.Fatalf("counter keys carry the value: %s", b)
	}
	other, _ := New(Options{Store: quota.NewMemory(nil), Key: []byte("another key of 16+ bytes"), Limits: nil})
	if l.hash("A", Identity{"id", "1"}) == other.hash("A", Identity{"id", "1"}) {
		t.Fatal("the hash does not depend on the key")
	}
}
