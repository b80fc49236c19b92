package faceprint_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/tests/fakes/baidufake"
)

func envOf(kv ...string) *app.Env {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &app.Env{Getenv: func(k string) string { return m[k] }, Log: discard(), Production: strings.EqualFold(m["IDV_ENV"], "production")}
}

func TestBuild(t *testing.T) {
	f := baidufake.Start(t, baidufake.Options{})
	ctx := context.Background()

	b, err := faceprint.Build(ctx, envOf())
	if err != nil {
		t.Fatal(err)
	}
	if r := serve(t, b.Contract.(*faceprint.Handler), "GET", "/healthz", ""); r.body["mode"] != "sandbox" || len(r.body["endpoints"].([]any)) != 8 {
		t.Errorf("no credentials: %s", r.raw)
	}
	if !strings.Contains(b.Banner, "8 Baidu faceprint endpoints") || !strings.Contains(b.Banner, faceprint.ScenariosPath) {
		t.Errorf("banner:\n%s", b.Banner)
	}

	live := []string{faceprint.EnvAPIKey, baidufake.DefaultAPIKey, faceprint.EnvSecretKey, baidufake.DefaultSecretKey, faceprint.EnvBaseURL, f.URL}
	b, err = faceprint.Build(ctx, envOf(live...), "result/detail")
	if err != nil {
		t.Fatal(err)
	}
	if r := serve(t, b.Contract.(*faceprint.Handler), "GET", "/healthz", ""); r.body["mode"] != "live" || r.body["provider"] != "baidu" {
		t.Errorf("credentials: %s", r.raw)
	}
	if r := post(t, b.Contract.(*faceprint.Handler), "verifyToken/generate", `{"plan_id":"1"}`); r.code() != 3 {
		t.Errorf("a one-endpoint function served another: %s", r.raw)
	}
	if r := post(t, b.Contract.(*faceprint.Handler), "result/detail", `{"verify_token":"abc"}`); r.code() != baidufake.CodeVerifyTokenInvalid || f.Calls("result/detail") != 1 {
		t.Errorf("live call: %s", r.raw)
	}

	for _, c := range []struct {
		env  []string
		want string
	}{
		{[]string{"IDV_ENV", "production"}, "refusing to fall back"},
		{append([]string{"IDV_ENV", "production"}, live...), "must be https in production"},
		{[]string{"IDV_MODE", "live", faceprint.EnvAPIKey, "k"}, "no provider credentials"},
		{[]string{faceprint.EnvAPIKey, "k", faceprint.EnvSecretKey, "s", faceprint.EnvBaseURL, "not a url"}, "BAIDU_BASE_URL"},
	} {
		if _, err := faceprint.Build(ctx, envOf(c.env...)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.env, err, c.want)
		}
	}
	if _, err := faceprint.Build(ctx, envOf(), "nope"); err == nil {
		t.Errorf("an unknown endpoint was built")
	}
	if !slices.Contains(app.SecretVars, faceprint.EnvSecretKey) {
		t.Errorf("%s is not in app.SecretVars", faceprint.EnvSecretKey)
	}
}

// TestFunctionsMatchMains: the catalog and the mains generated from it agree.
func TestFunctionsMatchMains(t *testing.T) {
	if len(faceprint.Functions) != 8 {
		t.Fatalf("%d functions", len(faceprint.Functions))
	}
	for _, fn := range faceprint.Functions {
		src, err := os.ReadFile(filepath.Join("..", "..", "functions", fn.Name, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", fn.Name, err)
			continue
		}
		if !strings.Contains(string(src), "func main() { "+fn.Call+" }") {
			t.Errorf("%s/main.go does not just call %s", fn.Name, fn.Call)
		}
		ep, ok := faceprint.Lookup(fn.Name)
		if !ok || fn.Path != ep.Route() || !strings.HasPrefix(fn.Path, "/rpc/2.0/brain/solution/faceprint/") {
			t.Errorf("%s: path %s", fn.Name, fn.Path)
		}
		secret := map[string]bool{}
		for _, e := range fn.Env {
			secret[e.Name] = e.Secret
		}
		// Both halves are kept as references: the API key names the app,
		// and with the secret it makes tokens.
		if !secret[faceprint.EnvSecretKey] || !secret[faceprint.EnvAPIKey] {
			t.Errorf("%s: env %v", fn.Name, fn.Env)
		}
	}
}

// TestEvents: every sample event is a request the functions accept.
func TestEvents(t *testing.T) {
	h := sandboxHandler(t, nil)
	files, _ := filepath.Glob(filepath.Join("..", "..", "events", "faceprint", "*.json"))
	n := 0
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if _, ok := m["Action"]; !ok {
			continue // a platform event, not a direct invocation
		}
		n++
		_, err = h.Invoke(context.Background(), b)
		// The result queries' sample tokens are Baidu's examples, not live
		// sandbox tokens: those may only fail on the token.
		if e := errs.As(err); e != nil && e.Code != "283504" {
			t.Errorf("%s: %v", filepath.Base(file), err)
		}
	}
	if n != 8 {
		t.Errorf("%d direct-invocation events, want 8", n)
	}
}
