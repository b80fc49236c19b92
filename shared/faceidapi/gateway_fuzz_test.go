package faceidapi

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/idverify/idverify/shared/gateway"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/precheck"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
)

// sandboxGW is a gateway over the real sandbox provider, the configuration a
// local server or a deployed sandbox runs.
func sandboxGW(t testing.TB) *gateway.Pipeline {
	t.Helper()
	g, err := New(Options{
		Service: &service.Service{Provider: sandbox.New(sandbox.Options{})},
		Mode:    "sandbox",
		Logger:  slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// envelope is the FaceID response envelope every routed answer has.
type envelope struct {
	Response *struct {
		Error *struct {
			Code    string
			Message string
		}
		RequestId string
	}
}

// FuzzSandboxServeRequest drives every HTTP surface of a sandbox-backed
// gateway with arbitrary method, path, action header, content type and body.
// Beyond "no panic": every answer is a FaceID envelope with a request id and
// the mode header; the Tencent API form always answers HTTP 200 (SDKs read
// errors from the body); and a success on /v1/faceid/<Action> is only ever
// given to a body that precheck accepts, within the action's size cap.
func FuzzSandboxServeRequest(f *testing.F) {
	f.Add("POST", "/v1/faceid/IdCardVerification", "", "application/json", []byte(`{"IdCard":"110101199003074477","Name":"张三"}`))
	f.Add("POST", "/", "IdCardVerification", "application/json", []byte(`{"IdCard":"110101199003074477","Name":"张三"}`))
	f.Add("POST", "/", "PhoneVerification", "application/json; charset=utf-8", []byte(`{"IdCard":"110101199003074477","Name":"张三","Phone":"13800138000"}`))
	f.Add("POST", "/v1/faceid/DetectAuth", "", "application/json", []byte(`{"RuleId":"0","IntentionQuestions":[{"Question":"q","Answers":["a"]}]}`))
	f.Add("POST", "/v1/faceid/GetDetectInfoEnhanced", "", "application/json", []byte(`{"BizToken":"x","RuleId":"0"}`))
	f.Add("GET", "/v1/faceid/IdCardVerification", "", "", []byte(nil))
	f.Add("POST", "/v1/faceid/", "", "text/plain", []byte(`{`))
	f.Add("GET", "/healthz", "", "", []byte(nil))
	f.Add("POST", "/", "NoSuchAction", "application/json", []byte(`{}`))
	f.Fuzz(func(t *testing.T, method, path, action, ct string, body []byte) {
		g := sandboxGW(t)
		h := http.Header{}
		h.Set("X-TC-Action", action)
		h.Set("X-TC-Version", faceid.Version)
		h.Set("Content-Type", ct)
		req := &gateway.Request{Method: method, Path: path, Header: h, Body: body, SourceIP: "127.0.0.1"}
		resp := g.ServeRequest(context.Background(), req)
		if resp == nil || resp.Status < 200 || resp.Status > 599 {
			t.Fatalf("bad response %+v", resp)
		}
		if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Idv-Mode") != "sandbox" {
			t.Fatalf("missing request id or mode header: %v", resp.Header)
		}
		if !json.Valid(resp.Body) {
			t.Fatalf("answer is not JSON: %q", resp.Body)
		}
		tcapi := path == "/" && strings.TrimSpace(action) != ""
		faceidRoute := strings.HasPrefix(path, prefix)
		if !tcapi && !faceidRoute {
			return
		}
		var env envelope
		if err := json.Unmarshal(resp.Body, &env); err != nil || env.Response == nil || env.Response.RequestId == "" {
			t.Fatalf("not a FaceID envelope with a RequestId: %s", resp.Body)
		}
		if tcapi && resp.Status != http.StatusOK {
			t.Fatalf("Tencent API form answered HTTP %d", resp.Status)
		}
		if env.Response.Error != nil {
			if env.Response.Error.Code == "" || env.Response.Error.Message == "" {
				t.Fatalf("error without code or message: %s", resp.Body)
			}
			if faceidRoute && resp.Status == http.StatusOK {
				t.Fatalf("error answered with HTTP 200 on /v1/faceid: %s", resp.Body)
			}
			return
		}
		name := action
		if faceidRoute {
			name = strings.TrimPrefix(path, prefix)
		}
		a, ok := faceid.Lookup(name)
		if !ok {
			t.Fatalf("success for unknown action %q", name)
		}
		if int64(len(body)) > precheck.MaxBody(name) {
			t.Fatalf("success for a %d-byte body over the cap", len(body))
		}
		if _, _, err := precheck.Check(a, body); err != nil {
			t.Fatalf("success for a body precheck refuses: %v", err)
		}
	})
}

// FuzzSandboxInvoke drives direct invocation. Exactly one of output and
// error is set; an error is always a typed *errs.Error (its kind is the
// workflow's error type); an output is a JSON object marked as sandbox.
func FuzzSandboxInvoke(f *testing.F) {
	f.Add([]byte(`{"Action":"IdCardVerification","IdCard":"110101199003074477","Name":"张三"}`))
	f.Add([]byte(`{"Action":"BankCard4EVerification","IdCard":"110101199003074477","Name":"张三","BankCard":"6222020000000000000","Phone":"13800138000"}`))
	f.Add([]byte(`{"Action":"GetEidToken","MerchantId":"m"}`))
	f.Add([]byte(`{"Action":["x"]}`))
	f.Add([]byte(`{"IdCard":"110101199003074477"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		g := sandboxGW(t)
		out, err := g.Invoke(context.Background(), payload)
		if (out == nil) == (err == nil) {
			t.Fatalf("out %q and err %v: want exactly one", out, err)
		}
		if err != nil {
			var e *errs.Error
			if !errorsAs(err, &e) || e.Code == "" || e.Kind.String() == "" {
				t.Fatalf("untyped error %T %v", err, err)
			}
			return
		}
		var inner map[string]any
		if json.Unmarshal(out, &inner) != nil || inner == nil {
			t.Fatalf("output is not a JSON object: %q", out)
		}
		if id, _ := inner["RequestId"].(string); !strings.HasPrefix(id, "sandbox-") {
			t.Fatalf("sandbox answer not marked: %q", out)
		}
	})
}

func errorsAs(err error, target **errs.Error) bool {
	e, ok := err.(*errs.Error)
	if ok {
		*target = e
	}
	return ok
}
