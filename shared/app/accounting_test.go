package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/usage"
)

func envOf(kv ...string) *Env {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &Env{Getenv: func(k string) string { return m[k] }, Log: slog.New(slog.DiscardHandler)}
}

func TestAccountingSettingsNameTheirVariable(t *testing.T) {
	for _, c := range [][2]string{
		{"IDV_PERSON_LIMITS", "IdCardVerification=9"},
		{"IDV_PERSON_LIMITS", "Nope=1/1"},
		{"IDV_BUDGETS", `{"web":{"day":-1}}`},
		{"IDV_BUDGETS", `{"nobody":{"day":1}}`},
		{"IDV_BUDGETS", `{"web":{"actions":{"GetDetectInfo":{"day":1}}}}`},
		{"IDV_USAGE_PRICES", `{"perCall":{"Nope":1}}`},
		{"IDV_USAGE_RETENTION", "1h"},
		{"IDV_USAGE_METRICS", "statsd"},
		{"IDV_PERSON_KEY", "short"},
	} {
		env := envOf(c[0], c[1], "IDV_CALLERS", callersJSON)
		auth, err := Authenticator(env, ModeSandbox)
		if err != nil {
			t.Fatal(err)
		}
		_, err = env.accounting(auth, ModeSandbox)
		if e := errs.As(err); err == nil || e.Kind != errs.Config || e.Field != c[0] {
			t.Errorf("%s=%s: %v", c[0], c[1], err)
		}
	}
}

// In process, sandbox: the limits and the report are wired into the
// function's pipeline, and the report contract stays out of /healthz.
func TestPipelineLimitsAndReports(t *testing.T) {
	env := envOf("IDV_PERSON_LIMITS", "IdCardVerification=2/0", "IDV_USAGE_PRICES", `{"perCall":{"*":0.5}}`)
	c, err := FaceIDContract(env, []string{"IdCardVerification"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Pipeline(c)
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) *gateway.Response {
		return p.ServeRequest(context.Background(), &gateway.Request{Method: "POST", Path: "/v1/faceid/IdCardVerification",
			Header: http.Header{}, Body: []byte(body), SourceIP: "127.0.0.1"})
	}
	happy := `{"IdCard":"110101199003074477","Name":"张三"}`
	for i := 0; i < 2; i++ {
		if r := post(happy); r.Status != 200 {
			t.Fatalf("call %d: %d %s", i, r.Status, r.Body)
		}
	}
	// A malformed ID number is answered locally: free, not counted.
	if r := post(`{"IdCard":"110101199003074478","Name":"张三"}`); r.Status != 200 || r.Header.Get("X-Idv-Source") != "precheck" {
		t.Fatalf("precheck: %d %s", r.Status, r.Body)
	}
	r := post(happy)
	if r.Status != 429 || !strings.Contains(string(r.Body), "FailedOperation.IdentityAuthLimitExceeded") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("third call: %d %v %s", r.Status, r.Header, r.Body)
	}
	r = p.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: usage.Path, RawQuery: "by=month", Header: http.Header{}, SourceIP: "127.0.0.1"})
	var rep usage.Report
	if r.Status != 200 || json.Unmarshal(r.Body, &rep) != nil || len(rep.Totals) != 1 {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	tot := rep.Totals[0]
	if tot.Mode != "sandbox" || tot.Calls != 4 || tot.Charged != 2 || tot.Free != 2 || tot.Cost != 1 {
		t.Fatalf("totals %+v", tot)
	}
	r = p.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/healthz", Header: http.Header{}, SourceIP: "127.0.0.1"})
	if strings.Contains(string(r.Body), "providers") || strings.Contains(string(r.Body), `"usage"`) {
		t.Fatalf("healthz shows the report contract: %s", r.Body)
	}
}
