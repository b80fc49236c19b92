package sandboxh5

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/idverify/idverify/shared/app"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/tencent"
)

// Part adds the pages to functions/all. They are served when something in
// the function can issue sandbox flow tokens: FaceID or Baidu runs in
// sandbox mode, or IDV_CALLERS has a test caller (always served by the
// sandbox). A fully live deployment without test callers answers 404 on
// them, so nobody can fill its store through them. Tokens the sandbox did
// not issue are refused whatever the mode.
func Part() app.Part {
	return app.Part{Name: "sandboxh5", Pages: Assets(), Build: build}
}

func build(_ context.Context, env *app.Env) (*app.Built, error) {
	served, why := serveDecision(env)
	c := New(Options{Flows: env.SandboxFlows(), Served: served, Why: why})
	b := &app.Built{Contract: c}
	if base := env.SandboxPagesBase(true); served && base != "" {
		b.Banner = fmt.Sprintf("  pages:    %s/detect, /eid, /faceprint (the sandbox's H5 pages; see README \"Sandbox pages\")\n", base)
	}
	return b, nil
}

// serveDecision says whether the pages are served, and why not.
func serveDecision(env *app.Env) (bool, string) {
	tcfg := tencent.ConfigFromEnv(env.Getenv)
	faceID, errF := app.ChooseMode(env, tcfg.SecretID != "" && tcfg.SecretKey != "", "")
	baidu := strings.TrimSpace(env.Getenv(faceprint.EnvAPIKey)) != "" && strings.TrimSpace(env.Getenv(faceprint.EnvSecretKey)) != ""
	bMode, errB := app.ChooseMode(env, baidu, "")
	if (errF == nil && faceID == app.ModeSandbox) || (errB == nil && bMode == app.ModeSandbox) {
		return true, ""
	}
	if hasTestCaller(env.Getenv("IDV_CALLERS")) {
		return true, ""
	}
	return false, "every provider is live and IDV_CALLERS has no test caller"
}

// hasTestCaller reads IDV_CALLERS (already resolved and checked by the
// pipeline's policy) for an entry with "test": true.
func hasTestCaller(raw string) bool {
	var list []struct {
		Test bool `json:"test"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(raw)), &list) != nil {
		return false
	}
	for _, c := range list {
		if c.Test {
			return true
		}
	}
	return false
}
