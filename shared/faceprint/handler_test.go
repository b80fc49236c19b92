package faceprint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/tests/fakes/baidufake"
)

// TestSeedRoundTrip sends each endpoint's example request from the seed
// and has the provider answer the seed's example response: the request
// reaches the provider as sent, and the answer reaches the caller as
// Baidu sent it, byte for byte.
func TestSeedRoundTrip(t *testing.T) {
	for _, ep := range faceprint.Endpoints() {
		t.Run(ep.Path, func(t *testing.T) {
			req, want := readSeed(t, ep.Path, "request"), readSeed(t, ep.Path, "response")
			rec := &recorder{answer: want}
			h, err := faceprint.New(faceprint.Options{Live: rec, Mode: "live"})
			if err != nil {
				t.Fatal(err)
			}
			r := post(t, h, ep.Path, req)
			if r.status != http.StatusOK || !bytes.Equal(r.raw, want) {
				t.Fatalf("answer %d %s, want the seed's %s", r.status, r.raw, want)
			}
			if rec.n() != 1 || rec.calls[0] != ep.Path {
				t.Fatalf("provider calls %v", rec.calls)
			}
			if !reflect.DeepEqual(decodeAny(t, rec.bodies[0]), decodeAny(t, req)) {
				t.Errorf("forwarded %s, want %s", rec.bodies[0], req)
			}
		})
	}
}

// flow drives every endpoint in order through h, completing the H5 flow
// with complete between the upload and the result queries, and checks each
// answer against the seed example's shape.
func flow(t *testing.T, h gateway.Handler, complete func(vt string)) map[string]response {
	t.Helper()
	out := map[string]response{}
	gen := post(t, h, "verifyToken/generate", readSeed(t, "verifyToken/generate", "request"))
	vt, _ := gen.result()["verify_token"].(string)
	if gen.body["success"] != true || vt == "" {
		t.Fatalf("generate: %s", gen.raw)
	}
	out["verifyToken/generate"] = gen
	for _, ep := range faceprint.Endpoints()[1:] {
		if ep.Path == "result/simple" {
			complete(vt)
		}
		var body map[string]any
		_ = json.Unmarshal(readSeed(t, ep.Path, "request"), &body)
		body["verify_token"] = vt
		r := post(t, h, ep.Path, body)
		if r.body["success"] != true {
			t.Errorf("%s: %s", ep.Path, r.raw)
		}
		sameShape(t, ep.Path, decodeAny(t, r.raw), decodeAny(t, readSeed(t, ep.Path, "response")))
		out[ep.Path] = r
	}
	return out
}

func TestEveryEndpointLiveAgainstFake(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	h := liveHandler(t, f)
	got := flow(t, h, func(vt string) {
		if err := f.Complete(vt, baidufake.Pass); err != nil {
			t.Fatal(err)
		}
	})
	for _, ep := range faceprint.Endpoints() {
		if f.Calls(ep.Path) != 1 {
			t.Errorf("%s reached Baidu %d times", ep.Path, f.Calls(ep.Path))
		}
	}
	if got["result/detail"].result()["idcard_confirm"].(map[string]any)["name"] != "张三" {
		t.Errorf("the submitted identity did not reach Baidu: %s", got["result/detail"].raw)
	}
	if mode := got["result/getall"].header.Get("X-Idv-Mode"); mode != "live" {
		t.Errorf("X-Idv-Mode = %q", mode)
	}
}

func TestEveryEndpointInSandbox(t *testing.T) {
	h := sandboxHandler(t, faceprint.NewSandbox(faceprint.SandboxOptions{}))
	got := flow(t, h, func(string) {})
	for ep, r := range got {
		if r.header.Get("X-Idv-Mode") != "sandbox" || !strings.HasPrefix(r.body["log_id"].(string), "sandbox-") {
			t.Errorf("%s: not marked as sandbox: %v %s", ep, r.header, r.raw)
		}
	}
	// Every member of Baidu's examples that a passed flow always has.
	d := got["result/detail"].result()
	if _, ok := d["verify_result"].(map[string]any)["score"]; !ok {
		t.Errorf("detail lacks verify_result.score: %s", got["result/detail"].raw)
	}
	g := got["result/getall"].result()["verify_result"].([]any)[0].(map[string]any)
	if g["is_verify_passed"] != true || g["code"] != "0" {
		t.Errorf("getall: %v", g)
	}
}

// TestFailuresPassThrough: Baidu's own refusals and outcomes reach the
// caller as Baidu sent them.
func TestFailuresPassThrough(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	h := liveHandler(t, f)
	if r := post(t, h, "verifyToken/generate", `{"plan_id":"999"}`); r.code() != 283435 || r.body["success"] != false {
		t.Errorf("unknown plan: %s", r.raw)
	}
	f.FailNext("verifyToken/generate", 17)
	if r := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`); r.code() != 17 || r.message() != "Open api daily request limit reached" {
		t.Errorf("daily limit: %s", r.raw)
	}
	if f.Calls("verifyToken/generate") != 2 {
		t.Errorf("calls = %d: 17 must not be retried", f.Calls("verifyToken/generate"))
	}
	r := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`)
	vt := r.result()["verify_token"].(string)
	if err := f.Complete(vt, baidufake.NotLive); err != nil {
		t.Fatal(err)
	}
	if r := post(t, h, "result/detail", map[string]string{"verify_token": vt}); r.code() != 223120 || r.body["success"] != false {
		t.Errorf("failed verification: %s", r.raw)
	}
	if r := post(t, h, "idcard/submit", map[string]any{"verify_token": vt, "id_name": "张三", "id_no": "110101199003074477"}); r.code() != baidufake.CodeVerifyTokenInvalid {
		t.Errorf("submit after the flow: %s", r.raw)
	}
}

func TestAccessTokenIgnoredAndNeverForwarded(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	h := liveHandler(t, f)
	r := post(t, h, "verifyToken/generate", `{"plan_id":"1","access_token":"24.callers-own"}`, func(req *gateway.Request) {
		req.RawQuery = "access_token=24.callers-own"
	})
	if r.body["success"] != true {
		t.Fatalf("%s", r.raw)
	}
	rec := &recorder{answer: []byte(`{"success":true,"result":null,"log_id":"1"}`)}
	h2, _ := faceprint.New(faceprint.Options{Live: rec})
	post(t, h2, "verifyToken/generate", `{"plan_id":"1","access_token":"24.callers-own"}`)
	if bytes.Contains(rec.bodies[0], []byte("callers-own")) {
		t.Errorf("the caller's access_token was forwarded: %s", rec.bodies[0])
	}
}

type fixedAuth struct {
	caller *gateway.Caller
	err    error
	seen   []string
}

func (a *fixedAuth) Authenticate(_ context.Context, _ *gateway.Request, action string) (*gateway.Caller, error) {
	a.seen = append(a.seen, action)
	return a.caller, a.err
}

func TestCallerAuth(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	remote := func(req *gateway.Request) { req.SourceIP = "203.0.113.9" }
	h := liveHandler(t, f)
	if r := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`, remote); r.code() != 110 || !strings.Contains(r.message(), "only requests from this machine") {
		t.Errorf("unauthenticated: %s", r.raw)
	}
	forbid := &fixedAuth{err: errs.E(errs.Forbidden, "AuthFailure.UnauthorizedOperation", "caller app1 may not call faceprint/result/getall")}
	h = liveHandler(t, f, func(o *faceprint.Options) { o.Auth = forbid })
	if r := post(t, h, "result/getall", `{"verify_token":"x"}`); r.code() != 6 || !strings.Contains(r.message(), "may not call") {
		t.Errorf("forbidden: %s", r.raw)
	}
	// The action names are faceprint/ + the path.
	for _, ep := range faceprint.Endpoints() {
		post(t, h, ep.Path, `{}`)
	}
	want := []string{"faceprint/result/getall", "faceprint/verifyToken/generate", "faceprint/idcard/submit", "faceprint/uploadMatchImage",
		"faceprint/result/simple", "faceprint/result/detail", "faceprint/result/stat", "faceprint/result/media/query", "faceprint/result/getall"}
	if !reflect.DeepEqual(forbid.seen, want) {
		t.Errorf("actions = %v", forbid.seen)
	}
	// A test caller is served by the sandbox even in live mode.
	test := &fixedAuth{caller: &gateway.Caller{ID: "ci", Test: true}}
	h = liveHandler(t, f, func(o *faceprint.Options) { o.Auth = test })
	r := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`)
	if r.header.Get("X-Idv-Mode") != "sandbox" || !strings.HasPrefix(r.result()["verify_token"].(string), "sb") {
		t.Errorf("test caller: %v %s", r.header, r.raw)
	}
	if f.Calls("verifyToken/generate") != 0 || f.Calls("oauth") != 0 {
		t.Errorf("a test caller reached Baidu")
	}
}

func TestRoutes(t *testing.T) {
	h := sandboxHandler(t, nil, func(o *faceprint.Options) { o.Endpoints = []string{"result/detail"} })
	if r := serve(t, h, http.MethodGet, faceprint.Prefix+"result/detail", ""); r.status != http.StatusMethodNotAllowed || r.code() != 3 {
		t.Errorf("GET: %d %s", r.status, r.raw)
	}
	if r := post(t, h, "result/stat", `{"verify_token":"x"}`); r.code() != 3 || !strings.Contains(r.message(), "not served by this function") {
		t.Errorf("other endpoint: %s", r.raw)
	}
	if r := post(t, h, "nope", `{}`); r.code() != 3 {
		t.Errorf("unknown endpoint: %s", r.raw)
	}
	if r := serve(t, h, http.MethodPost, "/v1/faceid/IdCardVerification", `{}`); r.status != 404 || r.code() != 3 {
		t.Errorf("other route: %d %s", r.status, r.raw)
	}
	if r := serve(t, h, http.MethodGet, "/healthz", ""); r.status != 200 || r.body["mode"] != "sandbox" {
		t.Errorf("healthz: %s", r.raw)
	}
	if r := serve(t, h, http.MethodGet, faceprint.ScenariosPath, ""); r.status != 200 || len(r.body["scenarios"].([]any)) != len(faceprint.Scenarios()) {
		t.Errorf("scenarios: %s", r.raw)
	}
	if r := post(t, h, "result/detail", `[1,2]`); r.code() != 283513 {
		t.Errorf("non-object body: %s", r.raw)
	}
	if _, err := faceprint.New(faceprint.Options{Endpoints: []string{"result/nope"}}); err == nil {
		t.Errorf("an unknown endpoint was configured")
	}
}

func TestInvoke(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	h := liveHandler(t, f)
	out, err := h.Invoke(context.Background(), []byte(`{"Action":"faceprint/verifyToken/generate","plan_id":1}`))
	if err != nil || !bytes.Contains(out, []byte(`"verify_token"`)) {
		t.Fatalf("invoke: %s %v", out, err)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"plan_id":1}`)); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "Action") {
		t.Errorf("no Action: %v", err)
	}
	_, err = h.Invoke(context.Background(), []byte(`{"Action":"faceprint/verifyToken/generate","plan_id":"404"}`))
	if e := errs.As(err); e == nil || e.Kind != errs.Invalid || e.Code != "283435" || !strings.Contains(e.Message, "error_code 283435") {
		t.Errorf("unknown plan: %v", err)
	}
	f.FailNext("verifyToken/generate", 18, 18, 18)
	if _, err = h.Invoke(context.Background(), []byte(`{"Action":"faceprint/verifyToken/generate","plan_id":1}`)); errs.KindOf(err) != errs.Throttled {
		t.Errorf("qps: %v", err)
	}
	one := liveHandler(t, f, func(o *faceprint.Options) { o.Endpoints = []string{"faceprint-verify-token-generate"} })
	if out, err := one.Invoke(context.Background(), []byte(`{"plan_id":"1"}`)); err != nil || !bytes.Contains(out, []byte(`"success":true`)) {
		t.Errorf("single endpoint: %s %v", out, err)
	}
	sb := sandboxHandler(t, nil)
	out, err = sb.Invoke(context.Background(), []byte(`{"Action":"faceprint/verifyToken/generate","plan_id":"1"}`))
	if err != nil || !bytes.Contains(out, []byte(`"log_id":"sandbox-`)) {
		t.Errorf("sandbox invoke: %s %v", out, err)
	}
}

func TestLogsCarryNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	f := baidufake.Start(t, baidufake.Options{})
	h := liveHandler(t, f, func(o *faceprint.Options) { o.Logger = log })
	r := post(t, h, "verifyToken/generate", `{"plan_id":"1"}`)
	vt := r.result()["verify_token"].(string)
	post(t, h, "idcard/submit", map[string]any{"verify_token": vt, "id_name": "王小明", "id_no": "110101199003074477"})
	post(t, h, "idcard/submit", map[string]any{"verify_token": vt, "id_name": "王小明", "id_no": "11010119900307447X"})
	for _, s := range []string{"王小明", "110101199003074477", "11010119900307447", baidufake.DefaultSecretKey, "access_token"} {
		if strings.Contains(buf.String(), s) {
			t.Errorf("%q appears in the log:\n%s", s, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"action":"faceprint/idcard/submit"`) || !strings.Contains(buf.String(), `"error_code":"216100"`) {
		t.Errorf("log lacks the request facts:\n%s", buf.String())
	}
}
