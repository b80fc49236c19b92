package faceidapi

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/idverify/idverify/shared/gateway"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/service"
)

// recorder is a provider that answers from a table and counts calls, so a
// test can prove what reached the (paid) provider.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	body  string
	err   error
}

func (r *recorder) Name() string { return "recorder" }

func (r *recorder) Call(_ context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[action]++
	if r.err != nil {
		return nil, r.err
	}
	if r.body != "" {
		return json.RawMessage(r.body), nil
	}
	return json.RawMessage(`{"Result":"0","Description":"一致","Future":{"x":[1,2]},"RequestId":"up-1"}`), nil
}

func (r *recorder) count(action string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[action]
}

func newGW(t *testing.T, p *recorder, mode string, actions ...string) (*gateway.Pipeline, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	g, err := New(Options{
		Service: &service.Service{Provider: p}, Actions: actions, Mode: mode,
		Logger:    slog.New(slog.NewJSONHandler(&logs, nil)),
		Scenarios: func() any { return []string{"s1"} },
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, &logs
}

func post(path, body string, hdr ...string) *gateway.Request {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &gateway.Request{Method: http.MethodPost, Path: path, Header: h, Body: []byte(body), SourceIP: "127.0.0.1"}
}

func decodeResp(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
		t.Fatalf("not a FaceID envelope: %s", b)
	}
	return env.Response
}

const happy = `{"IdCard":"110101199003074477","Name":"张三"}`

func TestFaceIDSurfacePassesEveryFieldThrough(t *testing.T) {
	p := &recorder{}
	g, logs := newGW(t, p, "live")
	resp := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy))
	if resp.Status != 200 {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	want := `{"Response":{"Result":"0","Description":"一致","Future":{"x":[1,2]},"RequestId":"up-1"}}`
	if string(resp.Body) != want {
		t.Fatalf("body changed on the way:\n got %s\nwant %s", resp.Body, want)
	}
	if resp.Header.Get("X-Idv-Mode") != "live" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("headers %v", resp.Header)
	}
	if strings.Contains(logs.String(), "110101199003074477") || strings.Contains(logs.String(), "张三") {
		t.Fatalf("PII in logs: %s", logs)
	}
	if !strings.Contains(logs.String(), `"result_code":"0"`) {
		t.Errorf("log misses result code: %s", logs)
	}
}

func TestLocalAnswersNeverReachTheProvider(t *testing.T) {
	p := &recorder{}
	g, _ := newGW(t, p, "sandbox")
	resp := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", `{"IdCard":"110101199003074478","Name":"张三"}`))
	r := decodeResp(t, resp.Body)
	if resp.Status != 200 || r["Result"] != "-2" || r["Description"] != "非法身份证号（长度、校验位等不正确）" {
		t.Fatalf("got %d %s", resp.Status, resp.Body)
	}
	if !strings.HasPrefix(r["RequestId"].(string), "sandbox-") {
		t.Errorf("sandbox answer not marked: %v", r["RequestId"])
	}
	if resp.Header.Get("X-Idv-Source") != "precheck" || !strings.Contains(resp.Header.Get("X-Idv-Precheck"), "IdCard") {
		t.Errorf("precheck headers: %v", resp.Header)
	}
	if p.count("IdCardVerification") != 0 {
		t.Fatal("a locally answered request reached the provider")
	}
}

func TestFaceIDSurfaceErrors(t *testing.T) {
	cases := []struct {
		name   string
		req    *gateway.Request
		status int
		code   string
	}{
		{"missing field", post("/v1/faceid/IdCardVerification", `{"Name":"张三"}`), 400, "MissingParameter"},
		{"unknown action", post("/v1/faceid/NoSuchAction", `{}`), 404, "InvalidAction"},
		{"not served", post("/v1/faceid/PhoneVerification", `{}`), 404, "InvalidAction"},
		{"get", &gateway.Request{Method: "GET", Path: "/v1/faceid/IdCardVerification", SourceIP: "127.0.0.1"}, 405, "UnsupportedProtocol"},
		{"remote caller", &gateway.Request{Method: "POST", Path: "/v1/faceid/IdCardVerification", Body: []byte(happy), SourceIP: "203.0.113.9"}, 401, "AuthFailure.UnauthorizedOperation"},
		{"no route", post("/nope", ``), 404, "InvalidAction"},
	}
	p := &recorder{}
	g, _ := newGW(t, p, "live", "IdCardVerification")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := g.ServeRequest(context.Background(), c.req)
			if resp.Status != c.status {
				t.Fatalf("status %d, want %d: %s", resp.Status, c.status, resp.Body)
			}
			e := decodeResp(t, resp.Body)["Error"].(map[string]any)
			if e["Code"] != c.code || e["Message"] == "" {
				t.Fatalf("error %v, want code %s", e, c.code)
			}
		})
	}
	if p.count("IdCardVerification") != 0 {
		t.Fatal("a rejected request reached the provider")
	}
}

func TestProviderErrorsKeepCodeAndRequestID(t *testing.T) {
	up := errs.E(errs.Provider, "FailedOperation.CompareLowSimilarity", "比对相似度未达到通过标准")
	up.RequestID = "up-9"
	p := &recorder{err: up}
	g, _ := newGW(t, p, "live")
	resp := g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy))
	r := decodeResp(t, resp.Body)
	if resp.Status != 422 || r["RequestId"] != "up-9" || r["Error"].(map[string]any)["Code"] != "FailedOperation.CompareLowSimilarity" {
		t.Fatalf("got %d %s", resp.Status, resp.Body)
	}
	// Internal errors show nothing of the cause.
	p.err = errs.Wrap(errSecret, errs.Internal, "", "db password rejected")
	resp = g.ServeRequest(context.Background(), post("/v1/faceid/IdCardVerification", happy))
	if resp.Status != 500 || strings.Contains(string(resp.Body), "password") {
		t.Fatalf("internal error leaked: %s", resp.Body)
	}
}

var errSecret = errs.E(errs.Internal, "", "secret cause")

func TestTencentAPISurface(t *testing.T) {
	p := &recorder{}
	g, _ := newGW(t, p, "live")
	ok := post("/", happy, "X-TC-Action", "IdCardVerification", "X-TC-Version", "2018-03-01", "Content-Type", "application/json")
	resp := g.ServeRequest(context.Background(), ok)
	if resp.Status != 200 || decodeResp(t, resp.Body)["Result"] != "0" {
		t.Fatalf("got %d %s", resp.Status, resp.Body)
	}
	cases := []struct {
		name string
		req  *gateway.Request
		code string
	}{
		{"bad version", post("/", happy, "X-TC-Action", "IdCardVerification", "X-TC-Version", "2017-01-01", "Content-Type", "application/json"), "NoSuchVersion"},
		{"no version", post("/", happy, "X-TC-Action", "IdCardVerification", "Content-Type", "application/json"), "MissingParameter"},
		{"form body", post("/", happy, "X-TC-Action", "IdCardVerification", "X-TC-Version", "2018-03-01", "Content-Type", "application/x-www-form-urlencoded"), "InvalidParameter"},
		{"unknown action", post("/", happy, "X-TC-Action", "Nope", "X-TC-Version", "2018-03-01", "Content-Type", "application/json"), "InvalidAction"},
		{"bad input", post("/", `{"IdCard":1}`, "X-TC-Action", "IdCardVerification", "X-TC-Version", "2018-03-01", "Content-Type", "application/json"), "InvalidParameterValue"},
	}
	for _, c := range cases {
		resp := g.ServeRequest(context.Background(), c.req)
		// Tencent answers errors with HTTP 200 so SDKs parse Response.Error.
		if resp.Status != 200 {
			t.Errorf("%s: status %d", c.name, resp.Status)
		}
		e, _ := decodeResp(t, resp.Body)["Error"].(map[string]any)
		if e == nil || e["Code"] != c.code {
			t.Errorf("%s: got %s, want %s", c.name, resp.Body, c.code)
		}
	}
}

func TestInvoke(t *testing.T) {
	p := &recorder{}
	single, _ := newGW(t, p, "live", "IdCardVerification")
	out, err := single.Invoke(context.Background(), []byte(happy))
	if err != nil || !strings.Contains(string(out), `"Result":"0"`) {
		t.Fatalf("single: %s %v", out, err)
	}
	all, _ := newGW(t, p, "live")
	if _, err := all.Invoke(context.Background(), []byte(happy)); errs.As(err).Code != "MissingParameter" {
		t.Fatalf("multi without Action: %v", err)
	}
	out, err = all.Invoke(context.Background(), []byte(`{"Action":"IdCardVerification","IdCard":"110101199003074477","Name":"张三"}`))
	if err != nil || !strings.Contains(string(out), `"Result":"0"`) {
		t.Fatalf("multi with Action: %s %v", out, err)
	}
	_, err = all.Invoke(context.Background(), []byte(`{"Action":"IdCardVerification","Name":"张三"}`))
	if e := errs.As(err); e.Kind != errs.Invalid || e.Kind.String() != "InvalidInput" {
		t.Fatalf("invalid input kind: %v", err)
	}
	for _, bad := range []string{``, `[]`, `null`, `"x"`, `{"Action":5}`} {
		if _, err := all.Invoke(context.Background(), []byte(bad)); errs.KindOf(err) != errs.Invalid {
			t.Errorf("payload %q: %v", bad, err)
		}
	}
	if p.count("IdCardVerification") != 2 {
		t.Errorf("provider calls = %d, want 2", p.count("IdCardVerification"))
	}
}

func TestInfoAndScenarios(t *testing.T) {
	g, _ := newGW(t, &recorder{}, "sandbox", "IdCardVerification")
	resp := g.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/v1/sandbox/scenarios", SourceIP: "127.0.0.1"})
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"s1"`) || resp.Header.Get("X-Idv-Mode") != "sandbox" {
		t.Fatalf("scenarios: %d %s", resp.Status, resp.Body)
	}
	resp = g.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/healthz"})
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"IdCardVerification"`) {
		t.Fatalf("healthz: %s", resp.Body)
	}
}

// The scenario table is built once, and only the function's callers (here:
// this machine) may read it: it costs CPU nobody outside should spend.
func TestScenariosBuiltOnceAndAuthenticated(t *testing.T) {
	var builds int
	p, err := New(Options{Service: &service.Service{Provider: &recorder{}}, Mode: "sandbox",
		Scenarios: func() any { builds++; return []string{"row"} }})
	if err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := range 5 {
		resp := p.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/v1/sandbox/scenarios", SourceIP: "::1"})
		if resp.Status != 200 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		if i == 0 {
			first = resp.Body
		} else if !bytes.Equal(first, resp.Body) {
			t.Fatal("the table changed between requests")
		}
	}
	if builds != 1 {
		t.Fatalf("the table was built %d times for 5 requests", builds)
	}
	resp := p.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/v1/sandbox/scenarios", SourceIP: "203.0.113.9"})
	if resp.Status != http.StatusUnauthorized || strings.Contains(string(resp.Body), "row") {
		t.Fatalf("outsider: %d %s", resp.Status, resp.Body)
	}
	// With callers, any authenticated caller may read it (whatever its
	// actions), nobody else.
	p, _ = New(Options{Service: &service.Service{Provider: &recorder{}}, Mode: "live",
		Scenarios: func() any { return []string{"row"} }, Auth: keyAuth{"k"}})
	resp = p.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/v1/sandbox/scenarios", SourceIP: "127.0.0.1"})
	if resp.Status != http.StatusUnauthorized {
		t.Fatalf("no key: %d %s", resp.Status, resp.Body)
	}
	resp = p.ServeRequest(context.Background(), &gateway.Request{Method: "GET", Path: "/v1/sandbox/scenarios",
		Header: http.Header{"Authorization": {"Bearer k"}}})
	if resp.Status != 200 || !strings.Contains(string(resp.Body), "row") {
		t.Fatalf("with key: %d %s", resp.Status, resp.Body)
	}
}

// keyAuth accepts one bearer key and allows no action: enough to be a
// caller, not enough to call anything.
type keyAuth struct{ key string }

func (k keyAuth) Authenticate(_ context.Context, r *gateway.Request, action string) (*gateway.Caller, error) {
	if r.Header.Get("Authorization") != "Bearer "+k.key {
		return nil, errs.E(errs.Unauthorized, "AuthFailure", "no key")
	}
	return nil, errs.E(errs.Forbidden, "AuthFailure.UnauthorizedOperation", "not %s", action)
}

func FuzzServeRequest(f *testing.F) {
	f.Add("/v1/faceid/IdCardVerification", happy, "")
	f.Add("/", happy, "IdCardVerification")
	f.Add("/v1/faceid/", `{`, "")
	f.Fuzz(func(t *testing.T, path, body, action string) {
		g, _ := newGW(t, &recorder{}, "sandbox")
		req := post(path, body, "X-TC-Action", action, "X-TC-Version", "2018-03-01", "Content-Type", "application/json")
		resp := g.ServeRequest(context.Background(), req)
		if resp == nil || resp.Status == 0 || !json.Valid(resp.Body) {
			t.Fatalf("bad response %+v", resp)
		}
		_, _ = g.Invoke(context.Background(), []byte(body))
	})
}
