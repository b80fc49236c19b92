package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/idverify/idverify/shared/faceidapi"
	"os"
	"path/filepath"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/event"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
)

// FuzzHandle runs arbitrary platform payloads through the whole pipeline
// every runtime shares (event decoding, gateway over the real sandbox,
// response encoding). An HTTP-shaped event always gets a JSON response in
// its platform's shape and never an error; a direct invocation gets a JSON
// answer or an *errs.Error whose Failure has a type and a message.
func FuzzHandle(f *testing.F) {
	files, _ := filepath.Glob("../../../events/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Action":"PhoneVerification","IdCard":"110101199003074477","Name":"张三","Phone":"13800138000"}`))
	f.Add([]byte(`{"httpMethod":"POST","path":"/","headers":{"X-TC-Action":"IdCardVerification","X-TC-Version":"2018-03-01","Content-Type":"application/json"},"body":"{}"}`))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"rawPath":"/v1/faceid/GetLiveCode","isBase64Encoded":true,"body":"e30="}`))
	g, err := faceidapi.New(faceidapi.Options{
		Service: &service.Service{Provider: sandbox.New(sandbox.Options{})},
		Mode:    "sandbox",
		Auth:    gateway.SandboxOpen{},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := Handle(context.Background(), g, payload)
		if event.Detect(payload) != event.Direct {
			if err != nil || !json.Valid(out) {
				t.Fatalf("HTTP event answered %q, %v", out, err)
			}
			return
		}
		if err == nil {
			if !json.Valid(out) {
				t.Fatalf("direct answer is not JSON: %q", out)
			}
			return
		}
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Fatalf("untyped failure %T %v", err, err)
		}
		if fl := FailureOf(err); fl.Type == "" || fl.Message == "" || !json.Valid(fl.JSON()) {
			t.Fatalf("failure %+v", fl)
		}
	})
}
