package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/tests/runtimes"
)

// eventFiles are the sample events every HTTP-triggered platform shape
// sends: each is a POST of the happy-path IdCardVerification request (the
// direct ones carry the request object itself).
func eventFiles(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../events/*.json")
	if err != nil || len(paths) < 8 {
		t.Fatalf("events/: %v (%d files)", err, len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// resultOf digs the business result out of whatever the platform got back:
// a platform HTTP response ({statusCode, body}) or a direct inner object.
func resultOf(t *testing.T, name string, payload []byte) (status int, inner map[string]any) {
	t.Helper()
	var shape struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &shape); err == nil && shape.StatusCode != 0 {
		var env struct{ Response map[string]any }
		if err := json.Unmarshal([]byte(shape.Body), &env); err != nil {
			t.Fatalf("%s: body is not a FaceID envelope: %s", name, shape.Body)
		}
		return shape.StatusCode, env.Response
	}
	if err := json.Unmarshal(payload, &inner); err != nil {
		t.Fatalf("%s: not JSON: %s", name, payload)
	}
	return 0, inner
}

// TestFunctionUnderEveryProtocol drives the real id-card-verification binary
// through the Lambda Runtime API, the SCF Custom Runtime API and the SCF Go1
// gob-RPC protocol with every sample event, and through HTTP (SCF Web
// function and local server).
func TestFunctionUnderEveryProtocol(t *testing.T) {
	bin := runtimes.Build(t, "./functions/id-card-verification")
	events := eventFiles(t)
	open := "IDV_SANDBOX_OPEN=true" // HTTP events come from non-loopback addresses

	targets := map[string]runtimes.Target{
		"lambda":     runtimes.StartLambda(t, bin, open),
		"scf-custom": runtimes.StartSCFCustom(t, bin, open),
		"scf-go1":    runtimes.StartGo1(t, bin, open),
	}
	for proto, target := range targets {
		t.Logf("cold start %s: %v", proto, target.ColdStart())
		for name, ev := range events {
			if name == "scf-timer.json" {
				continue // the flows schedule's event: TestFlowsFunctionOnSCF
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			o, err := target.Invoke(ctx, ev, 5*time.Second)
			cancel()
			if err != nil {
				t.Fatalf("%s %s: %v", proto, name, err)
			}
			if o.Failure != nil {
				t.Fatalf("%s %s: failure %+v", proto, name, o.Failure)
			}
			status, r := resultOf(t, proto+" "+name, o.Payload)
			if r["Result"] != "0" || !strings.HasPrefix(r["RequestId"].(string), "sandbox-") {
				t.Errorf("%s %s: got %v", proto, name, r)
			}
			if strings.Contains(name, "direct") != (status == 0) {
				t.Errorf("%s %s: direct events answer the inner object, HTTP events a platform response (status %d)", proto, name, status)
			}
		}
		// Direct invocation errors carry the workflow error type.
		o, err := target.Invoke(context.Background(), []byte(`{"Name":"张三"}`), 5*time.Second)
		if err != nil || o.Failure == nil || o.Failure.Type != "InvalidInput" || !strings.Contains(o.Failure.Message, "MissingParameter") {
			t.Errorf("%s: error type: %+v %v", proto, o, err)
		}
	}

	for name, h := range map[string]*runtimes.HTTPTarget{
		"scf-web": runtimes.StartWeb(t, bin, open),
		"local":   runtimes.StartLocal(t, bin),
	} {
		t.Logf("cold start %s: %v", name, h.ColdStart())
		resp, err := http.Post(h.URL+"/v1/faceid/IdCardVerification", "application/json",
			bytes.NewReader([]byte(`{"IdCard":"110101199003074477","Name":"张三"}`)))
		if err != nil {
			t.Fatal(err)
		}
		var env struct{ Response map[string]any }
		_ = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if resp.StatusCode != 200 || env.Response["Result"] != "0" {
			t.Errorf("%s: %d %v", name, resp.StatusCode, env.Response)
		}
	}
}

// TestHTTPEventsNeedCallers: without callers (and without the sandbox
// opt-in) a deployed function refuses HTTP events from the internet.
func TestHTTPEventsNeedCallers(t *testing.T) {
	bin := runtimes.Build(t, "./functions/id-card-verification")
	target := runtimes.StartLambda(t, bin)
	o, err := target.Invoke(context.Background(), eventFiles(t)["lambda-http-v2.json"], 5*time.Second)
	if err != nil || o.Failure != nil {
		t.Fatalf("%+v %v", o, err)
	}
	status, r := resultOf(t, "v2", o.Payload)
	if status != 401 || r["Error"].(map[string]any)["Code"] != "AuthFailure.UnauthorizedOperation" {
		t.Fatalf("got %d %v", status, r)
	}
}

// TestAllFunctionServesEveryActionDirectly: the one-function deployment
// answers every action by direct invocation through the Lambda protocol.
func TestAllFunctionServesEveryActionDirectly(t *testing.T) {
	target := runtimes.StartLambda(t, runtimes.Build(t, "./functions/all"))
	call := func(action string, body map[string]any) map[string]any {
		body["Action"] = action
		b, _ := json.Marshal(body)
		delete(body, "Action")
		o, err := target.Invoke(context.Background(), b, 5*time.Second)
		if err != nil || o.Failure != nil {
			t.Fatalf("%s: %+v %v", action, o, err)
		}
		var r map[string]any
		if err := json.Unmarshal(o.Payload, &r); err != nil {
			t.Fatalf("%s: %s", action, o.Payload)
		}
		return r
	}
	for _, a := range faceid.All() {
		r := call(a.Name, requestFor(t, a, call))
		if id, _ := r["RequestId"].(string); !strings.HasPrefix(id, "sandbox-") {
			t.Errorf("%s: %v", a.Name, r)
		}
	}
}

// TestAllFunctionServesItsHandlerOnSCF: serverless.yml deploys functions/all
// as every SCF function, and the handler (passed as _HANDLER) says which
// function it is: that one action is served, no other, and a handler that
// names no function stops the start instead of serving everything.
func TestAllFunctionServesItsHandlerOnSCF(t *testing.T) {
	bin := runtimes.Build(t, "./functions/all")
	target := runtimes.StartSCFCustom(t, bin, "IDV_SANDBOX_OPEN=true", "_HANDLER=id-card-verification")
	invoke := func(body string) *runtimes.Outcome {
		o, err := target.Invoke(context.Background(), []byte(body), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := invoke(`{"IdCard":"110101199003074477","Name":"张三"}`)
	var r map[string]any
	if o.Failure != nil || json.Unmarshal(o.Payload, &r) != nil || r["Result"] != "0" {
		t.Fatalf("id-card-verification by its handler: %+v %s", o.Failure, o.Payload)
	}
	// The HTTP form of another action reaches this function only as a
	// request it does not serve.
	ev := eventFiles(t)["scf-function-url.json"]
	if ev == nil {
		t.Fatal("events/scf-function-url.json is missing")
	}
	other := bytes.Replace(ev, []byte("/v1/faceid/IdCardVerification"), []byte("/v1/faceid/PhoneVerification"), 1)
	if bytes.Equal(other, ev) {
		t.Fatal("events/scf-function-url.json does not call /v1/faceid/IdCardVerification")
	}
	o = invoke(string(other))
	status, inner := resultOf(t, "PhoneVerification on id-card-verification", o.Payload)
	if status != 404 {
		t.Errorf("PhoneVerification sent to the id-card-verification function: %d %v, want 404", status, inner)
	}

	bad := runtimes.StartSCFCustom(t, bin, "IDV_SANDBOX_OPEN=true", "_HANDLER=id-card-verificaton")
	if _, exited := bad.Proc.Wait(10 * time.Second); !exited {
		t.Fatal("a handler naming no function: the process did not exit")
	}
	if bad.Ready() {
		t.Error("a handler naming no function started anyway")
	}
	if out := bad.Proc.Output(); !strings.Contains(out, `"_HANDLER"`) || !strings.Contains(out, "id-card-verificaton") {
		t.Errorf("the start failure does not name _HANDLER and the handler:\n%s", out)
	}
}
