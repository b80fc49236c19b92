package app

import (
	"log/slog"
	"strings"

	"context"
	"encoding/json"
	"github.com/idverify/idverify/shared/errs"
	"net/http"
	"testing"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/ratelimit"
)

// named is a contract that answers with its name on its prefix and its
// actions, so a test sees who got the request.
type named struct {
	name, prefix, actionPrefix string
	actions                    []string
}

func (n named) Name() string { return n.name }
func (n named) Mode() string { return ModeSandbox }
func (n named) Route(r *gateway.Request) (gateway.Op, bool) {
	if n.prefix == "" && (r.Path == "/" || strings.HasPrefix(r.Path, "/v1/faceid/")) || n.prefix != "" && strings.HasPrefix(r.Path, n.prefix) {
		return gateway.Op{Action: n.name, Surface: n.name}, true
	}
	return gateway.Op{}, false
}
func (n named) RouteInvoke(action string, _ map[string]json.RawMessage) (gateway.Op, bool) {
	if action == "" || (n.actionPrefix != "" && strings.HasPrefix(action, n.actionPrefix)) || contains(n.actions, action) || (n.prefix == "" && action == "IdCardVerification") {
		return gateway.Op{Action: n.name, Surface: "invoke"}, true
	}
	return gateway.Op{}, false
}
func (n named) Call(context.Context, *gateway.Call) (*gateway.Answer, error) {
	return &gateway.Answer{Body: []byte(n.name)}, nil
}
func (n named) Render(_ gateway.Op, a *gateway.Answer, e *errs.Error, _ string) *gateway.Response {
	if e != nil {
		return &gateway.Response{Status: e.Kind.HTTPStatus(), Body: []byte(e.Code)}
	}
	return &gateway.Response{Status: 200, Body: a.Body}
}
func (n named) Output(_ gateway.Op, a *gateway.Answer) ([]byte, error) { return a.Body, nil }
func (n named) SandboxTable() gateway.SandboxTable {
	key := n.name
	if n.prefix == "" {
		key = "scenarios"
	}
	return gateway.SandboxTable{Key: key, Table: func() any { return []string{n.name + "-row"} }}
}

func part(name, prefix, actionPrefix string, actions ...string) Part {
	c := named{name, prefix, actionPrefix, actions}
	return Part{Name: name, Prefixes: []string{prefix}, ActionPrefix: actionPrefix, Actions: actions,
		Build: func(context.Context, *Env) (*Built, error) { return &Built{Contract: c}, nil }}
}

func testEnv() *Env {
	return &Env{Getenv: func(string) string { return "" }, Log: slog.New(slog.DiscardHandler)}
}

func TestMuxRoutesByPathAndAction(t *testing.T) {
	h, _, err := BuildAll(context.Background(), testEnv(), part("faceid", "", ""),
		part("faceAdv", "/tech/ai/face/", "", "faceAdv", "faceAdvResult"),
		part("faceprint", "/rpc/2.0/brain/solution/faceprint/", "faceprint/"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/v1/faceid/IdCardVerification": "faceid",
		"/":                             "faceid",
		"/tech/ai/face/faceAdv":         "faceAdv",
		"/rpc/2.0/brain/solution/faceprint/verifyToken/generate": "faceprint",
		"/rpc/2.0/brain/solution/other":                          "InvalidAction",
	} {
		if got := string(h.ServeRequest(context.Background(), &gateway.Request{Method: "POST", Path: path, SourceIP: "127.0.0.1"}).Body); got != want {
			t.Errorf("%s went to %s, want %s", path, got, want)
		}
	}
	for payload, want := range map[string]string{
		`{"Action":"IdCardVerification"}`:          "faceid",
		`{"Action":"faceAdvResult","traceNo":"x"}`: "faceAdv",
		`{"Action":"faceprint/result/simple"}`:     "faceprint",
		`{"IdCard":"1"}`:                           "faceid",
	} {
		if got, err := h.Invoke(context.Background(), []byte(payload)); string(got) != want {
			t.Errorf("invoke %s went to %s (%v), want %s", payload, got, err, want)
		}
	}
	resp := h.ServeRequest(context.Background(), &gateway.Request{Method: http.MethodGet, Path: "/v1/sandbox/scenarios", SourceIP: "127.0.0.1"})
	var doc map[string][]string
	if err := json.Unmarshal(resp.Body, &doc); err != nil {
		t.Fatalf("%s: %v", resp.Body, err)
	}
	if doc["scenarios"][0] != "faceid-row" || doc["faceAdv"][0] != "faceAdv-row" || doc["faceprint"][0] != "faceprint-row" {
		t.Fatalf("merged scenarios: %s", resp.Body)
	}
}

func TestProviderLimits(t *testing.T) {
	for v, ok := range map[string]bool{"": true, "off": true, "IdCardVerification=100, PhoneVerification=5": true,
		"IdCardVerification=0": false, "Nope=3": false, "IdCardVerification": false, "IdCardVerification=x": false} {
		if _, err := parseProviderLimits(v); (err == nil) != ok {
			t.Errorf("%q: %v", v, err)
		}
	}
	l, _ := parseProviderLimits("IdCardVerification=2")
	admit := providerAdmit(ratelimitMemory(), l)
	var refused int
	for range 5 {
		if admit(context.Background(), "IdCardVerification") != nil {
			refused++
		}
	}
	if refused != 3 {
		t.Fatalf("refused %d of 5 at 2/s, want 3", refused)
	}
	off, _ := parseProviderLimits("off")
	admit = providerAdmit(ratelimitMemory(), off)
	for range 100 {
		if err := admit(context.Background(), "IdCardVerification"); err != nil {
			t.Fatal(err)
		}
	}
}

func ratelimitMemory() ratelimit.Limiter { return ratelimit.NewMemory() }

// A provider without credentials in live mode is left out of a
// multi-provider function with a clear answer, never emulated; the first
// (FaceID) part still fails the start.
func TestMuxLeavesOutUnconfiguredProvider(t *testing.T) {
	env := &Env{Getenv: func(k string) string { return map[string]string{"IDV_MODE": "live"}[k] }, Log: slog.New(slog.DiscardHandler)}
	needsKeys := func(ctx context.Context, env *Env) (*Built, error) {
		_, err := ChooseMode(env, false, "set KEYS")
		return nil, err
	}
	h, _, err := BuildAll(context.Background(), env, part("faceid", "", ""),
		Part{Name: "faceAdv", Build: needsKeys, Prefixes: []string{"/tech/ai/face/"}, Actions: []string{"faceAdv"}})
	if err != nil {
		t.Fatal(err)
	}
	resp := h.ServeRequest(context.Background(), &gateway.Request{Method: "POST", Path: "/tech/ai/face/faceAdv"})
	if resp.Status != http.StatusNotImplemented || !strings.Contains(string(resp.Body), "set KEYS") {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"Action":"faceAdv"}`)); errs.As(err).Code != "ProviderNotConfigured" {
		t.Fatalf("invoke: %v", err)
	}
	if _, _, err := BuildAll(context.Background(), env, Part{Name: "faceid", Build: needsKeys}); err == nil {
		t.Fatal("the first part's missing credentials must stop the start")
	}
}
